"""Counters tell inserts from updates as the engine knows them, the same in every front end
(``update --json``, the RunMonitor the TUI reads), and ``in_flight`` counts the target rows of a
``mutate`` call while it runs (issue 14, item 5)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import update_helpers as h
from conftest import Workspace

from cocotui.engine.events import Event, MutateFinished, MutateStarted, StopToken
from cocotui.engine.monitor import RunMonitor
from cocotui.engine.update import UpdateOptions, UpdateResult

TARGET = "Docs.t"
COUNTS = ("inserted", "updated", "deleted", "errors", "in_flight")

#: Runs one update with the environment given; returns the target's counters as reported.
FrontEnd = Callable[[Workspace, dict[str, str]], dict[str, int]]


@pytest.fixture
def ws(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    ws = h.prepare(workspace, monkeypatch)
    h.write_files(ws, {"a.md": "a", "b.md": "b", "c.md": "c"})
    h.flow_app(ws)
    h.apply_all(ws)
    return ws


def cli_json(ws: Workspace, env: dict[str, str]) -> dict[str, int]:
    """``cocotui update --json`` in a fresh process: the run's last word on the target, which
    its last ``batch.applied`` says too."""
    result = ws.cli("update", ws.app, "--json", "--workers", "1", **env)
    events = [json.loads(line) for line in result.stdout.splitlines()]
    finished = events[-1]
    assert finished["event"] == "run.finished", result.stderr
    counters = finished["targets"][TARGET]
    batches = [e for e in events if e["event"] == "batch.applied"]
    if batches:
        assert batches[-1]["targets"][TARGET] == counters
    # A source row first exported counts as added, as its key counts as inserted.
    source = finished["sources"]["Docs.documents"]
    assert (source["added"], source["updated"]) == (counters["inserted"], counters["updated"])
    return {name: counters[name] for name in COUNTS}


def monitor_snapshot(ws: Workspace, env: dict[str, str]) -> dict[str, int]:
    """``Engine.update`` in this process observed by a RunMonitor, as the TUI runs it."""
    monitor = RunMonitor()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        with h.engine_of(ws) as engine:
            engine.update(UpdateOptions(workers=1), monitor, StopToken())
    view = monitor.snapshot().targets[TARGET]
    return {name: getattr(view, name) for name in COUNTS}


def counts(**nonzero: int) -> dict[str, int]:
    return {name: nonzero.get(name, 0) for name in COUNTS}


@pytest.mark.parametrize("front_end", [cli_json, monitor_snapshot], ids=["cli-json", "monitor"])
def test_inserts_updates_and_deletes_are_told_apart(ws: Workspace, front_end: FrontEnd) -> None:
    # A first export whose mutate fails for one row: that row's key was staged, never
    # delivered.
    assert front_end(ws, {"MEM_FAIL_KEYS": "b.md"}) == counts(inserted=2, errors=1)
    # Exported at last, it is an insert (it used to count as an update).
    assert front_end(ws, {}) == counts(inserted=1)

    (ws.source_dir / "a.md").write_text("edited")
    assert front_end(ws, {}) == counts(updated=1)

    (ws.source_dir / "c.md").unlink()
    assert front_end(ws, {}) == counts(deleted=1)


@pytest.mark.parametrize("front_end", [cli_json, monitor_snapshot], ids=["cli-json", "monitor"])
def test_a_key_taken_over_by_another_row_is_an_update(ws: Workspace, front_end: FrontEnd) -> None:
    """Keys are the files' contents: when b.md starts producing the key a.md stops producing,
    in one batch, the target already holds it."""
    for name in ("b.md", "c.md"):
        (ws.source_dir / name).unlink()
    h.flow_app(ws, collect='filename=doc["content"], content=doc["filename"]')
    assert front_end(ws, {}) == counts(inserted=1)  # key "a"
    h.write_files(ws, {"a.md": "other", "b.md": "a"})
    assert front_end(ws, {}) == counts(inserted=1, updated=1)  # "other" new, "a" now b's


def test_a_first_directory_export_counts_inserts(workspace: Workspace) -> None:
    """The case the issue saw: a DirectoryTarget's first export, one of whose files could not
    be written, finished by the next run."""
    ws = workspace
    ws.write_source_file("b.txt", "beta")
    out = ws.root / "out"
    ws.write_raw_app(
        f"""
        import cocotui as cocoindex
        from cocotui_connectors.files import DirectoryTarget

        @cocoindex.flow_def(name="Docs")
        def docs(flow_builder, data_scope):
            data_scope["documents"] = flow_builder.add_source(
                cocoindex.sources.LocalFile(path={str(ws.source_dir)!r})
            )
            files = data_scope.add_collector()
            with data_scope["documents"].row() as doc:
                files.collect(filename=doc["filename"], content=doc["content"])
            files.export(
                "t", DirectoryTarget(directory={str(out)!r}), primary_key_fields=["filename"]
            )
        """
    )
    assert ws.apply().returncode == 0
    (out / "b.txt").mkdir()  # in the way of the file b.txt
    assert cli_json(ws, {}) == counts(inserted=1, errors=1)
    (out / "b.txt").rmdir()
    assert cli_json(ws, {}) == counts(inserted=1)
    assert (out / "b.txt").read_text() == "beta"


# -- in flight ----------------------------------------------------------------------------------


class BlockedMutate:
    """Holds the mem connector's ``mutate`` until released; says when it was entered."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        mem = h.mem()
        self._mutate = mem._mutate
        monkeypatch.setattr(mem, "_mutate", self)

    def __call__(self, all_mutations: tuple[Any, ...]) -> None:
        self.entered.set()
        assert self.release.wait(60), "the test never released mutate"
        self._mutate(all_mutations)


