"""Row tracking: exactly the target rows that changed are sent (docs/architecture.md, "One
update, step by step")."""

from __future__ import annotations

import os

import pytest
import update_helpers as h
from conftest import Workspace

from cocotui.op import TargetStateCompatibility


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


FILES = {"a.md": "alpha", "b.md": "beta", "sub/c.md": "gamma"}


def exported(ws: Workspace, files: dict[str, str] = FILES, **app: str) -> None:
    """Files written, app written, setup applied, a first full update run."""
    h.write_files(ws, files)
    h.flow_app(ws, **app)
    h.apply_all(ws)
    first = h.update(ws)
    assert first.result.ok, first.named("row.failed")


def test_no_change_rerun_calls_nothing_and_counts_unchanged(ws: Workspace) -> None:
    exported(ws)
    run = h.update(ws)
    assert h.mutate_calls() == []
    assert h.calls("prepare") == []
    source = run.result.sources["Docs.documents"]
    assert (source.listed, source.unchanged, source.done, source.total) == (3, 3, 3, 3)
    assert (source.added, source.updated, source.deleted, source.errors) == (0, 0, 0, 0)
    assert run.result.ok


def test_touched_file_without_content_change_sends_nothing(ws: Workspace) -> None:
    exported(ws)
    path = ws.source_dir / "a.md"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))

    run = h.update(ws)
    assert h.mutate_calls() == []
    assert run.result.sources["Docs.documents"].unchanged == 3
    # The new stamp was recorded: a further run has nothing to look at either.
    again = h.update(ws)
    assert h.mutate_calls() == []
    assert again.named("source.listed")[0]["to_process"] == 0


def test_partial_change_upserts_changed_and_deletes_gone(ws: Workspace) -> None:
    exported(ws)
    h.write_files(ws, {"b.md": "BETA", "d.md": "delta"})
    (ws.source_dir / "sub" / "c.md").unlink()

    run = h.update(ws)
    [call] = h.mutate_calls()
    [(_, mutations)] = call
    assert mutations == {
        "b.md": {"content": "BETA"},
        "d.md": {"content": "delta"},
        "sub/c.md": None,
    }
    source = run.result.sources["Docs.documents"]
    assert (source.added, source.updated, source.deleted, source.unchanged) == (1, 1, 1, 1)
    target = run.result.targets["Docs.t"]
    assert (target.inserted, target.updated, target.deleted) == (1, 1, 1)
    assert h.store() == h.content_rows({"a.md": "alpha", "b.md": "BETA", "d.md": "delta"})


CHUNKS = """
def chunks(text):
    return [{"index": i, "text": part} for i, part in enumerate(text.split("|"))]
"""


def chunk_app(ws: Workspace, files: dict[str, str]) -> None:
    h.write_files(ws, files)
    body = """
    @cocoindex.flow_def(name="Docs")
    def docs_flow(flow_builder, data_scope):
        data_scope["documents"] = flow_builder.add_source(cocoindex.sources.LocalFile(path=SOURCE))
        out = data_scope.add_collector()
        with data_scope["documents"].row() as doc:
            doc["chunks"] = doc["content"].transform(chunks)
            with doc["chunks"].row() as chunk:
                out.collect(filename=doc["filename"], index=chunk["index"], text=chunk["text"])
        out.export("t", MemTarget(resource="a"), primary_key_fields=["filename", "index"])
    """
    h.write_app(ws, body, CHUNKS)
    h.apply_all(ws)
    assert h.update(ws).result.ok


def test_changed_row_sends_only_changed_keys_and_deletes_keys_no_longer_produced(
    ws: Workspace,
) -> None:
    chunk_app(ws, {"a.md": "x|y|z", "b.md": "w"})
    h.write_files(ws, {"a.md": "x|Y"})

    run = h.update(ws)
    assert h.sent() == {("a.md", 1): {"text": "Y"}, ("a.md", 2): None}
    target = run.result.targets["Docs.t"]
    assert (target.inserted, target.updated, target.deleted, target.unchanged) == (0, 1, 1, 1)
    assert h.store() == {
        ("a.md", 0): {"text": "x"},
        ("a.md", 1): {"text": "Y"},
        ("b.md", 0): {"text": "w"},
    }


