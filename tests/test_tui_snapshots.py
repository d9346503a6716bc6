"""Snapshot tests of the TUI's main screens against ``tests/tui_snapshots/*.svg``.

The demo app runs against a new directory per test, ``/tmp/cocotui-snap-XXXXXXXX`` (paths
appear on screen): its random part is replaced by ``snapshot-demo`` (same width) before the
comparison, so tests never share a directory and the stored screens stay the same. Rates are
held at 0 and elapsed times and timestamps are masked (see ``snapshot.normalise``). Each
snapshot comes with text assertions on what the screen must say, which hold whatever the
stored SVG is. To accept a change on purpose: ``UPDATE_SNAPSHOTS=1 pytest
tests/test_tui_snapshots.py``, then review the SVGs (``git diff``, or convert them to PNG).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from snapshot import (
    SIZE,
    StillMonitor,
    assert_snapshot,
    detail_text,
    isolated_imports,
    no_blinking_cursor,
    run,
    text_lines,
)
from snapshot import screenshot as raw_screenshot
from textual.pilot import Pilot

from cocotui.engine.facade import Engine
from cocotui.tui.app import CocotuiApp
from cocotui.tui.help import HelpScreen
from cocotui.tui.plan_screen import ConfirmModal, PlanScreen

#: The on-screen name of every test's root: ``/tmp/cocotui-snap-XXXXXXXX`` has the same width.
STORED_NAME = "cocotui-snapshot-demo"
ROOT_PREFIX = "cocotui-snap-"
#: Also matches a name cut short by a table cell ("cocotui-snap-ab12…").
ROOT_NAME = re.compile(re.escape(ROOT_PREFIX) + r"[a-z0-9_]{1,8}")


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    root = Path(tempfile.mkdtemp(prefix=ROOT_PREFIX, dir="/tmp"))
    assert len(root.name) == len(STORED_NAME), root
    monkeypatch.setenv("COCOTUI_STATE_DIR", str(root / "state"))
    monkeypatch.setenv("COCOTUI_CONFIG_DIR", str(root / "config"))
    monkeypatch.setenv("COCOTUI_DEMO_OUTPUT", str(root / "out"))
    no_blinking_cursor(monkeypatch)
    try:
        with isolated_imports():
            engine = Engine.open("cocotui.demo.app")
            try:
                yield engine
            finally:
                engine.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def screenshot(pilot: Pilot[Any]) -> str:
    """The screen, with this test's root directory under its stored name."""
    svg = await raw_screenshot(pilot)
    return ROOT_NAME.sub(lambda m: STORED_NAME[: len(m.group())], svg)


def screen_text(svg: str) -> str:
    return "".join(text_lines(svg))


def make_app(engine: Engine) -> CocotuiApp:
    app = CocotuiApp(engine, monitor_factory=StillMonitor)
    app.animation_level = "none"
    return app


def test_targets_with_a_pending_plan(demo: Engine) -> None:
    async def scenario() -> str:
        async with make_app(demo).run_test(size=SIZE) as pilot:
            return await screenshot(pilot)

    svg = run(scenario)
    text = screen_text(svg)
    assert "DemoDocs.pages" in text and "DemoDocs.outline" in text
    assert text.count("DirectoryTarget") >= 2
    assert_snapshot("targets_pending", svg)


def test_plan_review_and_confirmation(demo: Engine) -> None:
    async def scenario() -> tuple[str, str]:
        app = make_app(demo)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("p", "down")
            assert isinstance(app.screen, PlanScreen)
            review = await screenshot(pilot)
            await pilot.press("A")
            assert isinstance(app.screen, ConfirmModal)
            return review, await screenshot(pilot)

    review, confirm = run(scenario)
    assert "Plan: 2 to create, 0 to update, 0 to drop." in screen_text(review)
    assert screen_text(review).count("+ create") >= 2
    assert "Apply these setup changes?" in screen_text(confirm)
    assert_snapshot("plan_review", review)
    assert_snapshot("confirm_modal", confirm)


def test_drop_confirmation(demo: Engine) -> None:
    demo.apply(demo.plan())

    async def scenario() -> str:
        app = make_app(demo)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("d", "a", *"Demo")
            assert isinstance(app.screen, ConfirmModal)
            return await screenshot(pilot)

    svg = run(scenario)
    assert "Plan: 0 to create, 0 to update, 1 to drop." in screen_text(svg)
    assert "Dropping removes data." in screen_text(svg)
    assert_snapshot("drop_confirm", svg)


def test_after_an_update(demo: Engine) -> None:
    demo.apply(demo.plan())

    async def scenario() -> str:
        app = make_app(demo)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("u")
            await app.workers.wait_for_complete()
            await pilot.pause()
            app.poll_run()
            # The run's line in the detail pane comes from the status file its end wrote, read
            # on a timer: wait for it (bounded), so the screen does not depend on that race.
            for _ in range(200):
                if "recent runs" in detail_text(app):
                    break
                app.poll_exporter()
                await pilot.pause(0.05)
            assert "recent runs" in detail_text(app)
            return await screenshot(pilot)

    svg = run(scenario)
    assert "4/4 rows" in screen_text(svg) and "0 error(s)" in screen_text(svg)
    assert_snapshot("after_update", svg)


def test_help(demo: Engine) -> None:
    async def scenario() -> str:
        app = make_app(demo)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            return await screenshot(pilot)

    svg = run(scenario)
    assert "review pending setup changes" in screen_text(svg)
    assert_snapshot("help", svg)
