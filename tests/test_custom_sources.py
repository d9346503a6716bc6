"""Custom sources (``op.source_connector``, as CocoIndex v0 defines them) feed flows like
``LocalFile`` does: incrementally, by ordinal or content version, with deletions detected
(issue 10, item 6)."""

from __future__ import annotations

import json
import textwrap
from typing import Any, NamedTuple

import pytest
import update_helpers as h
from conftest import Workspace

from cocotui import op
from cocotui.engine import workers
from cocotui.flow.loader import AppLoadError
from cocotui.source_connector import SourceConnectorError


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


# The "remote system": a JSON file of threads {id: {"version", "title", "comments", ...}}.
SOURCE_HEADER = """
import json
import os
from cocoindex_op_names import *

DATA = os.path.join(SOURCE, "threads.json")

class ThreadKey(NamedTuple):
    thread_id: str

@dataclasses.dataclass
class Comment:
    id: str
    text: str

@dataclasses.dataclass
class Thread:
    title: str
    comments: list[Comment]

class Threads(cocoindex.op.SourceSpec):
    max_results: int = 100

def load():
    with open(DATA) as f:
        return json.load(f)

@cocoindex.op.source_connector(spec_cls=Threads, key_type=ThreadKey, value_type=Thread)
class ThreadsConnector:
    def __init__(self, spec):
        self.spec = spec

    @staticmethod
    def create(spec):
        mem_connector.CALLS.append(("create", (spec.max_results,)))
        return ThreadsConnector(spec)

    def list(self, options):
        assert options.include_ordinal
        for thread_id, item in sorted(load().items())[: self.spec.max_results]:
            yield PartialSourceRow(
                key=ThreadKey(thread_id),
                data=PartialSourceRowData(ordinal=VERSION_FIELD),
            )

    def get_value(self, key):
        mem_connector.CALLS.append(("get_value", (key,)))
        item = load().get(key.thread_id)
        if item is None or item.get("vanished"):
            return PartialSourceRowData(value=NON_EXISTENCE)
        if item.get("broken"):
            raise ConnectionError("cannot fetch " + key.thread_id)
        comments = [Comment(c["id"], c["text"]) for c in item["comments"]]
        return PartialSourceRowData(value=Thread(item["title"], comments))

    def provides_ordinal(self):
        return True
"""

THREADS_FLOW = """
@cocoindex.flow_def(name="Threads")
def threads_flow(flow_builder, data_scope):
    data_scope["threads"] = flow_builder.add_source(Threads(SPEC_ARGS))
    messages = data_scope.add_collector()
    with data_scope["threads"].row() as thread:
        messages.collect(id=thread["thread_id"], text=thread["title"])
        with thread["comments"].row() as comment:
            messages.collect(id=comment["id"], text=comment["text"])
    messages.export("t", MemTarget(resource="a"), primary_key_fields=["id"])
"""

NAMES = "from cocotui.op import NON_EXISTENCE, NO_ORDINAL, PartialSourceRow, PartialSourceRowData\n"


def thread_app(
    ws: Workspace,
    *,
    header: str = SOURCE_HEADER,
    version: str = 'item["version"]',
    spec_args: str = "",
) -> None:
    (ws.root / "cocoindex_op_names.py").write_text(NAMES)
    header = header.replace("VERSION_FIELD", version)
    h.write_app(ws, THREADS_FLOW.replace("SPEC_ARGS", spec_args), header)


def write_threads(ws: Workspace, threads: dict[str, dict[str, Any]]) -> None:
    (ws.source_dir / "threads.json").write_text(json.dumps(threads))


def thread(version: int, title: str, *comments: str, **flags: bool) -> dict[str, Any]:
    return {
        "version": version,
        "title": title,
        "comments": [{"id": c.split(":")[0], "text": c.split(":")[1]} for c in comments],
        **flags,
    }


THREADS = {
    "t1": thread(1, "first", "c1:hello", "c2:world"),
    "t2": thread(1, "second"),
}


def started(ws: Workspace, threads: dict[str, dict[str, Any]] = THREADS, **app: str) -> None:
    write_threads(ws, threads)
    thread_app(ws, **app)
    h.apply_all(ws)
    run = h.update(ws)
    assert run.result.ok, run.named("row.failed")


def fetched() -> list[str]:
    return sorted(str(key[0]) for (key,) in h.calls("get_value"))


def test_rows_have_key_and_value_fields_and_nested_tables(ws: Workspace) -> None:
    started(ws)
    assert h.store() == {
        "t1": {"text": "first"},
        "c1": {"text": "hello"},
        "c2": {"text": "world"},
        "t2": {"text": "second"},
    }
    assert fetched() == ["t1", "t2"]
    assert h.calls("create") == [(100,)]  # once per process


def test_unchanged_ordinals_read_and_send_nothing(ws: Workspace) -> None:
    started(ws)
    run = h.update(ws)
    assert h.calls("get_value") == []
    assert h.mutate_calls() == []
    assert run.result.sources["Threads.threads"].unchanged == 2


