"""Batching of ``mutate`` calls, ``prepare``, failure isolation, stopping and resuming, pending
targets and parallel workers."""

from __future__ import annotations

import os

import pytest
import update_helpers as h
from conftest import Workspace


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


def many(count: int, prefix: str = "f") -> dict[str, str]:
    return {f"{prefix}{i:04d}.txt": f"content {i}" for i in range(count)}


THREE_TARGETS = """
out.export("a", MemTarget(resource="a"), primary_key_fields=["filename"])
out.export("b", MemTarget(resource="b", version=7), primary_key_fields=["filename"])
out.export("c", OtherTarget(resource="c"), primary_key_fields=["filename"])
"""


def test_one_mutate_call_per_kind_with_one_tuple_per_target(ws: Workspace) -> None:
    files = many(10)
    h.write_files(ws, files)
    h.flow_app(ws, THREE_TARGETS)
    h.apply_all(ws)

    run = h.update(ws, batch_rows=4)  # 3 batches
    assert run.result.ok
    calls = h.mutate_calls()
    assert len(calls) == 6
    mem_calls = [c for c in calls if len(c) == 2]
    other_calls = [c for c in calls if len(c) == 1]
    assert len(mem_calls) == len(other_calls) == 3
    for call in mem_calls:
        assert [type(p).__name__ for p, _ in call] == ["Prepared", "Prepared"]
        assert [p.spec.resource for p, _ in call] == ["a", "b"]
    for call in other_calls:
        [(spec, _)] = call
        assert type(spec).__name__ == "OtherTarget"  # no prepare: the spec itself
    assert [len(m) for c in mem_calls for _, m in c] == [4, 4, 4, 4, 2, 2]
    for resource in "abc":
        assert h.store(resource) == h.content_rows(files)

    # prepare ran once per target of this run, and mutate got what it returned.
    prepares = h.calls("prepare")
    assert [spec.resource for (spec,) in prepares] == ["a", "b"]
    numbers = {p.spec.resource: p.number for c in mem_calls for p, _ in c}
    assert len({(p.spec.resource, p.number) for c in mem_calls for p, _ in c}) == 2
    assert numbers["a"] != numbers["b"]
    assert len(run.named("batch.applied")) == 3

    # A new run prepares again, once per target that has something to send.
    h.write_files(ws, {"f0003.txt": "changed"})
    h.update(ws)
    assert [spec.resource for (spec,) in h.calls("prepare")] == ["a", "b"]


def test_target_without_changes_gets_no_tuple_and_no_prepare(ws: Workspace) -> None:
    header = """
    def flagged(text):
        return [{"flag": "!"}] if "!" in text else []
    """
    body = """
    @cocoindex.flow_def(name="Docs")
    def docs_flow(flow_builder, data_scope):
        data_scope["documents"] = flow_builder.add_source(cocoindex.sources.LocalFile(path=SOURCE))
        everything = data_scope.add_collector()
        loud = data_scope.add_collector()
        with data_scope["documents"].row() as doc:
            everything.collect(filename=doc["filename"], content=doc["content"])
            doc["flags"] = doc["content"].transform(flagged)
            with doc["flags"].row() as flag:
                loud.collect(filename=doc["filename"], flag=flag["flag"])
        everything.export("all", MemTarget(resource="all"), primary_key_fields=["filename"])
        loud.export("loud", MemTarget(resource="loud"), primary_key_fields=["filename"])
    """
    h.write_files(ws, {"a.md": "hey!", "b.md": "calm"})
    h.write_app(ws, body, header)
    h.apply_all(ws)
    h.update(ws)
    assert h.store("loud") == {"a.md": {"flag": "!"}}

    h.write_files(ws, {"b.md": "still calm"})
    h.update(ws)
    [call] = h.mutate_calls()
    assert [(p.spec.resource, m) for p, m in call] == [("all", {"b.md": {"content": "still calm"}})]
    assert [spec.resource for (spec,) in h.calls("prepare")] == ["all"]


