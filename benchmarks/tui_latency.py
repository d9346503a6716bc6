"""Key latency of the terminal UI, for ``bench_tui.py``: a clock of composed frames, key presses
timed from the key event to the first frame composed after the screen changed, and the live
burst (live mode started with ``l``, then N files copied into the watched directory at once,
keys pressed until every file is exported)."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import events
from textual.widgets import DataTable

from cocotui.engine.facade import Engine
from cocotui.engine.monitor import Phase
from cocotui.tui.app import CocotuiApp
from cocotui.tui.help import HelpScreen

SIZE = (160, 45)
#: Seconds between two key presses.
KEY_INTERVAL = 0.05


class FrameClock:
    """Records when the app composes a frame (``App._display``, called in headless mode too)."""

    def __init__(self, app: CocotuiApp) -> None:
        self.frames: list[float] = []
        original: Callable[..., None] = app._display

        def display(screen: Any, renderable: Any) -> None:
            if renderable is not None:
                self.frames.append(time.perf_counter())
            original(screen, renderable)

        app._display = display  # type: ignore[method-assign]

    async def next_frame_after(self, moment: float, timeout: float = 5.0) -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            later = [t for t in self.frames if t >= moment]
            if later:
                return later[0]
            await asyncio.sleep(0.0005)
        raise TimeoutError("no frame composed")


async def press_and_measure(
    app: CocotuiApp, clock: FrameClock, key: str, char: str | None, done: Callable[[], bool]
) -> float:
    """Send ``key`` as the terminal driver would; return seconds until a frame was composed
    after ``done()`` became true. (Pilot.press waits for the process to be idle, which it is
    not while the engine works.)"""
    assert app._driver is not None
    started = time.perf_counter()
    event = events.Key(key, char)
    event.set_sender(app)
    app._driver.send_message(event)
    while not done():
        await asyncio.sleep(0.0005)
        if time.perf_counter() - started > 5:
            raise TimeoutError(f"key {key} not handled")
    changed = time.perf_counter()
    return await clock.next_frame_after(changed) - started


async def press_keys_while(
    app: CocotuiApp, clock: FrameClock, busy: Callable[[], bool]
) -> dict[str, list[float]]:
    """Press ``down``, ``up`` (cursor moves: the common case), ``?``, ``escape`` (the help
    opened and closed: a repaint of the whole screen, the worst case) one after the other,
    :data:`KEY_INTERVAL` apart, while ``busy()``; their latencies by kind."""
    latencies: dict[str, list[float]] = {"cursor": [], "help": []}
    table = app.query_one("#targets", DataTable)
    while busy():
        for kind, key, char, done in (
            ("cursor", "down", None, lambda: table.cursor_row == 1),
            ("cursor", "up", None, lambda: table.cursor_row == 0),
            ("help", "question_mark", "?", lambda: isinstance(app.screen, HelpScreen)),
            ("help", "escape", None, lambda: not isinstance(app.screen, HelpScreen)),
        ):
            if not busy():
                break
            latencies[kind].append(await press_and_measure(app, clock, key, char, done))
            await asyncio.sleep(KEY_INTERVAL)
    return latencies


def _exported(app: CocotuiApp) -> int:
    return min((v.inserted for v in app.monitor.snapshot().targets.values()), default=0)


def _watching(app: CocotuiApp) -> bool:
    sources = app.monitor.snapshot().sources.values()
    return bool(sources) and all(s.phase is Phase.WATCHING for s in sources)


async def _until(condition: Callable[[], bool], what: str, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def live_burst(engine: Engine, burst: Path, watched: Path, files: int) -> dict[str, Any]:
    """Live mode on ``engine`` (whose source is the empty directory ``watched``); once it
    watches, the ``files`` files of ``burst`` are copied in by another process, and keys are
    pressed until every one of them reached every target."""
    ui_cpu: dict[str, float] = {}

    async def scenario() -> dict[str, Any]:
        app = CocotuiApp(engine)
        clock = FrameClock(app)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await press_and_measure(app, clock, "l", "l", lambda: app.stop_token is not None)
            await _until(lambda: _watching(app), "live mode to watch")
            ui_cpu["start"] = time.thread_time()  # this thread runs the UI's event loop
            started = time.perf_counter()
            copy = subprocess.Popen(["cp", "-r", f"{burst}/.", str(watched)])
            latencies = await press_keys_while(app, clock, lambda: _exported(app) < files)
            elapsed = time.perf_counter() - started
            ui_cpu["end"] = time.thread_time()
            copy.wait()
            lag = max((s.lag or 0.0 for s in app.monitor.snapshot().sources.values()), default=0)
            if isinstance(app.screen, HelpScreen):
                # The burst may end with the help open: "s" must reach the app, not the help
                # (which ignores it, and the run would never stop).
                await pilot.press("escape")
            await pilot.press("s")
            await app.workers.wait_for_complete()
            return {
                "elapsed": elapsed,
                "rows": float(_exported(app)),
                "latencies": latencies,
                "ui_cpu": ui_cpu["end"] - ui_cpu["start"],
                "lag": lag,
            }

    return asyncio.run(scenario())


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def quantile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def key_table(
    update_runs: list[dict[str, Any]], live_runs: list[dict[str, Any]]
) -> tuple[list[str], float]:
    """The key latency table, and the worst p90 of cursor moves."""
    lines = [
        "| keys pressed during | presses per run | median (ms) | p90 (ms) | max (ms) |",
        "|---|---:|---:|---:|---:|",
    ]
    worst = 0.0
    for during, runs in (("the export (u)", update_runs), ("a live burst (l)", live_runs)):
        for kind, label in (("cursor", "↓ / ↑ in the targets table"), ("help", "? / Esc (help)")):
            samples = [r["latencies"][kind] for r in runs]
            med = _median([_median(x) for x in samples]) * 1000
            p90 = _median([quantile(x, 0.9) for x in samples]) * 1000
            top = _median([max(x) if x else float("nan") for x in samples]) * 1000
            count = _median([float(len(x)) for x in samples])
            if kind == "cursor":
                worst = max(worst, p90)
            lines.append(f"| {during}: {label} | {count:.0f} | {med:.1f} | {p90:.1f} | {top:.1f} |")
    return lines, worst
