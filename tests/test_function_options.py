"""``@op.function`` options (issue 10, item 6): ``cache=True`` results kept across runs per source
row, ``behavior_version`` invalidating them, ``gpu``, ``batching`` and ``arg_relationship``."""

from __future__ import annotations

import os
import pickle
import sqlite3

import pytest
import update_helpers as h
from conftest import Workspace

from cocotui import op
from cocotui.engine import workers
from cocotui.flow import builder


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


CACHED_HEADER = """
@cocoindex.op.function(behavior_version=SPLIT_VERSION)
def chunks(text):
    return [{"index": i, "text": part} for i, part in enumerate(text.split("|"))]

@cocoindex.op.function(cache=True, behavior_version=EMBED_VERSION)
def embed(text):
    mem_connector.CALLS.append(("embed", (text,)))
    return [len(text), text.upper()]
"""

CACHED_FLOW = """
@cocoindex.flow_def(name="Docs")
def docs_flow(flow_builder, data_scope):
    data_scope["documents"] = flow_builder.add_source(cocoindex.sources.LocalFile(path=SOURCE))
    out = data_scope.add_collector()
    with data_scope["documents"].row() as doc:
        doc["chunks"] = doc["content"].transform(chunks)
        with doc["chunks"].row() as chunk:
            chunk["vector"] = chunk["text"].transform(embed)
            out.collect(filename=doc["filename"], index=chunk["index"], vector=chunk["vector"])
    out.export("t", MemTarget(resource="a"), primary_key_fields=["filename", "index"])
"""


def cached_app(ws: Workspace, *, split_version: int = 1, embed_version: int = 1) -> None:
    header = CACHED_HEADER.replace("SPLIT_VERSION", str(split_version)).replace(
        "EMBED_VERSION", str(embed_version)
    )
    h.write_app(ws, CACHED_FLOW, header)


def embedded() -> list[str]:
    return sorted(args[0] for args in h.calls("embed"))


def cached_entries(ws: Workspace) -> dict[str, int]:
    """Per source row, how many results the function cache holds."""
    db = sqlite3.connect(ws.tracking_file)
    try:
        rows = db.execute("SELECT row_key, entries FROM function_cache").fetchall()
    finally:
        db.close()
    return {key: len(pickle.loads(blob)) for key, blob in rows}


def started(ws: Workspace, files: dict[str, str]) -> None:
    h.write_files(ws, files)
    cached_app(ws)
    h.apply_all(ws)
    first = h.update(ws)
    assert first.result.ok, first.named("row.failed")
    assert embedded() == sorted(p for text in files.values() for p in text.split("|"))


def test_cached_results_are_reused_when_the_row_changes_elsewhere(ws: Workspace) -> None:
    started(ws, {"a.md": "x|y|z", "b.md": "w"})
    h.write_files(ws, {"a.md": "x|qq|z"})

    run = h.update(ws)
    assert embedded() == ["qq"]  # "x" and "z" came from the cache of a previous run
    assert h.sent() == {("a.md", 1): {"vector": [2, "QQ"]}}
    assert run.result.ok


def test_cached_results_survive_a_reevaluation_caused_by_another_function(
    ws: Workspace,
) -> None:
    started(ws, {"a.md": "x|y", "b.md": "w"})
    cached_app(ws, split_version=2)  # every row is evaluated again...

    run = h.update(ws)
    assert embedded() == []  # ...but the cached function is not called again
    assert h.mutate_calls() == []
    assert run.result.sources["Docs.documents"].unchanged == 2


def test_behavior_version_change_invalidates_cached_results(ws: Workspace) -> None:
    started(ws, {"a.md": "x|y", "b.md": "w"})
    cached_app(ws, embed_version=2)

    h.update(ws)
    assert embedded() == ["w", "x", "y"]
    # The new results are cached in turn.
    cached_app(ws, embed_version=2, split_version=2)
    h.update(ws)
    assert embedded() == []