def test_deleted_file_deletes_every_key_it_produced(ws: Workspace) -> None:
    chunk_app(ws, {"a.md": "x|y|z", "b.md": "w"})
    (ws.source_dir / "a.md").unlink()

    run = h.update(ws)
    assert h.sent() == {("a.md", 0): None, ("a.md", 1): None, ("a.md", 2): None}
    assert run.result.sources["Docs.documents"].deleted == 1
    assert run.result.targets["Docs.t"].deleted == 3
    assert h.store() == {("b.md", 0): {"text": "w"}}
    # Nothing of it is left in tracking: a later run sends nothing more.
    h.update(ws)
    assert h.mutate_calls() == []


TITLE_HEADER = """
def title(text):
    return text.split("\\n")[0]
"""


def title_app(ws: Workspace, files: dict[str, str]) -> None:
    h.write_files(ws, files)
    h.flow_app(
        ws,
        'out.export("t", MemTarget(resource="a"), primary_key_fields=["title"])',
        rows='doc["title"] = doc["content"].transform(title)',
        collect='title=doc["title"], source=doc["filename"].transform(len)',
        header=TITLE_HEADER,
    )
    h.apply_all(ws)


@pytest.mark.parametrize("batch_rows", [1, 100])
def test_key_shared_by_two_rows_is_kept_while_a_producer_remains(
    ws: Workspace, batch_rows: int
) -> None:
    title_app(ws, {"a.md": "same\n1", "bb.md": "same\n2", "ccc.md": "own"})
    run = h.update(ws, batch_rows=batch_rows)
    assert run.result.ok
    duplicates = run.named("key.duplicate")
    assert len(duplicates) == 1
    assert duplicates[0]["target"] == "Docs.t"
    assert "same" in duplicates[0]["key"]
    assert set(h.store()) == {"same", "own"}

    # One producer goes away: the key stays.
    (ws.source_dir / "a.md").unlink()
    run = h.update(ws, batch_rows=batch_rows)
    assert None not in h.sent().values()
    assert "same" in h.store()
    assert run.named("key.duplicate") == []

    # The other producer now makes another key: the shared one has no producer left.
    h.write_files(ws, {"bb.md": "renamed\n2"})
    h.update(ws, batch_rows=batch_rows)
    assert h.sent() == {"same": None, "renamed": {"source": 5}}
    assert set(h.store()) == {"renamed", "own"}


def test_key_shared_by_rows_changing_in_one_batch(ws: Workspace) -> None:
    title_app(ws, {"a.md": "one", "bb.md": "two"})
    h.update(ws)
    # a takes over b's key while b moves elsewhere, in the same batch.
    h.write_files(ws, {"a.md": "two", "bb.md": "three"})
    run = h.update(ws)
    assert set(h.store()) == {"two", "three"}
    assert h.sent()["one"] is None
    assert "two" in h.sent() and h.sent()["two"] is not None
    assert run.named("key.duplicate") == []


BEHAVIOR_HEADER = """
@cocoindex.op.function(behavior_version=VERSION)
def render(text):
    mem_connector.CALLS.append(("render", (text,)))
    return text.upper() if OUTPUT_CHANGED and text.startswith("b") else text
"""


def behavior_app(ws: Workspace, version: int, changed: bool) -> None:
    header = BEHAVIOR_HEADER.replace("VERSION", str(version)).replace(
        "OUTPUT_CHANGED", str(changed)
    )
    h.content_transform_app(ws, "html", "render", header=header)


def test_behavior_version_bump_reevaluates_but_sends_only_differences(ws: Workspace) -> None:
    h.write_files(ws, FILES)
    behavior_app(ws, 1, changed=False)
    h.apply_all(ws)
    assert h.update(ws).result.ok

    # Same version: nothing evaluated.
    h.update(ws)
    assert h.calls("render") == []

    # Bumped, same output: every row evaluated again, nothing sent.
    behavior_app(ws, 2, changed=False)
    run = h.update(ws)
    assert run.result.skipped == []  # not a setup change
    assert len(h.calls("render")) == 3
    assert h.mutate_calls() == []
    assert run.result.sources["Docs.documents"].unchanged == 3
    assert run.result.targets["Docs.t"].unchanged == 3

    # Bumped, output changed for one row: only that one is sent.
    behavior_app(ws, 3, changed=True)
    run = h.update(ws)
    assert len(h.calls("render")) == 3
    assert h.sent() == {"b.md": {"html": "BETA"}}
    assert run.result.sources["Docs.documents"].updated == 1
    assert run.result.sources["Docs.documents"].unchanged == 2


