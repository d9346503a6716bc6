"""Pilot tests of watching live exports in the TUI (issue 14): live mode started from the TUI,
and a TUI attached to an exporter that runs in another process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from snapshot import (
    SIZE,
    cells,
    detail_text,
    notifications,
    write_recording_app,
)
from textual.pilot import Pilot
from textual.widgets import Sparkline, Static

from cocotui.engine.counters import SourceCounters
from cocotui.engine.event_text import describe_event
from cocotui.engine.events import LivePassFinished, LivePassStarted, LiveReady, PassReason
from cocotui.engine.facade import Engine
from cocotui.engine.update import UpdateOptions
from cocotui.tui.app import CocotuiApp
from cocotui.tui.plan_screen import PlanScreen

#: How long a condition may take to show on screen (a loaded machine is slow).
DEADLINE = 30.0
#: How long a whole scenario may take.
SCENARIO_TIMEOUT = 180.0


@pytest.fixture
def engine(dirs: dict[str, Path]) -> Iterator[Engine]:
    """The recording app over two files, its setup applied."""
    app = write_recording_app(dirs["app"], dirs["source"])
    for i in range(2):
        (dirs["source"] / f"doc{i}.txt").write_text(f"document {i}\n")
    opened = Engine.open(str(app))
    opened.apply(opened.plan())
    try:
        yield opened
    finally:
        opened.close()


async def wait_until(pilot: Pilot[Any], condition: Callable[[], bool], what: str) -> None:
    """Let the app run until ``condition()`` holds, failing after :data:`DEADLINE`."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def counters(app: CocotuiApp, target: str) -> tuple[str, str, str]:
    row = cells(app).get(target, {})
    return row.get("inserted", ""), row.get("updated", ""), row.get("deleted", "")


def run_status(app: CocotuiApp) -> str:
    return str(app.query_one("#run-status", Static).render())


def test_live_mode_counts_created_modified_and_deleted_files(
    dirs: dict[str, Path], engine: Engine
) -> None:
    app = CocotuiApp(engine, update_options=UpdateOptions(batch_rows=10))
    source = dirs["source"]

    async def scenario() -> None:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.press("l")
            await wait_until(
                pilot, lambda: counters(app, "Docs.first") == ("2", "0", "0"), "the catch-up"
            )
            await wait_until(pilot, lambda: "watching" in sources_text(app), "watching")
            (source / "new.txt").write_text("a new document\n")
            for target in ("Docs.first", "Docs.second"):
                await wait_until(
                    pilot, lambda t=target: counters(app, t) == ("3", "0", "0"), "the creation"
                )
            # The source's line: its phase, its last pass (a watch pass that inserted one row)
            # and the lag of that change.
            await wait_until(pilot, lambda: "(watch, " in sources_text(app), "the watch pass")
            line = sources_text(app)
            assert line.startswith("Docs.documents")
            assert "1 inserted, 0 updated, 0 deleted" in line and " lag " in line
            (source / "doc0.txt").write_text("document 0, edited\n")
            await wait_until(
                pilot, lambda: counters(app, "Docs.first") == ("3", "1", "0"), "the change"
            )
            (source / "doc1.txt").unlink()
            await wait_until(
                pilot, lambda: counters(app, "Docs.first") == ("3", "1", "1"), "the deletion"
            )
            assert run_status(app).startswith("live")
            await pilot.press("s")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app.stop_token is None
            assert any(n[1] == "Live mode stopped" for n in notifications(app))
            assert run_status(app).startswith("idle")
            # The run joins the selected target's recent runs in the detail pane.
            await wait_until(pilot, lambda: "recent runs" in detail_text(app), "the run history")
            assert " live " in detail_text(app).split("recent runs", 1)[1]

    asyncio.run(asyncio.wait_for(scenario(), timeout=SCENARIO_TIMEOUT))


def sources_text(app: CocotuiApp) -> str:
    return str(app.query_one("#sources", Static).render())


