"""Which state an app uses: two projects whose app files have the same name never share
state; state from before names carried a digest of the app's path is adopted by its app, once,
without a drop; `ls` says which file the state belongs to (issue 15, item 4)."""

from __future__ import annotations

import dataclasses
import json
import shutil
import tomllib

import tomli_w
from conftest import Workspace, export

from cocotui.state.setup_store import END_MARKER


def other_project(ws: Workspace) -> Workspace:
    """A second project with an app file of the same name, sharing the state directory, the
    call log and the resources directory."""
    root = ws.root.parent / "other-project"
    root.mkdir()
    shutil.copy(ws.root / "recording_connector.py", root / "recording_connector.py")
    return dataclasses.replace(ws, root=root)


def test_same_file_name_in_two_projects_keeps_two_states(workspace: Workspace) -> None:
    ws = workspace
    other = other_project(ws)
    ws.write_app(export("out", resource="p1"))
    other.write_app(export("out", resource="p2"))
    assert ws.apply().returncode == 0
    ws.clear_calls()

    applied = other.apply()

    assert applied.returncode == 0, applied.stderr
    assert [call[0] for call in ws.take_setup_calls()] == ["p2"]  # created; p1 never dropped
    assert ws.resource("p1") is not None and ws.resource("p2") is not None
    assert ws.state_file != other.state_file
    assert ws.plan_json()["changes"][0]["action"] == "none"


def test_ls_names_the_app_file_and_its_state_file(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"))
    assert ws.apply().returncode == 0

    text = ws.cli("ls", ws.app)
    listing = json.loads(ws.cli("ls", ws.app, "--json").stdout)

    assert text.returncode == 0, text.stderr
    assert str(ws.app.resolve()) in text.stdout and str(ws.state_file) in text.stdout
    assert listing["app_file"] == str(ws.app.resolve())
    assert listing["state_file"] == str(ws.state_file)
    assert ws.state()["app_file"] == str(ws.app.resolve())


def make_legacy_state(ws: Workspace) -> None:
    """What an older cocotui left: state named after the file stem, without the owner's path."""
    legacy = ws.app.stem
    assert ws.apply("--app-name", legacy).returncode == 0
    result = ws.cli("update", ws.app, "--app-name", legacy, "--workers", "1")
    assert result.returncode == 0, result.stderr
    path = ws.state_dir / f"{legacy}.toml"
    document = tomllib.loads(path.read_text())
    del document["app_file"]
    path.write_text(tomli_w.dumps(document) + f"\n{END_MARKER}\n")
    ws.clear_calls()


def test_state_under_the_old_name_is_adopted_once_without_a_drop(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"))
    make_legacy_state(ws)

    plan = ws.plan_json()
    update = ws.cli("update", ws.app, "--workers", "1")

    assert [change["action"] for change in plan["changes"]] == ["none"]
    assert update.returncode == 0, update.stderr
    assert "0 added, 0 updated, 0 deleted, 1 unchanged" in update.stdout  # tracking came along
    assert ws.side_effect_calls() == []
    assert ws.state_file.exists()
    assert ws.state_file.with_suffix(".status.json").exists()  # the run history came along
    assert sorted(p.name for p in ws.state_dir.iterdir() if p.name.startswith("demo_app.")) == []


def test_old_state_of_another_project_is_left_alone(workspace: Workspace) -> None:
    ws = workspace
    other = other_project(ws)
    ws.write_app(export("out", resource="p1"))
    make_legacy_state(ws)  # p1's state, from before names carried a digest
    other.write_app(export("out", resource="p2"))

    applied = other.apply()

    assert applied.returncode == 0, applied.stderr
    assert "was not adopted; if it is this app's, pass --app-name demo_app" in applied.stderr
    assert [call[0] for call in ws.take_setup_calls()] == ["p2"]  # p1 is not dropped
    assert ws.resource("p1") is not None
    # p1 itself still finds its state afterwards.
    assert [change["action"] for change in ws.plan_json()["changes"]] == ["none"]
    assert ws.side_effect_calls() == []


def test_app_name_option_still_names_the_state(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"))
    assert ws.apply("--app-name", "chosen").returncode == 0
    assert (ws.state_dir / "chosen.toml").exists()
    assert not ws.state_file.exists()


def test_a_moved_project_keeps_its_state(workspace: Workspace) -> None:
    """The state's name holds a digest of the app's path: after the project directory moves,
    its state (whose app file is gone) is adopted, and nothing is created or sent again."""
    ws = workspace
    ws.write_app(export("out", resource="a"))
    assert ws.apply().returncode == 0
    assert ws.cli("update", ws.app, "--workers", "1").returncode == 0
    ws.clear_calls()
    moved = dataclasses.replace(ws, root=ws.root.rename(ws.root.parent / "moved"))

    update = moved.cli("update", moved.app, "--workers", "1")

    assert update.returncode == 0, update.stderr
    assert "0 added, 0 updated, 0 deleted, 1 unchanged" in update.stdout
    assert moved.side_effect_calls() == []
    assert moved.state_file.exists() and not ws.state_file.exists()