def test_failing_key_in_a_batch_of_1000(ws: Workspace) -> None:
    files = many(1000)
    h.write_files(ws, files)
    h.flow_app(ws)
    h.apply_all(ws)
    with h.engine_of(ws):
        h.mem().FAIL_KEYS.add("f0517.txt")

    run = h.update(ws)
    assert run.result.errors == 1
    assert not run.result.ok
    target = run.result.targets["Docs.t"]
    assert (target.inserted, target.errors) == (999, 1)
    source = run.result.sources["Docs.documents"]
    assert (source.added, source.errors, source.done, source.total) == (999, 1, 1000, 1000)
    [failure] = run.named("row.failed")
    assert failure["row"] == "f0517.txt"
    assert "cannot write key 'f0517.txt'" in failure["error"]
    assert "MemFailure" in failure["traceback"]
    assert "raise MemFailure" in failure["traceback"]  # the connector's own frame
    expected = h.content_rows(files)
    del expected["f0517.txt"]
    assert h.store() == expected
    # Narrowing down the failure costs a logarithmic number of calls, not one per row.
    assert len(h.mutate_calls()) <= 2 * 11

    # Still failing: only that row is tried again.
    again = h.update(ws)
    assert again.result.errors == 1
    assert set(h.sent()) == {"f0517.txt"}

    h.mem().FAIL_KEYS.clear()
    fixed = h.update(ws)
    assert fixed.result.ok
    assert h.sent() == {"f0517.txt": {"content": "content 517"}}
    assert fixed.result.sources["Docs.documents"].added == 1
    assert h.store() == h.content_rows(files)
    h.update(ws)
    assert h.mutate_calls() == []


def test_failed_deletion_is_retried(ws: Workspace) -> None:
    files = many(5)
    h.write_files(ws, files)
    h.flow_app(ws)
    h.apply_all(ws)
    h.update(ws)

    (ws.source_dir / "f0002.txt").unlink()
    h.mem().FAIL_KEYS.add("f0002.txt")
    run = h.update(ws)
    assert run.result.errors == 1
    assert "f0002.txt" in h.store()

    h.mem().FAIL_KEYS.clear()
    run = h.update(ws)
    assert run.result.ok
    assert h.sent() == {"f0002.txt": None}
    assert "f0002.txt" not in h.store()


def test_failing_prepare_fails_the_targets_rows_without_retrying_per_row(ws: Workspace) -> None:
    files = many(50)
    h.write_files(ws, files)
    h.flow_app(ws, THREE_TARGETS)
    h.apply_all(ws)
    with h.engine_of(ws) as engine:
        kind = next(t.kind for t in engine.targets if t.kind.kind == "MemTarget")

    def failing_prepare(spec: object) -> object:
        h.mem().CALLS.append(("prepare", (spec,)))
        raise RuntimeError("no connection")

    original = kind.methods["prepare"]
    kind.methods["prepare"] = type(original)(failing_prepare, 1)
    try:
        run = h.update(ws, batch_rows=20)
    finally:
        kind.methods["prepare"] = original
    assert run.result.errors == 50
    assert len(h.calls("prepare")) <= 2  # once per target, not once per row or per batch
    assert h.store("c") == h.content_rows(files)  # the other kind is not held back
    failures = run.named("row.failed")
    assert len(failures) == 50
    assert "no connection" in failures[0]["error"]

    run = h.update(ws)
    assert run.result.ok
    assert h.store("a") == h.store("b") == h.store("c") == h.content_rows(files)
    # (the failed rows were not marked done, so "c" got them again: mutate is idempotent)


def test_stopped_run_resumes_to_the_same_target_as_an_unstopped_one(ws: Workspace) -> None:
    files = many(20)
    h.write_files(ws, files)
    h.flow_app(ws)
    h.apply_all(ws)

    run = h.update(ws, batch_rows=3, stop_after_batches=1)
    assert run.result.stopped
    assert not run.result.ok
    assert len(run.named("batch.applied")) == 1
    first = set(h.sent())
    assert len(first) == 3
    assert run.named("run.finished")[0]["stopped"] is True

    resumed = h.update(ws, batch_rows=3)
    assert resumed.result.ok
    assert first.isdisjoint(h.sent())  # nothing applied and marked is sent again
    assert h.store() == h.content_rows(files)

    # An incremental run stopped mid-way, too.
    changed = {f"f{i:04d}.txt": f"new {i}" for i in range(0, 20, 3)}
    h.write_files(ws, changed)
    for i in range(1, 20, 4):
        (ws.source_dir / f"f{i:04d}.txt").unlink(missing_ok=True)
    h.write_files(ws, many(4, prefix="g"))
    expected = {p.name: p.read_text() for p in ws.source_dir.iterdir()}

    stopped = h.update(ws, batch_rows=2, stop_after_batches=2)
    assert stopped.result.stopped
    h.update(ws, batch_rows=2)
    assert h.store() == h.content_rows(expected)
    h.update(ws)
    assert h.mutate_calls() == []