@pytest.fixture
def blocked(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> Iterator[BlockedMutate]:
    with h.engine_of(ws):  # loads the app, and with it mem_connector
        blocker = BlockedMutate(monkeypatch)
    yield blocker
    blocker.release.set()  # never leave an engine thread waiting


def test_rows_are_in_flight_while_mutate_runs(ws: Workspace, blocked: BlockedMutate) -> None:
    monitor = RunMonitor()
    events: list[Event] = []

    def observe(event: Event) -> None:
        events.append(event)
        monitor(event)

    results: list[UpdateResult] = []
    with h.engine_of(ws) as engine:
        worker = threading.Thread(
            target=lambda: results.append(
                engine.update(UpdateOptions(workers=1), observe, StopToken())
            )
        )
        worker.start()
        try:
            assert blocked.entered.wait(60), "mutate was never called"
            during = monitor.snapshot().targets[TARGET]
            assert (during.in_flight, during.inserted) == (3, 0)
        finally:
            blocked.release.set()
            worker.join(60)
    after = monitor.snapshot().targets[TARGET]
    assert (after.in_flight, after.inserted) == (0, 3)
    assert results[0].targets[TARGET].in_flight == 0
    started = [e for e in events if isinstance(e, MutateStarted)]
    finished = [e for e in events if isinstance(e, MutateFinished)]
    assert [(e.rows, e.targets[TARGET].in_flight) for e in started] == [(3, 3)]
    assert [(e.ok, e.targets[TARGET].in_flight) for e in finished] == [(True, 0)]


def test_json_reports_each_mutate_call_with_its_rows_in_flight(ws: Workspace) -> None:
    result = ws.cli(
        "update", ws.app, "--json", "--workers", "1", "--batch-rows", "2", MEM_FAIL_KEYS="c.md"
    )
    calls = [
        (e["event"], e["targets"][TARGET]["in_flight"], e.get("ok"))
        for e in map(json.loads, result.stdout.splitlines())
        if e["event"] in ("mutate.started", "mutate.finished")
    ]
    # a.md and b.md in one call; c.md alone, failing (a single row is not split further).
    assert calls == [
        ("mutate.started", 2, None),
        ("mutate.finished", 0, True),
        ("mutate.started", 1, None),
        ("mutate.finished", 0, False),
    ]
