"""Pilot tests of the terminal UI (issue 5): the real app, driven by key presses, against
temporary state, config and output directories."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from snapshot import (
    SIZE,
    StillMonitor,
    cells,
    detail_text,
    notifications,
    recorder,
    run,
    write_recording_app,
)
from textual.command import CommandPalette
from textual.widgets import Button, Input, OptionList, SelectionList, Static

from cocotui.engine.facade import Engine
from cocotui.engine.update import UpdateOptions
from cocotui.state.lock import WriterLock
from cocotui.tui.app import CocotuiApp
from cocotui.tui.commands import ACTIONS, CocotuiCommands
from cocotui.tui.help import HelpScreen
from cocotui.tui.plan_screen import ConfirmModal, PlanScreen

DEMO = "cocotui.demo.app"


@pytest.fixture
def engines() -> Iterator[list[Engine]]:
    """Engines opened by a test, closed at its end."""
    opened: list[Engine] = []
    yield opened
    for engine in opened:
        engine.close()


def open_engine(engines: list[Engine], app: str | Path) -> Engine:
    engine = Engine.open(str(app))
    engines.append(engine)
    return engine


def recording_engine(dirs: dict[str, Path], engines: list[Engine], files: int = 3) -> Engine:
    app = write_recording_app(dirs["app"], dirs["source"])
    for i in range(files):
        (dirs["source"] / f"doc{i}.txt").write_text(f"document {i}\n")
    return open_engine(engines, app)


def make_app(engine: Engine, **kwargs: Any) -> CocotuiApp:
    kwargs.setdefault("monitor_factory", StillMonitor)
    return CocotuiApp(engine, **kwargs)


async def finish_work(pilot: Any) -> None:
    """Wait for background workers (apply, update) and the messages they caused."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def statuses(app: CocotuiApp) -> dict[str, str]:
    return {name: row["status"] for name, row in cells(app).items()}


def setup_calls(module: Any) -> list[tuple[Any, ...]]:
    return [c for c in module.CALLS if c[0] == "apply_setup_change"]


def mutate_calls(module: Any) -> list[tuple[Any, ...]]:
    return [c for c in module.CALLS if c[0] == "mutate"]


# -- the home screen ----------------------------------------------------------------------------


def test_demo_opens_with_its_targets_listed(dirs: dict[str, Path], engines: list[Engine]) -> None:
    app = make_app(open_engine(engines, DEMO))

    async def scenario() -> None:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.pause()
            table = cells(app)
            assert list(table) == ["DemoDocs.pages", "DemoDocs.outline"]
            for row in table.values():
                assert row["status"] == "+ to create"
                assert row["kind"] == "DirectoryTarget"
                assert row["description"].startswith("Files in ")
            detail = detail_text(app)
            assert "DemoDocs.pages" in detail and "persistent key" in detail
            assert "DirectoryTarget" in str(app.query_one("#connectors", Static).render())
            assert (
                "information",
                "Setup",
                "2 setup change(s) pending: press p to review them",
            ) in (notifications(app))

    run(scenario)


def test_columns_fit_the_terminal_width(dirs: dict[str, Path], engines: list[Engine]) -> None:
    app = make_app(open_engine(engines, DEMO))

    async def scenario() -> None:
        async with app.run_test(size=(200, 40)) as pilot:
            await pilot.pause()
            table = app.query_one("#targets")
            assert table.virtual_size.width <= table.scrollable_content_region.width
            await pilot.resize_terminal(120, 40)
            await pilot.pause()
            # Too narrow for everything: the counters stay in view, the rest scrolls sideways.
            assert list(cells(app)) == ["DemoDocs.pages", "DemoDocs.outline"]
            assert table.virtual_size.width > table.scrollable_content_region.width

    run(scenario)


# -- review and approval ------------------------------------------------------------------------


