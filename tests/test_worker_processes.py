"""Transform worker processes: lean (a worker loads the app and the evaluator, not the CLI, the
TUI, the state store or multiprocessing), direct children of the engine's process with no helper
process beside them, gone when the run ends; a worker that dies hands its rows back."""

from __future__ import annotations

import os
import threading

import pytest
import update_helpers as h
from conftest import Workspace

from cocotui.engine.worker_pool import WorkerPool
from cocotui.engine.workers import RowOutcome, RowStatus, RowTask
from cocotui.flow.loader import load_app


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


def many(count: int) -> dict[str, str]:
    return {f"f{i:04d}.txt": f"content {i}" for i in range(count)}


#: Per row: the pid that evaluated it, its parent's pid, and the modules a worker has no use for.
PROBE = """
import os
import sys

UNNEEDED = ("cocotui.cli", "cocotui.tui", "cocotui.state", "cocotui.presenter",
            "multiprocessing", "concurrent.futures", "textual")

def probe(text):
    loaded = sorted(m for m in sys.modules if m.startswith(UNNEEDED))
    return f"{os.getpid()} {os.getppid()} {','.join(loaded)}"
"""


def _children() -> set[int]:
    found: set[int] = set()
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/children") as f:
            found.update(int(pid) for pid in f.read().split())
    return found


def test_workers_load_only_the_app_and_are_children_of_the_engine(ws: Workspace) -> None:
    files = many(300)
    h.write_files(ws, files)
    h.content_transform_app(ws, "probe", "probe", header=PROBE)
    h.apply_all(ws)
    run = h.update(ws, workers=2)
    assert run.result.ok, run.named("row.failed")
    probes = [row["probe"].split(" ") for row in h.store().values()]
    assert len(probes) == 300
    pids = {int(pid) for pid, _, _ in probes}
    assert len(pids) == 2 and os.getpid() not in pids  # evaluated by the two workers
    assert {int(parent) for _, parent, _ in probes} == {os.getpid()}  # no fork server between
    assert {loaded for _, _, loaded in probes} == {""}


def test_no_process_outlives_the_run(ws: Workspace) -> None:
    h.write_files(ws, many(300))
    h.content_transform_app(ws, "probe", "probe", header=PROBE)
    h.apply_all(ws)
    before = _children()
    run = h.update(ws, workers=2)
    assert run.result.ok, run.named("row.failed")
    assert _children() - before == set()  # neither workers nor a fork server or tracker


def test_rows_of_a_worker_that_died_are_evaluated_by_the_engine(ws: Workspace) -> None:
    files = many(300)
    h.write_files(ws, files)
    header = """
    import os

    def upper(text):
        if os.getpid() != ENGINE_PID and text == "content 150":
            os._exit(3)  # the worker dies mid-chunk
        return text.upper()
    """
    h.content_transform_app(
        ws, "upper", "upper", header=header.replace("ENGINE_PID", str(os.getpid()))
    )
    h.apply_all(ws)
    run = h.update(ws, workers=2)
    assert run.result.ok, run.named("row.failed")
    assert run.result.sources["Docs.documents"].added == 300
    assert h.store() == {k: {"upper": v.upper()} for k, v in files.items()}


def test_large_tasks_and_outcomes_pass_both_ways_at_once(ws: Workspace) -> None:
    # Tasks (cached results) and outcomes (the rows' content) far larger than a pipe's buffer,
    # several chunks in flight: the pool must never wait on a worker that waits on it.
    big = "x" * 50_000
    h.write_files(ws, {f"f{i:03d}.txt": f"{i} {big}" for i in range(128)})
    h.flow_app(ws)
    app = load_app(str(ws.app))
    keys = sorted(p.name for p in ws.source_dir.iterdir())
    chunks = [keys[i : i + 16] for i in range(0, len(keys), 16)]
    outcomes: list[RowOutcome] = []

    def run() -> None:
        pool = WorkerPool(app.ref, app.name, 2)
        try:
            cached = b"c" * 100_000
            sent = [pool.submit("Docs", 0, [RowTask(k, None, cached) for k in c]) for c in chunks]
            for worker in sent:
                outcomes.extend(worker.receive())
        finally:
            pool.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(120)
    assert not thread.is_alive(), "the pool and its workers wait on each other"
    assert [o.key for o in outcomes] == keys
    assert all(o.status is RowStatus.EVALUATED for o in outcomes)
    assert outcomes[5].collected is not None and big in str(outcomes[5].collected)
