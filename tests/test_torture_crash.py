"""Crash torture (issue 7, item 1) in the test suite: a dozen trials of ``tests/torture.py`` in
cover mode, where the kill points take turns, so that every point is tried: inside
``apply_setup_change`` and ``mutate``, between a connector call and the state commit, inside a
TOML state write, a row-tracking transaction and the SQLite target's transaction, while the
files target writes or removes a file, and at random moments, during ``apply``, ``update`` and
``update --live``. Each trial recovers with a plain apply + update and checks targets, state and
tracking. ``python tests/torture.py --trials 200`` is the long run."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import torture
from conftest import Workspace, export

from cocotui.state.setup_store import AppState, TomlSetupStore


def test_killed_runs_converge_with_nothing_lost_or_stale() -> None:
    seed = int(os.environ.get("TORTURE_SEED", "5"))
    summary = torture.run_trials(12, seed, jobs=2, cover=True)
    report = summary.report()
    assert summary.ok, report
    victims = [v for r in summary.results for v in r.victims]
    killed = [v for v in victims if v.outcome == "killed"]
    assert len(killed) * 2 >= len(victims), report
    # Every kill point of an apply is reached (the config changes are chosen to reach them),
    # and every data kill point of an update or a live run.
    for commands, points in (
        (("apply",), torture.SETUP_POINTS),
        (("update", "live"), torture.DATA_POINTS),
    ):
        reached = {_point(v.kill, points) for v in killed if v.command in commands}
        missing = [p for p in points if p not in reached]
        assert not missing, f"{commands} kill points never reached: {missing}\n{report}"


def _point(kill: str, points: list[str]) -> str:
    """The kill point of ``kill`` without its occurrence (``files-write:2``) or row count
    (``mutate:rows=3``)."""
    point = kill.split("=", 1)[0]
    return point if point in points else point.rsplit(":", 1)[0]


def test_temp_files_of_killed_state_writes_are_removed_by_the_next_write(tmp_path: Path) -> None:
    """Found by the torture: a writer killed before its rename left ``.<app>.toml.<pid>.tmp``
    beside the state file for good. The next write (under the writer lock) removes it."""
    path = tmp_path / "app.toml"
    store = TomlSetupStore(path, "app")
    store.save(AppState("app"))
    left = [tmp_path / ".app.toml.4242.tmp", tmp_path / ".app.toml.99.tmp"]
    for stale in left:
        stale.write_bytes(b"schema_version = 1\n")  # cut short by SIGKILL
    other = tmp_path / ".other.toml.4242.tmp"
    other.write_bytes(b"")
    store.save(AppState("app"))
    assert not any(p.exists() for p in left)
    assert other.exists()  # another app's file is not this store's business
    assert store.load() == AppState("app")


def test_recreate_after_an_interrupted_drop_deletes_rows_no_longer_produced(
    workspace: Workspace,
) -> None:
    """Found by the torture: a drop killed before the connector was called leaves the target
    with its rows, and the next apply creates it "again". Row tracking must keep its keys then
    (values unknown): every row is sent again, and a row whose source is gone is deleted. It
    used to be reset, so the rows of files deleted meanwhile stayed in the target for good."""
    ws = workspace
    ws.write_app(export("out", resource="a"))
    ws.write_source_file("b.txt", "beta")
    assert ws.apply().returncode == 0
    assert ws.cli("update", ws.app, "--workers", "1").returncode == 0
    assert set(json.loads((ws.resources / "a.rows.json").read_text())) == {'"a.txt"', '"b.txt"'}

    (ws.source_dir / "b.txt").unlink()
    killed = ws.cli("drop", ws.app, "--yes", kill="apply_setup_change:before")
    assert killed.returncode == -signal.SIGKILL
    [change] = ws.plan_json()["changes"]
    assert (change["action"], change["compatibility"]) == ("create", "compatible")
    assert "an earlier drop may have been applied" in change["reason"]

    assert ws.apply().returncode == 0
    result = ws.cli("update", ws.app, "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert json.loads((ws.resources / "a.rows.json").read_text()) == {
        '"a.txt"': {"content": "alpha"}
    }


def test_an_update_removes_temp_files_of_killed_state_writes(workspace: Workspace) -> None:
    """Found by the torture: a drop killed before its first state write was renamed, then an
    apply with nothing to do, left the temporary file for good. An update (which holds the
    writer lock) removes it too."""
    ws = workspace
    ws.write_app(export("out", resource="a"))
    assert ws.apply().returncode == 0
    stale = ws.state_dir / f".{ws.state_file.name}.4242.tmp"
    stale.write_bytes(ws.state_file.read_bytes()[:10])
    assert ws.apply().returncode == 0  # nothing to apply: the state is not written
    assert stale.exists()
    assert ws.cli("update", ws.app, "--workers", "1").returncode == 0
    assert not stale.exists()