def test_approving_one_create_calls_the_connector_once(
    dirs: dict[str, Path], engines: list[Engine]
) -> None:
    engine = recording_engine(dirs, engines)
    module = recorder()
    app = make_app(engine)

    async def scenario() -> None:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.pause()
            assert statuses(app) == {"Docs.first": "+ to create", "Docs.second": "+ to create"}
            await pilot.press("p")
            assert isinstance(app.screen, PlanScreen)
            changes = app.screen.query_one("#changes", SelectionList)
            assert changes.selected == [0, 1]
            await pilot.press("down", "space")  # leave Docs.second out
            assert changes.selected == [0]
            await pilot.press("a")
            assert isinstance(app.screen, ConfirmModal)
            assert [c.name for c in app.screen.changes] == ["Docs.first"]
            assert app.focused is app.screen.query_one("#cancel", Button)  # defaults to Cancel
            await pilot.press("tab", "enter")  # focus Apply and press it
            await finish_work(pilot)
            assert not isinstance(app.screen, PlanScreen)  # back to the targets
            assert setup_calls(module) == [("apply_setup_change", "alpha", True, False)]
            assert ("information", "Apply finished", "Applied 1 change(s).") in notifications(app)
            assert statuses(app) == {"Docs.first": "ready", "Docs.second": "+ to create"}
        assert [c.name for c in engine.plan().pending] == ["Docs.second"]
        assert len(setup_calls(module)) == 1

    run(scenario)


def test_cancel_is_the_default(dirs: dict[str, Path], engines: list[Engine]) -> None:
    engine = recording_engine(dirs, engines)
    module = recorder()
    app = make_app(engine)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("p", "A")
            assert isinstance(app.screen, ConfirmModal)
            await pilot.press("enter")  # Enter on the focused Cancel button
            await finish_work(pilot)
            assert isinstance(app.screen, PlanScreen)
            await pilot.press("A", "escape")
            await finish_work(pilot)
        assert module.CALLS == []
        assert len(engine.plan().pending) == 2

    run(scenario)


def test_a_drop_needs_the_typed_name(dirs: dict[str, Path], engines: list[Engine]) -> None:
    engine = open_engine(engines, DEMO)
    engine.apply(engine.plan())
    html = dirs["demo"] / "html"
    assert html.is_dir()
    app = make_app(engine)

    async def scenario() -> None:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.pause()
            assert statuses(app) == {"DemoDocs.pages": "ready", "DemoDocs.outline": "ready"}
            await pilot.press("d")  # the cursor is on DemoDocs.pages
            assert isinstance(app.screen, PlanScreen)
            assert [c.name for c in app.screen.pending] == ["DemoDocs.pages"]
            await pilot.press("a")
            modal = app.screen
            assert isinstance(modal, ConfirmModal)
            apply = modal.query_one("#apply", Button)
            name_box = modal.query_one("#confirm-input", Input)
            assert apply.disabled and app.focused is name_box
            await pilot.press("enter")  # nothing typed: no effect
            assert app.screen is modal
            name_box.value = "DemoDocs.outline"  # another target's name
            await pilot.pause()
            assert apply.disabled
            name_box.value = "DemoDocs.page"
            await pilot.pause()
            assert apply.disabled
            await pilot.press("enter")
            assert app.screen is modal
            await pilot.press("s")
            assert not apply.disabled
            await pilot.press("enter")
            await finish_work(pilot)
            assert not isinstance(app.screen, PlanScreen)
            # Still in the app, so it is to be created again; its files are gone.
            assert statuses(app) == {
                "DemoDocs.pages": "+ to create",
                "DemoDocs.outline": "ready",
            }
        assert not html.exists()
        assert (dirs["demo"] / "outline").is_dir()

    run(scenario)


def test_a_connector_error_shows_and_leaves_the_change_pending(
    dirs: dict[str, Path], engines: list[Engine]
) -> None:
    engine = recording_engine(dirs, engines)
    module = recorder()
    module.FAIL.add("apply_setup_change")
    app = make_app(engine)

    async def scenario() -> None:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.press("p", "A", "tab", "enter")
            await finish_work(pilot)
            screen = app.screen
            assert isinstance(screen, PlanScreen)
            errors = [n for n in notifications(app) if n[0] == "error"]
            assert len(errors) == 1
            assert errors[0][1] == "Apply failed"
            assert "Docs.first" in errors[0][2] and "permission denied" in errors[0][2]
            assert screen.status == {"Docs.first": "failed"}
            prompts = [
                str(screen.query_one("#changes", SelectionList).get_option_at_index(i).prompt)
                for i in range(2)
            ]
            assert prompts[0].endswith("failed") and not prompts[1].endswith("failed")
            await pilot.press("escape")
            status = statuses(app)
            assert status["Docs.first"] == "! interrupted"
            assert status["Docs.second"] == "+ to create"
            detail = detail_text(app)
            assert "last setup error" in detail and "permission denied" in detail
        # The first change stopped the apply; both are still pending.
        assert setup_calls(module) == [("apply_setup_change", "alpha", True, False)]
        assert [c.name for c in engine.plan().pending] == ["Docs.first", "Docs.second"]

    run(scenario)