def test_reexport_upserts_everything(ws: Workspace) -> None:
    exported(ws)
    run = h.update(ws, reexport=True)
    assert h.sent() == h.content_rows(FILES)
    assert run.result.targets["Docs.t"].updated == 3
    # And it does not change what a normal run sees afterwards.
    h.update(ws)
    assert h.mutate_calls() == []


# -- setup changes and the rows already exported (docs/architecture.md) ------------------------


def test_partially_compatible_setup_change_resends_every_row_without_deletes(
    ws: Workspace,
) -> None:
    exported(ws)
    h.flow_app(
        ws, 'out.export("t", MemTarget(resource="a", version=2), primary_key_fields=["filename"])'
    )
    pending = h.update(ws)
    assert pending.result.skipped == ["Docs.t"]
    assert h.mutate_calls() == []

    with h.engine_of(ws) as engine:
        plan = engine.plan()
        [change] = plan.pending
        assert change.compatibility is TargetStateCompatibility.PARTIALLY_COMPATIBLE
        engine.apply(plan)

    run = h.update(ws)
    [call] = h.mutate_calls()
    [(prepared, mutations)] = call
    assert h.spec_of(prepared).version == 2
    assert mutations == h.content_rows(FILES)
    assert run.result.targets["Docs.t"].updated == 3
    # Then back to normal.
    h.update(ws)
    assert h.mutate_calls() == []


def compat_app(ws: Workspace, version: int, resource: str = "a") -> None:
    h.flow_app(
        ws,
        f'out.export("t", CompatTarget(resource={resource!r}, version={version}), '
        'primary_key_fields=["filename"])',
    )


def apply_with_verdict(ws: Workspace, verdict: TargetStateCompatibility) -> None:
    with h.engine_of(ws) as engine:
        h.mem().COMPAT = verdict
        plan = engine.plan()
        [change] = plan.pending
        assert change.compatibility is verdict
        engine.apply(plan)


def test_compatible_setup_change_sends_only_differences(ws: Workspace) -> None:
    h.write_files(ws, FILES)
    compat_app(ws, 1)
    h.apply_all(ws)
    assert h.update(ws).result.ok

    compat_app(ws, 2)
    apply_with_verdict(ws, TargetStateCompatibility.COMPATIBLE)
    h.write_files(ws, {"a.md": "ALPHA"})
    run = h.update(ws)
    [call] = h.mutate_calls()
    [(spec, mutations)] = call
    assert spec.version == 2
    assert mutations == {"a.md": {"content": "ALPHA"}}
    assert run.result.targets["Docs.t"].updated == 1


def test_not_compatible_setup_change_sends_every_row_as_new(ws: Workspace) -> None:
    h.write_files(ws, FILES)
    compat_app(ws, 1)
    h.apply_all(ws)
    assert h.update(ws).result.ok

    compat_app(ws, 2)
    apply_with_verdict(ws, TargetStateCompatibility.NOT_COMPATIBLE)
    assert h.store() == {}  # the connector cleared its data
    h.write_files(ws, {"a.md": "ALPHA"})
    (ws.source_dir / "b.md").unlink()

    run = h.update(ws)
    assert h.sent() == {"a.md": {"content": "ALPHA"}, "sub/c.md": {"content": "gamma"}}
    target = run.result.targets["Docs.t"]
    assert (target.inserted, target.updated, target.deleted) == (2, 0, 0)
    assert h.store() == h.content_rows({"a.md": "ALPHA", "sub/c.md": "gamma"})


def two_target_app(ws: Workspace, with_b: bool) -> None:
    exports = 'out.export("a", MemTarget(resource="a"), primary_key_fields=["filename"])'
    if with_b:
        exports += '\nout.export("b", MemTarget(resource="b"), primary_key_fields=["filename"])'
    h.flow_app(ws, exports)


