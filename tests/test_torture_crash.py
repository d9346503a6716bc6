"""Crash torture (issue 7, item 1) in the test suite: a dozen trials of ``tests/torture.py`` in
cover mode, where the kill points take turns, so that every point is tried: inside
``apply_setup_change`` and ``mutate``, between a connector call and the state commit, inside a
TOML state write, a row-tracking transaction and the SQLite target's transaction, while the
files target writes or removes a file, and at random moments, during ``apply``, ``update`` and
``update --live``. Each trial recovers with a plain apply + update and checks targets, state and
tracking. ``python tests/torture.py --trials 200`` is the long run."""

from __future__ import annotations

import os
from pathlib import Path

import torture

from cocotui.state.setup_store import AppState, TomlSetupStore


def test_killed_runs_converge_with_nothing_lost_or_stale() -> None:
    seed = int(os.environ.get("TORTURE_SEED", "5"))
    summary = torture.run_trials(12, seed, jobs=2, cover=True)
    report = summary.report()
    assert summary.ok, report
    victims = [v for r in summary.results for v in r.victims]
    killed = [v for v in victims if v.outcome == "killed"]
    assert len(killed) * 2 >= len(victims), report
    # Every kill point of an apply is reached (the config changes are chosen to reach them).
    reached = {v.kill.rsplit(":", 1)[0] for v in killed if v.command == "apply"}
    reached |= {v.kill for v in killed if v.command == "apply"}
    missing = [p for p in torture.SETUP_POINTS if p not in reached]
    assert not missing, f"apply kill points never reached: {missing}\n{report}"


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