def test_changed_ordinal_reads_and_sends_only_that_row(ws: Workspace) -> None:
    started(ws)
    write_threads(ws, {**THREADS, "t1": thread(2, "first", "c1:hello", "c3:new")})
    run = h.update(ws)
    assert fetched() == ["t1"]
    assert h.sent() == {"c2": None, "c3": {"text": "new"}}
    assert run.result.sources["Threads.threads"].updated == 1


def test_row_no_longer_listed_is_deleted(ws: Workspace) -> None:
    started(ws)
    write_threads(ws, {"t2": THREADS["t2"]})
    run = h.update(ws)
    assert h.sent() == {"t1": None, "c1": None, "c2": None}
    assert run.result.sources["Threads.threads"].deleted == 1
    assert h.calls("get_value") == []


def test_row_whose_value_no_longer_exists_is_deleted(ws: Workspace) -> None:
    started(ws)
    write_threads(ws, {**THREADS, "t2": {**thread(2, "second"), "vanished": True}})
    run = h.update(ws)
    assert h.sent() == {"t2": None}
    assert run.result.sources["Threads.threads"].deleted == 1


def test_rows_without_ordinal_are_read_each_run_but_sent_only_when_changed(
    ws: Workspace,
) -> None:
    started(ws, version="NO_ORDINAL")
    run = h.update(ws)
    assert fetched() == ["t1", "t2"]  # nothing tells whether they changed: read them
    assert h.mutate_calls() == []  # but their values did not change
    assert run.result.sources["Threads.threads"].unchanged == 2

    write_threads(ws, {**THREADS, "t2": thread(1, "SECOND")})
    h.update(ws)
    assert h.sent() == {"t2": {"text": "SECOND"}}


def test_content_version_fingerprint_versions_rows(ws: Workspace) -> None:
    header = SOURCE_HEADER.replace(
        "PartialSourceRowData(ordinal=VERSION_FIELD)",
        'PartialSourceRowData(content_version_fp=item["title"].encode())',
    )
    started(ws, header=header)
    h.update(ws)
    assert h.calls("get_value") == []
    write_threads(ws, {**THREADS, "t2": thread(1, "other")})
    h.update(ws)
    assert fetched() == ["t2"]
    assert h.sent() == {"t2": {"text": "other"}}


def test_spec_change_reevaluates_rows(ws: Workspace) -> None:
    started(ws)
    thread_app(ws, spec_args="max_results=1")
    run = h.update(ws)
    assert h.calls("create") == [(1,)]
    assert h.sent() == {"t2": None}  # t1 evaluated again with the same output: not sent
    assert run.result.sources["Threads.threads"].unchanged == 1


def test_failing_get_value_fails_only_its_row_with_the_connector_traceback(
    ws: Workspace,
) -> None:
    write_threads(ws, {**THREADS, "t3": {**thread(1, "third"), "broken": True}})
    thread_app(ws)
    h.apply_all(ws)
    run = h.update(ws)
    [failure] = run.named("row.failed")
    assert failure["row"] == '["t3"]'
    assert "cannot fetch t3" in failure["error"]
    assert 'raise ConnectionError("cannot fetch " + key.thread_id)' in failure["traceback"]
    assert set(h.store()) == {"t1", "c1", "c2", "t2"}

    # Fixed at the source: the next run picks the row up.
    write_threads(ws, {**THREADS, "t3": thread(1, "third")})
    assert h.update(ws).result.ok
    assert h.sent() == {"t3": {"text": "third"}}


ASYNC_SOURCE = """
import asyncio

class Counter(cocoindex.op.SourceSpec):
    pass

@dataclasses.dataclass
class Item:
    text: str

def items():
    with open(os.path.join(SOURCE, "items.json")) as f:
        return {int(k): v for k, v in json.load(f).items()}

@cocoindex.op.source_connector(spec_cls=Counter, key_type=int, value_type=Item)
class CounterConnector:
    @staticmethod
    async def create(spec):
        await asyncio.sleep(0)
        return CounterConnector()

    async def list(self):
        for key, (version, _) in sorted(items().items()):
            await asyncio.sleep(0)
            yield PartialSourceRow(key, PartialSourceRowData(ordinal=version))

    async def get_value(self, key, options):
        assert options.include_value
        mem_connector.CALLS.append(("get_value", (key,)))
        return PartialSourceRowData(value=Item(items()[key][1]))
"""

COUNTER_FLOW = """
@cocoindex.flow_def(name="Counts")
def counts_flow(flow_builder, data_scope):
    data_scope["items"] = flow_builder.add_source(Counter())
    out = data_scope.add_collector()
    with data_scope["items"].row() as item:
        out.collect(number=item["_key"], text=item["text"])
    out.export("t", MemTarget(resource="a"), primary_key_fields=["number"])
"""