def test_targets_with_pending_setup_are_not_run(ws: Workspace) -> None:
    files = {"a.md": "a", "b.md": "b", "c.md": "c"}
    h.write_files(ws, files)
    exports = """
    out.export("ready", MemTarget(resource="r"), primary_key_fields=["filename"])
    out.export("later", MemTarget(resource="l", version=VERSION), primary_key_fields=["filename"])
    """
    h.flow_app(ws, exports.replace("VERSION", "1"))
    h.apply_all(ws)
    h.update(ws)

    h.flow_app(ws, exports.replace("VERSION", "2"))
    h.write_files(ws, {"a.md": "A"})
    (ws.source_dir / "c.md").unlink()
    run = h.update(ws)
    assert run.result.skipped == ["Docs.later"]
    assert not run.result.ok
    assert run.named("run.started")[0]["skipped"] == ["Docs.later"]
    assert h.sent("r") == {"a.md": {"content": "A"}, "c.md": None}
    assert h.sent("l") == {}
    assert [spec.resource for (spec,) in h.calls("prepare")] == ["r"]

    # Once applied, the skipped target catches up: every row again (partially compatible),
    # and the row deleted meanwhile is deleted there too.
    h.apply_all(ws)
    run = h.update(ws)
    assert run.result.ok
    assert h.sent("r") == {}
    assert h.sent("l") == {"a.md": {"content": "A"}, "b.md": {"content": "b"}, "c.md": None}
    assert h.store("l") == h.store("r") == h.content_rows({"a.md": "A", "b.md": "b"})


WORKER_HEADER = """
@cocoindex.op.function(behavior_version=1)
def render(text, mark):
    mem_connector.CALLS.append(("render", (text,)))
    return {"upper": text.upper() + mark, "words": len(text.split())}
"""


def test_parallel_workers_give_the_same_result_as_one(ws: Workspace) -> None:
    files = many(300)
    h.write_files(ws, files)
    h.flow_app(
        ws,
        rows='doc["rendered"] = doc["content"].transform(render, "!")',
        collect='filename=doc["filename"], upper=doc["rendered"]["upper"], '
        'words=doc["rendered"]["words"]',
        header=WORKER_HEADER,
    )
    h.apply_all(ws)

    parallel = h.update(ws, workers=2, batch_rows=64)
    assert parallel.result.ok, parallel.named("row.failed")
    assert h.calls("render") == []  # evaluated in worker processes
    parallel_calls = [[list(m) for _, m in c] for c in h.mutate_calls()]
    parallel_store = h.store()

    # The same app from scratch in this process.
    for path in ws.state_dir.glob(f"{ws.tracking_file.name}*"):
        path.unlink()
    h.mem().STORE.clear()
    single = h.update(ws, workers=1, batch_rows=64)
    assert single.result.ok
    assert len(h.calls("render")) == 300
    assert [[list(m) for _, m in c] for c in h.mutate_calls()] == parallel_calls
    assert h.store() == parallel_store
    assert parallel_store["f0042.txt"] == {"upper": "CONTENT 42!", "words": 2}
    assert len(parallel_store) == 300


def test_failing_function_in_a_worker_fails_only_its_row(ws: Workspace) -> None:
    files = many(300)
    h.write_files(ws, files)
    header = """
    def check(text):
        if text == "content 123":
            raise ValueError("bad row " + text)
        return len(text)
    """
    h.content_transform_app(ws, "n", "check", header=header)
    h.apply_all(ws)
    run = h.update(ws, workers=2)
    assert run.result.errors == 1
    [failure] = run.named("row.failed")
    assert failure["row"] == "f0123.txt"
    assert "bad row content 123" in failure["error"]
    assert 'raise ValueError("bad row " + text)' in failure["traceback"]
    assert len(h.store()) == 299


def test_app_that_workers_cannot_load_is_evaluated_in_process(ws: Workspace) -> None:
    files = many(300)
    h.write_files(ws, files)
    header = """
    import os

    if os.getpid() != ENGINE_PID:  # a worker process
        open(MARKER, "a").close()
        raise RuntimeError("this app only loads in the main process")
    """
    marker = ws.root / "worker-tried"
    header = header.replace("MARKER", repr(str(marker))).replace("ENGINE_PID", str(os.getpid()))
    h.flow_app(ws, header=header)
    h.apply_all(ws)
    run = h.update(ws, workers=2)
    assert marker.exists()  # a worker did try to load the app
    assert run.result.ok, run.named("row.failed")
    assert h.store() == h.content_rows(files)


def test_batch_bytes_bounds_a_batch(ws: Workspace) -> None:
    files = {f"f{i}.txt": "x" * 100 for i in range(6)}
    h.write_files(ws, files)
    h.flow_app(ws)
    h.apply_all(ws)
    run = h.update(ws, batch_bytes=250)  # a batch closes once it holds 250 bytes: 3 rows
    assert [b["rows"] for b in run.named("batch.applied")] == [3, 3]
    assert [len(m) for [(_, m)] in h.mutate_calls()] == [3, 3]
    assert h.store() == h.content_rows(files)
