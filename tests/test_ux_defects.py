"""The UX defects a new user hits first (issue 15, "UX defects found on the way"): the
confirmation dialog's keys, the plan screen after an apply, the event log's wrapping, F8 in
dialogs and where screenshots go, hints that repeat --state-dir/--app-name, one name per
status, and how ``drop --yes`` words what is left."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ExportDecl, Workspace
from snapshot import (
    SIZE,
    StillMonitor,
    cells,
    isolated_imports,
    notifications,
    recorder,
    run,
    write_recording_app,
)
from textual.widgets import Button, RichLog

from cocotui.engine.facade import Engine
from cocotui.engine.plan import Action
from cocotui.tui.app import STATUS_LABELS, CocotuiApp
from cocotui.tui.commands import CocotuiCommands
from cocotui.tui.help import HelpScreen
from cocotui.tui.plan_screen import ConfirmModal, PlanScreen


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    """Temporary state, config, home and data directories; apps loaded as in a new process."""
    paths = {name: tmp_path / name for name in ("state", "config", "home", "data", "work")}
    paths["work"].mkdir()
    monkeypatch.setenv("COCOTUI_STATE_DIR", str(paths["state"]))
    monkeypatch.setenv("COCOTUI_CONFIG_DIR", str(paths["config"]))
    monkeypatch.setenv("HOME", str(paths["home"]))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(paths["home"] / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(paths["data"]))
    monkeypatch.chdir(paths["work"])
    with isolated_imports(tmp_path):
        yield paths


@pytest.fixture
def engine(dirs: dict[str, Path]) -> Iterator[Engine]:
    app = write_recording_app(dirs["config"].parent / "app", dirs["config"].parent / "source")
    for i in range(3):
        (dirs["config"].parent / "source" / f"doc{i}.txt").write_text(f"document {i}\n")
    opened = Engine.open(str(app))
    yield opened
    opened.close()


def make_app(engine: Engine) -> CocotuiApp:
    return CocotuiApp(engine, monitor_factory=StillMonitor)


async def finish_work(pilot: Any) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def statuses(app: CocotuiApp) -> dict[str, str]:
    return {name: row["status"] for name, row in cells(app).items()}


# -- the confirmation dialog and after --------------------------------------------------------


def test_p_a_y_applies_and_returns_to_the_targets_where_u_updates(engine: Engine) -> None:
    app = make_app(engine)
    module = recorder()

    async def scenario() -> None:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.press("p", "A")
            modal = app.screen
            assert isinstance(modal, ConfirmModal)
            labels = {str(b.label) for b in modal.query(Button)}
            assert labels == {"Cancel (n/Esc)", "Apply (y)"}
            await pilot.press("y")
            await finish_work(pilot)
            assert not isinstance(app.screen, PlanScreen | ConfirmModal)  # back to the targets
            assert statuses(app) == {"Docs.first": "ready", "Docs.second": "ready"}
            await pilot.press("u")
            await finish_work(pilot)
        assert len([c for c in module.CALLS if c[0] == "mutate"]) == 6

    run(scenario)


@pytest.mark.parametrize("key", ["n", "escape", "enter"])
def test_n_esc_and_enter_cancel_and_say_so(engine: Engine, key: str) -> None:
    app = make_app(engine)

    async def scenario() -> None:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.press("p", "A", key)
            await finish_work(pilot)
            assert isinstance(app.screen, PlanScreen)
            assert ("information", "", "Cancelled: nothing was applied.") in notifications(app)
        assert recorder().CALLS == []

    run(scenario)


def test_y_does_not_confirm_a_drop_before_its_name_is_typed(engine: Engine) -> None:
    engine.apply(engine.plan())
    app = make_app(engine)

    async def scenario() -> None:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.press("d", "a")
            modal = app.screen
            assert isinstance(modal, ConfirmModal)
            await pilot.press("y")  # typed into the name box
            await pilot.pause()
            assert app.screen is modal

    run(scenario)
    assert not [c for c in recorder().CALLS if c[0] == "apply_setup_change" and c[3]]


# -- the event log ---------------------------------------------------------------------------


def test_event_log_lines_wrap_at_120_columns(engine: Engine) -> None:
    app = make_app(engine)

    async def scenario() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            log = app.query_one("#log", RichLog)
            width = log.scrollable_content_region.width
            assert width < 78  # narrower than RichLog's default minimum
            lines = [strip.text for strip in log.lines]
            assert all(strip.cell_length <= width for strip in log.lines), lines
            text = " ".join(line.strip() for line in lines)
            assert text.endswith("(p to review) are skipped."), text

    run(scenario)


# -- screenshots -----------------------------------------------------------------------------


def test_f8_works_in_dialogs_and_saves_under_the_user_data_dir(
    engine: Engine, dirs: dict[str, Path]
) -> None:
    app = make_app(engine)

    async def scenario() -> None:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("f8")
            await pilot.press("escape", "p", "A")
            assert isinstance(app.screen, ConfirmModal)
            await pilot.press("f8")
            await pilot.pause()

    run(scenario)
    folder = dirs["data"] / "cocotui" / "screenshots"
    saved = sorted(folder.glob("*.svg"))
    assert len(saved) == 2
    assert "Apply" in saved[1].read_text().replace("&#160;", " ")
    assert not list(dirs["work"].glob("*.svg"))
    said = [m for _, title, m in notifications(app) if title == "Screenshot"]
    assert said == [f"Saved to {path}" for path in saved]


def test_f8_saves_in_the_pictures_dir_when_there_is_one(
    engine: Engine, dirs: dict[str, Path]
) -> None:
    (dirs["home"] / "Pictures").mkdir(parents=True)
    app = make_app(engine)

    async def scenario() -> None:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.press("f8")
            await pilot.pause()

    run(scenario)
    assert len(list((dirs["home"] / "Pictures" / "cocotui").glob("*.svg"))) == 1


# -- one name per status ---------------------------------------------------------------------


def test_a_status_has_one_name_in_the_cli_the_table_and_the_palette(engine: Engine) -> None:
    for word, label in STATUS_LABELS.items():
        assert label.plain.lstrip("+~-! ") == word.lower()
    engine.apply(engine.plan())
    app = make_app(engine)

    async def scenario() -> list[str]:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            provider = CocotuiCommands(app.screen)
            entries = [str(hit.text) async for hit in provider.discover()]
            return [*statuses(app).values(), *entries]

    shown = run(scenario)
    assert [row.status for row in engine.status()] == ["READY", "READY"]
    assert shown[:2] == ["ready", "ready"]
    assert "Target: Docs.first (ready)" in shown
    assert Action.NONE.status_word == "READY"


# -- CLI wording -----------------------------------------------------------------------------


def test_update_hint_repeats_state_dir_and_app_name(workspace: Workspace, tmp_path: Path) -> None:
    ws = workspace
    ws.write_app(ExportDecl("out", "RecordingTarget(resource='a')"))
    state = tmp_path / "my state"
    result = ws.cli("update", ws.app, "--state-dir", state, "--app-name", "other")
    assert result.returncode == 2, result.stderr
    assert (
        f"review it with `cocotui plan {ws.app} --app-name other --state-dir '{state}'`"
        in result.stderr
    )
    assert f"`cocotui apply {ws.app} --app-name other --state-dir '{state}'`" in result.stderr


def test_drop_yes_words_what_is_left_as_no_failure(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(ExportDecl("out", "RecordingTarget(resource='a')"))
    assert ws.apply().returncode == 0
    result = ws.cli("drop", ws.app, "--yes")
    assert result.returncode == 0, result.stderr
    assert "Still pending" not in result.stdout
    assert "Applied 1 change(s)." in result.stdout
    assert (
        "Not part of this command, waiting for approval: Docs.out (to create, as the app still "
        "exports to it)" in result.stdout
    )
