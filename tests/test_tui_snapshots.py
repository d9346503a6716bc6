"""Snapshot tests of the TUI's main screens against ``tests/tui_snapshots/*.svg``.

The demo app runs against fixed directories (paths appear on screen), wiped first; rates are
held at 0 and elapsed times and timestamps are masked (see ``snapshot.normalise``). To accept
a change on purpose: ``UPDATE_SNAPSHOTS=1 pytest tests/test_tui_snapshots.py``, then review the
SVGs (``git diff``, or convert them to PNG).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from snapshot import (
    SIZE,
    StillMonitor,
    assert_snapshot,
    isolated_imports,
    no_blinking_cursor,
    run,
    screenshot,
)

from cocotui.engine.facade import Engine
from cocotui.tui.app import CocotuiApp
from cocotui.tui.help import HelpScreen
from cocotui.tui.plan_screen import ConfirmModal, PlanScreen

#: Fixed, so that the paths shown on screen are the same in every run.
ROOT = Path("/tmp/cocotui-snapshot-demo")


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    shutil.rmtree(ROOT, ignore_errors=True)
    monkeypatch.setenv("COCOTUI_STATE_DIR", str(ROOT / "state"))
    monkeypatch.setenv("COCOTUI_CONFIG_DIR", str(ROOT / "config"))
    monkeypatch.setenv("COCOTUI_DEMO_OUTPUT", str(ROOT / "out"))
    no_blinking_cursor(monkeypatch)
    with isolated_imports():
        engine = Engine.open("cocotui.demo.app")
        try:
            yield engine
        finally:
            engine.close()
    shutil.rmtree(ROOT, ignore_errors=True)


def make_app(engine: Engine) -> CocotuiApp:
    app = CocotuiApp(engine, monitor_factory=StillMonitor)
    app.animation_level = "none"
    return app


def test_targets_with_a_pending_plan(demo: Engine) -> None:
    async def scenario() -> str:
        async with make_app(demo).run_test(size=SIZE) as pilot:
            return await screenshot(pilot)

    assert_snapshot("targets_pending", run(scenario))


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

    assert_snapshot("drop_confirm", run(scenario))


def test_after_an_update(demo: Engine) -> None:
    demo.apply(demo.plan())

    async def scenario() -> str:
        app = make_app(demo)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("u")
            await app.workers.wait_for_complete()
            await pilot.pause()
            app.poll_run()
            return await screenshot(pilot)

    assert_snapshot("after_update", run(scenario))


def test_help(demo: Engine) -> None:
    async def scenario() -> str:
        app = make_app(demo)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            return await screenshot(pilot)

    assert_snapshot("help", run(scenario))