def test_a_stale_plan_is_refused_and_replanned(
    dirs: dict[str, Path], engines: list[Engine]
) -> None:
    engine = recording_engine(dirs, engines)
    module = recorder()
    app = make_app(engine)

    async def scenario() -> None:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.press("p")
            # Meanwhile another process applies the first change.
            other = open_engine(engines, dirs["app"] / "tui_app.py")
            other.apply(other.plan(), other.plan().select(["first"]))
            module.CALLS.clear()
            await pilot.press("A", "tab", "enter")
            await finish_work(pilot)
            screen = app.screen
            assert isinstance(screen, PlanScreen)
            assert any(n[1] == "Plan is stale" for n in notifications(app))
            assert module.CALLS == []
            assert [c.name for c in screen.pending] == ["Docs.second"]

    run(scenario)


def test_state_locked_by_another_process_is_reported(
    dirs: dict[str, Path], engines: list[Engine]
) -> None:
    engine = recording_engine(dirs, engines)
    module = recorder()
    app = make_app(engine)
    other = WriterLock(engine.paths.lock, engine.app.name)

    async def scenario() -> None:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            with other:  # stands for another cocotui process writing this app's state
                await pilot.press("p", "A", "tab", "enter")
                await finish_work(pilot)
                failed = [n for n in notifications(app) if n[0] == "error"]
                assert [n[1] for n in failed] == ["Apply failed"]
                assert "another cocotui process" in failed[0][2]
                await pilot.press("escape", "u")
                await finish_work(pilot)
                failed = [n for n in notifications(app) if n[0] == "error"]
                assert [n[1] for n in failed] == ["Apply failed", "Update failed"]
                assert app.stop_token is None  # ready for another try
        assert module.CALLS == []
        assert len(engine.plan().pending) == 2

    run(scenario)


# -- running an update --------------------------------------------------------------------------


def received(module: Any) -> dict[str, dict[str, int]]:
    """Per resource: upserts and deletes the connector received."""
    counts: dict[str, dict[str, int]] = {}
    for _, resource, _key, is_delete in mutate_calls(module):
        entry = counts.setdefault(resource, {"upserts": 0, "deletes": 0})
        entry["deletes" if is_delete else "upserts"] += 1
    return counts


def test_update_counters_equal_what_the_connector_received(
    dirs: dict[str, Path], engines: list[Engine]
) -> None:
    engine = recording_engine(dirs, engines, files=5)
    engine.apply(engine.plan())
    module = recorder()
    module.CALLS.clear()
    app = make_app(engine, update_options=UpdateOptions(batch_rows=2))

    async def scenario() -> None:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.press("u")
            await finish_work(pilot)
            app.poll_run()
            table = cells(app)
            got = received(module)
            assert got == {"alpha": {"upserts": 5, "deletes": 0}, "beta": got["alpha"]}
            for name in ("Docs.first", "Docs.second"):
                assert table[name]["inserted"] == "5"
                assert table[name]["updated"] == table[name]["deleted"] == "0"
                assert table[name]["errors"] == "0"
            run_status = str(app.query_one("#run-status", Static).render())
            assert run_status.startswith("idle  5/5 rows")
            assert any(n[1] == "Update finished" for n in notifications(app))

            # One file changed, one deleted: a new run counts only those.
            module.CALLS.clear()
            (dirs["source"] / "doc1.txt").write_text("changed\n")
            (dirs["source"] / "doc2.txt").unlink()
            await pilot.press("u")
            await finish_work(pilot)
            app.poll_run()
            table = cells(app)
            assert received(module) == {
                "alpha": {"upserts": 1, "deletes": 1},
                "beta": {"upserts": 1, "deletes": 1},
            }
            for name in ("Docs.first", "Docs.second"):
                assert (table[name]["inserted"], table[name]["updated"]) == ("0", "1")
                assert table[name]["deleted"] == "1"
            log = app.query_one("#log").lines
            assert any("1 updated, 1 deleted" in strip.text for strip in log)

    run(scenario)


def test_update_skips_targets_with_pending_setup(
    dirs: dict[str, Path], engines: list[Engine]
) -> None:
    engine = recording_engine(dirs, engines)
    engine.apply(engine.plan(), engine.plan().select(["first"]))
    module = recorder()
    app = make_app(engine)

    async def scenario() -> None:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.press("u")
            await finish_work(pilot)
            assert set(received(module)) == {"alpha"}
            table = cells(app)
            assert table["Docs.first"]["inserted"] == "3"
            assert table["Docs.second"]["inserted"] == ""
            (severity, _, message) = next(
                n for n in notifications(app) if n[1].startswith("Update")
            )
            assert severity == "warning" and "Docs.second" in message

    run(scenario)