@pytest.fixture
def exporter(dirs: dict[str, Path], engine: Engine) -> Iterator[subprocess.Popen[bytes]]:
    """``cocotui update APP --live`` in another process, on the app ``engine`` is bound to."""
    log = (dirs["app"] / "exporter.log").open("wb")
    command = [sys.executable, "-m", "cocotui", "update", str(engine.app.file), "--live"]
    proc = subprocess.Popen(
        [*command, "--workers", "1"],
        cwd=dirs["app"],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        log.close()


def spark_data(app: CocotuiApp) -> list[float]:
    return list(app.query_one("#spark", Sparkline).data or [])


def banner(app: CocotuiApp) -> str:
    """The headline of the exporter the TUI follows: the sources panel's first line."""
    return sources_text(app).split("\n", 1)[0]


def test_an_exporter_in_another_process_is_followed_until_it_dies(
    dirs: dict[str, Path], engine: Engine, exporter: subprocess.Popen[bytes]
) -> None:
    app = CocotuiApp(engine)
    source = dirs["source"]

    async def scenario() -> None:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            running = f"live export running (pid {exporter.pid} on "
            await wait_until(pilot, lambda: banner(app).startswith(running), "the exporter")
            await wait_until(
                pilot, lambda: counters(app, "Docs.first") == ("2", "0", "0"), "its catch-up"
            )
            await wait_until(pilot, lambda: "watching" in sources_text(app), "it to watch")
            # Its counters tick here as files change.
            (source / "new.txt").write_text("a new document\n")
            await wait_until(
                pilot, lambda: counters(app, "Docs.second") == ("3", "0", "0"), "the creation"
            )
            (source / "doc0.txt").write_text("document 0, edited\n")
            await wait_until(
                pilot, lambda: counters(app, "Docs.first") == ("3", "1", "0"), "the change"
            )
            # Its rates feed the selected target's sparkline, as a local run's do.
            await wait_until(pilot, lambda: any(v > 0 for v in spark_data(app)), "the sparkline")
            # What needs the lock says who holds it, and starts nothing.
            for key in ("u", "l", "d"):
                before = len(notifications(app))
                await pilot.press(key)
                await pilot.pause()
                said = [n for n in notifications(app)[before:] if n[1] == "State locked"]
                assert said and f"pid {exporter.pid} on " in said[0][2], key
                assert app.stop_token is None and not isinstance(app.screen, PlanScreen)
            # Setup review still works.
            await pilot.press("p")
            await wait_until(pilot, lambda: isinstance(app.screen, PlanScreen), "the plan")
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, PlanScreen), "home")

            exporter.send_signal(signal.SIGKILL)
            exporter.wait()
            await wait_until(
                pilot, lambda: banner(app).startswith("live export DIED ("), "the death"
            )
            assert "running" not in banner(app)
            # Its sources are shown as they last were, not as still watching.
            await wait_until(pilot, lambda: "was watching" in sources_text(app), "stale phases")
            assert any("DIED" in n[2] and n[0] == "error" for n in notifications(app))

    asyncio.run(asyncio.wait_for(scenario(), timeout=SCENARIO_TIMEOUT))


def test_the_event_log_says_live_passes_in_words() -> None:
    started = LivePassStarted(source="Docs.documents", reason=PassReason.WATCH, rows=2)
    counters = SourceCounters(listed=2, total=2, done=2, added=1, updated=1)
    finished = LivePassFinished(
        source="Docs.documents", reason=PassReason.WATCH, counters=counters, elapsed=0.01
    )
    ready = LiveReady(watched=("Docs.documents",), interval={}, once=())
    assert describe_event(started) == "Docs.documents: watch pass over 2 changed row(s)"
    assert describe_event(finished) == (
        "Docs.documents (watch): 1 added, 1 updated, 0 deleted, 0 errors [0.010s]"
    )
    assert describe_event(ready) == "live: watching Docs.documents"