def test_cache_keeps_only_what_the_latest_evaluation_used(ws: Workspace) -> None:
    started(ws, {"a.md": "x|y|z", "b.md": "w"})
    assert cached_entries(ws) == {"a.md": 3, "b.md": 1}

    h.write_files(ws, {"a.md": "q"})
    h.update(ws)
    assert cached_entries(ws) == {"a.md": 1, "b.md": 1}  # x, y and z are evicted

    (ws.source_dir / "b.md").unlink()
    h.update(ws)
    assert cached_entries(ws) == {"a.md": 1}  # a deleted row's results go with it


def test_removing_cache_from_the_function_empties_the_cache(ws: Workspace) -> None:
    started(ws, {"a.md": "x", "b.md": "w"})
    h.write_app(
        ws,
        CACHED_FLOW,
        CACHED_HEADER.replace("cache=True, ", "")
        .replace("SPLIT_VERSION", "1")
        .replace("EMBED_VERSION", "2"),
    )
    h.update(ws)
    assert embedded() == ["w", "x"]
    assert cached_entries(ws) == {}


def test_cached_results_are_used_by_worker_processes(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workers, "MIN_ROWS_FOR_WORKERS", 1)
    log = ws.root / "embed.log"
    header = CACHED_HEADER.replace(
        'mem_connector.CALLS.append(("embed", (text,)))',
        f"open({str(log)!r}, 'a').write(text + '\\n')",
    )
    h.write_files(ws, {"a.md": "x|y", "b.md": "w"})
    h.write_app(ws, CACHED_FLOW, header.replace("SPLIT_VERSION", "1").replace("EMBED_VERSION", "1"))
    h.apply_all(ws)
    assert h.update(ws, workers=2).result.ok
    assert sorted(log.read_text().split()) == ["w", "x", "y"]

    log.unlink()
    h.write_app(ws, CACHED_FLOW, header.replace("SPLIT_VERSION", "2").replace("EMBED_VERSION", "1"))
    run = h.update(ws, workers=2)
    assert run.result.ok
    assert not log.exists()  # every row re-evaluated in a worker, from the cache


def test_gpu_function_rows_are_evaluated_in_the_engine_process(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workers, "MIN_ROWS_FOR_WORKERS", 1)
    header = """
    import os

    @cocoindex.op.function(gpu=True)
    def on_gpu(text):
        mem_connector.CALLS.append(("on_gpu", (os.getpid(),)))
        return text.upper()
    """
    h.write_files(ws, {f"f{i}.md": f"text {i}" for i in range(40)})
    h.content_transform_app(ws, "upper", "on_gpu", header=header)
    h.apply_all(ws)
    run = h.update(ws, workers=2)
    assert run.result.ok
    assert [pid for (pid,) in h.calls("on_gpu")] == [os.getpid()] * 40
    assert h.store()["f7.md"] == {"upper": "TEXT 7"}


def test_batching_function_is_called_with_lists(ws: Workspace) -> None:
    header = """
    @cocoindex.op.function(batching=True, max_batch_size=8)
    def shout(texts: list[str]) -> list[str]:
        mem_connector.CALLS.append(("shout", (texts,)))
        return [t.upper() for t in texts]
    """
    h.write_files(ws, {"a.md": "alpha", "b.md": "beta"})
    h.content_transform_app(ws, "loud", "shout", header=header)
    h.apply_all(ws)
    assert h.update(ws).result.ok
    assert h.store() == {"a.md": {"loud": "ALPHA"}, "b.md": {"loud": "BETA"}}
    assert [sorted(texts) for (texts,) in h.calls("shout")] == [["alpha", "beta"]]  # both rows


def test_options_are_recorded() -> None:
    @op.function(
        behavior_version=3,
        cache=True,
        gpu=True,
        arg_relationship=(op.ArgRelationship.CHUNKS_BASE_TEXT, "text"),
    )
    def split(text: str) -> list[str]:
        return text.split()

    info = op.function_info(split)
    assert (info.behavior_version, info.cache, info.gpu) == (3, True, True)
    assert info.arg_relationship == (op.ArgRelationship.CHUNKS_BASE_TEXT, "text")
    assert op.ArgRelationship.EMBEDDING_ORIGIN_TEXT.value == "cocoindex.io/embedding_origin_text"
    assert split("a b") == ["a", "b"]  # the function itself is unchanged