def test_recreated_target_gets_every_row_and_its_sibling_nothing(ws: Workspace) -> None:
    h.write_files(ws, FILES)
    two_target_app(ws, with_b=True)
    h.apply_all(ws)
    assert h.update(ws).result.ok

    two_target_app(ws, with_b=False)
    h.apply_all(ws)  # drops b
    assert "b" not in h.mem().STORE
    h.update(ws)
    assert h.mutate_calls() == []

    two_target_app(ws, with_b=True)
    h.apply_all(ws)  # creates b again
    run = h.update(ws)
    [call] = h.mutate_calls()
    [(prepared, mutations)] = call
    assert h.spec_of(prepared).resource == "b"
    assert mutations == h.content_rows(FILES)
    assert run.result.targets["Docs.b"].inserted == 3


def test_persistent_key_change_exports_everything_to_the_new_target(ws: Workspace) -> None:
    exported(ws)
    h.flow_app(ws, 'out.export("t", MemTarget(resource="z"), primary_key_fields=["filename"])')
    h.apply_all(ws)
    run = h.update(ws)
    assert h.sent("z") == h.content_rows(FILES)
    assert h.sent("a") == {}
    assert run.result.targets["Docs.t"].inserted == 3

    # And back: "a" was dropped, so it is re-created and filled again.
    h.flow_app(ws)
    h.apply_all(ws)
    h.update(ws)
    assert h.sent("a") == h.content_rows(FILES)
    assert h.store("a") == h.content_rows(FILES)


def test_primary_key_change_replaces_rows(ws: Workspace) -> None:
    exported(ws)
    h.flow_app(
        ws,
        'out.export("t", MemTarget(resource="a"), primary_key_fields=["content"])',
        collect='content=doc["content"], filename=doc["filename"]',
    )
    with h.engine_of(ws) as engine:
        plan = engine.plan()
        assert plan.pending[0].compatibility is TargetStateCompatibility.NOT_COMPATIBLE
        engine.apply(plan)
    run = h.update(ws)
    assert h.sent() == {
        "alpha": {"filename": "a.md"},
        "beta": {"filename": "b.md"},
        "gamma": {"filename": "sub/c.md"},
    }
    assert run.result.targets["Docs.t"].inserted == 3


def test_target_dropped_and_recreated_between_two_updates_gets_every_row(ws: Workspace) -> None:
    h.write_files(ws, FILES)
    two_target_app(ws, with_b=True)
    h.apply_all(ws)
    assert h.update(ws).result.ok

    two_target_app(ws, with_b=False)
    h.apply_all(ws)  # drops b (the connector clears it)
    two_target_app(ws, with_b=True)
    h.apply_all(ws)  # creates it again, with no update in between
    run = h.update(ws)
    assert h.sent("b") == h.content_rows(FILES)
    assert h.sent("a") == {}
    assert run.result.targets["Docs.b"].inserted == 3
    assert h.store("b") == h.content_rows(FILES)


@pytest.mark.parametrize("batch_rows", [1, 100])
def test_shared_key_takes_the_remaining_producers_value(ws: Workspace, batch_rows: int) -> None:
    """The producer whose value the target holds goes away: the other producer's value is
    sent, not left stale (its row is evaluated again in the same run)."""
    title_app(ws, {"a.md": "same\n1", "bb.md": "same\n2"})
    h.update(ws, batch_rows=batch_rows)
    assert h.store()["same"] == {"source": 5}  # bb.md is processed last: its value won

    (ws.source_dir / "bb.md").unlink()
    run = h.update(ws, batch_rows=batch_rows)
    assert run.result.ok
    assert h.store() == {"same": {"source": 4}}
    assert h.sent() == {"same": {"source": 4}}


def test_shared_key_resent_from_a_producer_in_the_same_batch(ws: Workspace) -> None:
    title_app(ws, {"a.md": "same\n1", "bb.md": "same\n2"})
    h.update(ws)
    # a.md changes without changing its value of the key; bb.md, whose value won, goes.
    h.write_files(ws, {"a.md": "same\n1 edited"})
    (ws.source_dir / "bb.md").unlink()
    run = h.update(ws)
    assert run.result.ok
    assert h.store() == {"same": {"source": 4}}