def test_failed_rows_show_in_the_table_and_the_detail(
    dirs: dict[str, Path], engines: list[Engine]
) -> None:
    engine = recording_engine(dirs, engines)
    engine.apply(engine.plan())
    module = recorder()
    module.FAIL.add("mutate")
    app = make_app(engine)

    async def scenario() -> None:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.press("u")
            await finish_work(pilot)
            table = cells(app)
            assert table["Docs.first"]["errors"] == table["Docs.second"]["errors"] == "3"
            assert table["Docs.first"]["inserted"] == "0"
            run_status = str(app.query_one("#run-status", Static).render())
            assert run_status == "idle  3/3 rows  3 error(s)"
            detail = detail_text(app)
            assert "last row error" in detail and "mutate failed" in detail
            assert "Traceback" in detail
            (severity, title, message) = notifications(app)[-1]
            assert (severity, title) == ("error", "Update finished")
            assert "3 row(s) failed" in message

    run(scenario)
    assert received(module) == {}


async def wait_in_thread(event: threading.Event) -> None:
    assert await asyncio.to_thread(event.wait, 10)


def test_quitting_mid_run_loses_nothing(dirs: dict[str, Path], engines: list[Engine]) -> None:
    engine = recording_engine(dirs, engines, files=6)
    engine.apply(engine.plan())
    module = recorder()
    module.CALLS.clear()
    module.GATE = threading.Event()
    app = make_app(engine, update_options=UpdateOptions(batch_rows=2))

    async def scenario() -> None:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.press("u")
            await wait_in_thread(module.IN_MUTATE)  # the first batch is being written
            assert app.stop_token is not None
            await pilot.press("q")
            assert app.is_running  # waits for the batch in flight
            assert any("before quitting" in n[2] for n in notifications(app))
            module.GATE.set()
            await app.workers.wait_for_complete()
            for _ in range(100):
                if not app.is_running:
                    break
                await asyncio.sleep(0.01)
            assert not app.is_running

    run(scenario)
    first = {key for _, _, key, _ in mutate_calls(module)}
    assert first == {"doc0.txt", "doc1.txt"}  # one batch, then the run stopped
    module.CALLS.clear()
    module.GATE = None
    result = open_engine(engines, dirs["app"] / "tui_app.py").update()
    second = {key for _, _, key, _ in mutate_calls(module)}
    assert second == {f"doc{i}.txt" for i in range(2, 6)}
    assert not result.stopped and result.errors == 0


def test_stop_ends_the_run_at_a_batch_boundary(
    dirs: dict[str, Path], engines: list[Engine]
) -> None:
    engine = recording_engine(dirs, engines, files=6)
    engine.apply(engine.plan())
    module = recorder()
    module.CALLS.clear()
    module.GATE = threading.Event()
    app = make_app(engine, update_options=UpdateOptions(batch_rows=2))

    async def scenario() -> None:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.press("u")
            await wait_in_thread(module.IN_MUTATE)
            assert app.check_action("stop", ()) is True
            assert app.check_action("update", ()) is None  # shown, but not while running
            await pilot.press("s")
            module.GATE.set()
            await finish_work(pilot)
            assert app.is_running and app.stop_token is None
            assert any(n[1] == "Update stopped" for n in notifications(app))
            assert cells(app)["Docs.first"]["inserted"] == "2"

    run(scenario)


# -- read-only mode -----------------------------------------------------------------------------


def test_read_only_mode_refuses_mutations(dirs: dict[str, Path], engines: list[Engine]) -> None:
    engine = recording_engine(dirs, engines)
    engine.apply(engine.plan(), engine.plan().select(["first"]))
    module = recorder()
    module.CALLS.clear()
    app = make_app(engine, read_only=True)

    async def scenario() -> None:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.pause()
            assert "read-only" in app.sub_title
            for action in ("update", "drop"):
                assert app.check_action(action, ()) is False
            await pilot.press("u", "d")
            assert app.workers == [] or all(w.group != "engine" for w in app.workers)
            assert not isinstance(app.screen, PlanScreen)
            await pilot.press("p")  # reviewing is allowed, applying is not
            screen = app.screen
            assert isinstance(screen, PlanScreen)
            assert screen.check_action("apply_selected", ()) is False
            assert screen.check_action("apply_all", ()) is False
            await pilot.press("a", "A")
            assert app.screen is screen
            assert "read-only" in str(screen.query_one("#plan-summary", Static).render())
            await pilot.press("escape")
            # Nor through the command palette.
            entries = await palette_entries(app)
            assert "Plan: review pending setup changes" in entries
            assert not {"Update: export changed rows", "Drop the selected target"} & set(entries)
            await finish_work(pilot)
        assert module.CALLS == []
        assert [c.name for c in engine.plan().pending] == ["Docs.second"]

    run(scenario)