def test_async_connector_with_a_scalar_key(ws: Workspace) -> None:
    (ws.root / "cocoindex_op_names.py").write_text(NAMES)
    header = "import json, os\nfrom cocoindex_op_names import *\n" + ASYNC_SOURCE
    items = {str(n): [1, f"item {n}"] for n in range(600)}  # more than one chunk per hand-over
    (ws.source_dir / "items.json").write_text(json.dumps(items))
    h.write_app(ws, COUNTER_FLOW, header)
    h.apply_all(ws)
    assert h.update(ws).result.ok
    assert len(h.store()) == 600
    assert h.store()[42] == {"text": "item 42"}

    items["42"] = [2, "changed"]
    del items["7"]
    (ws.source_dir / "items.json").write_text(json.dumps(items))
    h.update(ws)
    assert h.calls("get_value") == [(42,)]
    assert h.sent() == {7: None, 42: {"text": "changed"}}


def test_add_source_of_a_spec_without_connector_is_a_load_error(ws: Workspace) -> None:
    body = """
    class Nowhere(cocoindex.op.SourceSpec):
        pass

    @cocoindex.flow_def(name="F")
    def f(flow_builder, data_scope):
        data_scope["x"] = flow_builder.add_source(Nowhere())
    """
    h.write_app(ws, textwrap.dedent(body))
    with pytest.raises(AppLoadError, match=r"no @op\.source_connector is registered.*Nowhere"):
        h.apply_all(ws)


class _Spec(op.SourceSpec):
    pass


def test_value_type_must_be_a_struct() -> None:
    with pytest.raises(SourceConnectorError, match="value_type must be a dataclass or NamedTuple"):

        @op.source_connector(spec_cls=_Spec, key_type=str, value_type=str)
        class Connector:
            @staticmethod
            def create(spec: _Spec) -> Any:
                return None


def test_create_is_required() -> None:
    class Value(NamedTuple):
        text: str

    with pytest.raises(SourceConnectorError, match=r"create\(spec\) is required"):

        @op.source_connector(spec_cls=_Spec, key_type=str, value_type=Value)
        class Connector:
            pass


def test_spec_class_must_be_a_source_spec() -> None:
    with pytest.raises(SourceConnectorError, match=r"subclass of op\.SourceSpec"):
        op.source_connector(spec_cls=int, value_type=Any)  # type: ignore[arg-type]


def test_failing_listing_fails_the_source_not_the_run(ws: Workspace) -> None:
    started(ws)
    header = SOURCE_HEADER.replace(
        "        assert options.include_ordinal\n",
        '        raise RuntimeError("API down")\n',
    )
    thread_app(ws, header=header)
    run = h.update(ws)
    [failure] = run.named("source.failed")
    assert failure["source"] == "Threads.threads"
    assert "API down" in failure["error"]
    assert 'raise RuntimeError("API down")' in failure["traceback"]
    assert run.result.errors == 1
    assert h.mutate_calls() == []  # nothing is deleted for a source that could not be listed


def test_rows_are_read_and_evaluated_in_worker_processes(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workers, "MIN_ROWS_FOR_WORKERS", 1)
    threads = {f"t{i}": thread(1, f"title {i}", f"c{i}:comment {i}") for i in range(50)}
    write_threads(ws, threads)
    thread_app(ws)
    h.apply_all(ws)
    run = h.update(ws, workers=2)
    assert run.result.ok, run.named("row.failed")
    assert h.calls("get_value") == []  # read by the workers
    assert len(h.store()) == 100
    assert h.store()["c7"] == {"text": "comment 7"}


def test_live_mode_relists_a_custom_source_on_its_interval(ws: Workspace) -> None:
    from test_live import LiveRun

    write_threads(ws, THREADS)
    thread_app(ws)
    h.write_app(
        ws,
        THREADS_FLOW.replace(
            "add_source(Threads(SPEC_ARGS))",
            "add_source(Threads(), refresh_interval=timedelta(milliseconds=50))",
        ),
        "from datetime import timedelta\n"
        + SOURCE_HEADER.replace("VERSION_FIELD", 'item["version"]'),
    )
    h.apply_all(ws)
    run = LiveRun(ws).start()
    try:
        run.wait_target(
            {
                "t1": {"text": "first"},
                "c1": {"text": "hello"},
                "c2": {"text": "world"},
                "t2": {"text": "second"},
            }
        )
        write_threads(ws, {"t2": thread(2, "again")})
        run.wait_target({"t2": {"text": "again"}}, "the change to be picked up by a re-list")
    finally:
        run.close()
    [ready] = run.named("live.ready")
    assert ready["interval"] == {"Threads.threads": 0.05}


def test_created_object_without_get_value_fails_the_source_naming_it(ws: Workspace) -> None:
    header = SOURCE_HEADER.replace("    def get_value(self, key):", "    def fetch(self, key):")
    write_threads(ws, THREADS)
    thread_app(ws, header=header)
    h.apply_all(ws)
    run = h.update(ws)
    [failure] = run.named("source.failed")
    assert "(ThreadsConnector) has no get_value() method" in failure["error"]