def test_unknown_option_is_an_error_naming_it() -> None:
    with pytest.raises(TypeError, match=r"unknown option.*cahce"):
        op.function(cahce=True)


def test_malformed_arg_relationship_is_an_error() -> None:
    with pytest.raises(TypeError, match="arg_relationship must be"):
        op.function(arg_relationship=("chunks", "text"))


def test_none_argument_skips_a_function_unless_its_parameter_is_optional(ws: Workspace) -> None:
    header = """
    def maybe(text):
        return None if text == "none" else text

    def strict(value: str, suffix):
        mem_connector.CALLS.append(("strict", (value,)))
        return value + suffix

    def lenient(value: str | None) -> str:
        return "missing" if value is None else value
    """
    h.write_files(ws, {"a.md": "here", "b.md": "none"})
    h.flow_app(
        ws,
        rows='doc["maybe"] = doc["content"].transform(maybe)\n'
        'doc["strict"] = doc["maybe"].transform(strict, "!")\n'
        'doc["lenient"] = doc["maybe"].transform(lenient)',
        collect='filename=doc["filename"], strict=doc["strict"], lenient=doc["lenient"]',
        header=header,
    )
    h.apply_all(ws)
    assert h.update(ws).result.ok
    assert h.store() == {
        "a.md": {"strict": "here!", "lenient": "here"},
        "b.md": {"strict": None, "lenient": "missing"},
    }
    assert h.calls("strict") == [("here",)]  # never called with None


TWO_SOURCES = """
@cocoindex.op.function(behavior_version=VERSION)
def render(text):
    mem_connector.CALLS.append(("render", (text,)))
    return text.upper()

def plain(text):
    mem_connector.CALLS.append(("plain", (text,)))
    return text

@cocoindex.flow_def(name="Docs")
def docs_flow(flow_builder, data_scope):
    data_scope["md"] = flow_builder.add_source(
        cocoindex.sources.LocalFile(path=SOURCE, included_patterns=["*.md"]))
    data_scope["txt"] = flow_builder.add_source(
        cocoindex.sources.LocalFile(path=SOURCE, included_patterns=["*.txt"]))
    out = data_scope.add_collector()
    with data_scope["md"].row() as doc:
        out.collect(filename=doc["filename"], text=doc["content"].transform(render))
    with data_scope["txt"].row() as doc:
        out.collect(filename=doc["filename"], text=doc["content"].transform(plain))
    out.export("t", MemTarget(resource="a"), primary_key_fields=["filename"])
"""


def test_behavior_version_change_reevaluates_only_rows_going_through_the_function(
    ws: Workspace,
) -> None:
    h.write_files(ws, {"a.md": "alpha", "b.txt": "beta"})
    h.write_app(ws, TWO_SOURCES.replace("VERSION", "1"))
    h.apply_all(ws)
    assert h.update(ws).result.ok

    h.write_app(ws, TWO_SOURCES.replace("VERSION", "2"))
    run = h.update(ws)
    assert h.calls("render") == [("alpha",)]
    assert h.calls("plain") == []  # the txt rows do not depend on render
    listed = {e["source"]: e["to_process"] for e in run.named("source.listed")}
    assert listed == {"Docs.md": 1, "Docs.txt": 0}


def test_dropping_the_flow_s_last_target_drops_its_cached_results(ws: Workspace) -> None:
    started(ws, {"a.md": "x"})
    assert cached_entries(ws) == {"a.md": 1}
    other = CACHED_FLOW.replace('"Docs"', '"Other"').replace('resource="a"', 'resource="b"')
    h.write_app(
        ws, other, CACHED_HEADER.replace("SPLIT_VERSION", "1").replace("EMBED_VERSION", "1")
    )
    builder._defined.clear()  # as in a new process: this one remembers the flows it loaded
    h.apply_all(ws)  # drops Docs.t, the last target of the flow Docs
    assert cached_entries(ws) == {}