# -- comforts -----------------------------------------------------------------------------------


def test_filter_narrows_the_table(dirs: dict[str, Path], engines: list[Engine]) -> None:
    app = make_app(open_engine(engines, DEMO))

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("slash")
            box = app.query_one("#filter", Input)
            assert box.display and app.focused is box
            await pilot.press(*"outl")
            assert list(cells(app)) == ["DemoDocs.outline"]
            detail = detail_text(app)
            assert detail.startswith("DemoDocs.outline")
            await pilot.press("enter")  # back to the table, filter kept
            assert app.focused is app.query_one("#targets")
            assert list(cells(app)) == ["DemoDocs.outline"]
            await pilot.press("slash", "z", "z")
            assert cells(app) == {}
            assert detail_text(app) == "No target."
            await pilot.press("escape")  # clears and closes the filter
            assert not box.display and box.value == ""
            assert list(cells(app)) == ["DemoDocs.pages", "DemoDocs.outline"]

    run(scenario)


def test_question_mark_opens_help(dirs: dict[str, Path], engines: list[Engine]) -> None:
    app = make_app(open_engine(engines, DEMO))

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            # The main screen's keys do nothing under the help.
            await pilot.press("p")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            assert not isinstance(app.screen, HelpScreen)

    run(scenario)


def palette_options(app: CocotuiApp) -> list[str]:
    assert isinstance(app.screen, CommandPalette)
    options = app.screen.query_one(OptionList)
    return [
        str(options.get_option_at_index(i).prompt).split("\n")[0]
        for i in range(options.option_count)
    ]


async def open_palette(pilot: Any, query: str) -> list[str]:
    """Open the command palette, type ``query`` and return the titles it offers."""
    await pilot.press("ctrl+p", *query)
    for _ in range(100):  # the palette searches in the background
        await pilot.pause(0.02)
        found = palette_options(pilot.app)
        if found:
            return found
    return []


async def palette_entries(app: CocotuiApp) -> list[str]:
    """What the app's palette provider offers before anything is typed."""
    provider = CocotuiCommands(app.screen)
    return [str(hit.text) async for hit in provider.discover()]


def test_command_palette_lists_actions_and_targets(
    dirs: dict[str, Path], engines: list[Engine]
) -> None:
    app = make_app(open_engine(engines, DEMO))

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            entries = await palette_entries(app)
            titles = [title for title, action in ACTIONS if action != "stop"]
            targets = ["Target: DemoDocs.pages (to create)", "Target: DemoDocs.outline (to create)"]
            assert entries == titles + targets  # stop is offered only while a run goes on
            # Choosing a target in the palette moves the cursor to it.
            assert "Target: DemoDocs.outline (to create)" in await open_palette(pilot, "outl")
            await pilot.press("enter")
            await pilot.pause()
            assert not isinstance(app.screen, CommandPalette)
            row = app.selected_row()
            assert row is not None and row.name == "DemoDocs.outline"
            # Choosing an action runs it.
            assert "Help: keys and status words" in await open_palette(pilot, "help")
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)

    run(scenario)


def test_the_theme_choice_is_persisted(dirs: dict[str, Path], engines: list[Engine]) -> None:
    engine = open_engine(engines, DEMO)

    async def choose() -> None:
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            assert app.theme != "nord"
            app.theme = "nord"
            await pilot.pause()

    async def reopen() -> str:
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            return app.theme

    run(choose)
    config = dirs["config"] / "config.toml"
    assert 'theme = "nord"' in config.read_text()
    assert run(reopen) == "nord"


def test_f8_saves_an_svg_screenshot(
    dirs: dict[str, Path], engines: list[Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(dirs["app"] / "data"))
    app = make_app(open_engine(engines, DEMO))

    async def scenario() -> None:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.press("f8")
            await pilot.pause()

    run(scenario)
    saved = list((dirs["app"] / "data" / "cocotui" / "screenshots").glob("*.svg"))
    assert len(saved) == 1 and "DemoDocs.pages" in saved[0].read_text().replace("&#160;", " ")
