"""Interval re-lists in live mode: they never hold watched changes up, and they still catch
what the watcher did not report.

A re-list is made "long" deterministically by holding its scan (``RelistScan.step``) at a step
boundary until the test releases it: the engine is then in the middle of the re-list, as it is
for the second or two a re-list of 100,000 files takes.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable

import pytest
import update_helpers as h
from conftest import Workspace
from test_live import TIMEOUT, LiveRun, live_app, put, source_rows
from test_live import running as running  # the fixture: live runs stopped after each test

from cocotui.engine import live as live_module
from cocotui.engine import relist as relist_module


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


class HeldScan:
    """Holds every re-list scan once it has listed every row, until :meth:`release`: the
    re-list is in progress (its pass has not started) for as long as the test wants."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.scanning = threading.Event()
        self.released = threading.Event()
        original = relist_module.RelistScan.step

        def held_step(scan: relist_module.RelistScan) -> bool:
            while not scan.done:
                original(scan)
            self.scanning.set()
            # Short waits (not an assertion): the loop runs watched changes between steps.
            return self.released.wait(0.005)

        monkeypatch.setattr(relist_module.RelistScan, "step", held_step)

    def release(self) -> None:
        self.released.set()


def interval_passes(run: LiveRun) -> list[dict[str, object]]:
    return [p for p in run.named("live.pass_finished") if p["reason"] == "interval"]


def test_watched_changes_reach_the_target_while_a_relist_is_in_progress(
    ws: Workspace, running: Callable[..., LiveRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    h.write_files(ws, {"a.md": "a", "b.md": "b", "gone.md": "g"})
    live_app(ws, interval_ms=100)
    held = HeldScan(monkeypatch)
    run = running(ws)
    assert held.scanning.wait(TIMEOUT), "no interval re-list started"

    put(ws, "new.md", "created during the re-list")
    put(ws, "a.md", "edited during the re-list")
    (ws.source_dir / "gone.md").unlink()
    run.wait_target(source_rows(ws), "the watched changes, during the re-list")
    assert not held.released.is_set() and not interval_passes(run)

    held.release()
    run.wait_for(lambda: bool(interval_passes(run)), "the end of the re-list")
    run.barrier()
    # The re-list, whose listing predates the changes, undid none of them.
    assert h.store() == source_rows(ws)
    assert not run.named("row.failed")


def test_relist_catches_changes_the_watcher_dropped(
    ws: Workspace, running: Callable[..., LiveRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watcher is healthy but its events are lost (a queue overflow, a remote write on a
    network filesystem): the interval re-list finds the new, changed and deleted files."""
    h.write_files(ws, {"a.md": "a", "b.md": "b"})
    live_app(ws, interval_ms=100)
    dropped = threading.Event()

    def drop(self: live_module.LiveRun, paths: set[str]) -> bool:
        dropped.set()
        return False

    monkeypatch.setattr(live_module.LiveRun, "_mark", drop)
    run = running(ws)
    h.write_files(ws, {"a.md": "A, same size? no", "c.md": "c"})
    (ws.source_dir / "b.md").unlink()
    run.wait_target(source_rows(ws), "the interval re-list")
    assert dropped.is_set()
    last = interval_passes(run)[-1]
    assert last["listed"] == 2 and not last["errors"]
    assert {p["reason"] for p in run.named("live.pass_finished")} == {"initial", "interval"}


def test_costly_relist_is_spaced_to_its_cpu_share_while_the_watcher_is_healthy(
    ws: Workspace, running: Callable[..., LiveRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A re-list of a large source (its scan taking 0.25 s of CPU here) with a short interval
    would run back to back; while the watcher reports changes, the re-lists are spaced so that
    their scans take at most ``RELIST_CPU_SHARE`` of a core: 0.25 s / 0.2 - 0.25 s = 1 s."""
    h.write_files(ws, {f"f{i}.md": str(i) for i in range(20)})
    live_app(ws, interval_ms=50)
    original = relist_module.RelistScan.step

    def costly_step(scan: relist_module.RelistScan) -> bool:
        done = original(scan)
        if done:
            scan.cpu += 0.25
        return done

    monkeypatch.setattr(relist_module.RelistScan, "step", costly_step)
    run = running(ws)
    run.wait_for(lambda: len(interval_passes(run)) >= 2, "two interval re-lists", TIMEOUT * 2)
    with run.cond:
        times = [
            e.time
            for e in run.events
            if e.name == "live.pass_finished" and e.data["reason"] == "interval"
        ]
    assert all(later - earlier >= 1.0 for earlier, later in itertools.pairwise(times))
    # A re-list that found nothing reports every row listed and unchanged.
    last = interval_passes(run)[-1]
    assert (last["listed"], last["unchanged"], last["done"]) == (20, 20, 20)
    assert not last["added"] and not last["updated"] and not last["deleted"]
