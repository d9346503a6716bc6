"""Adopting the state an app file had under its old default name (the bare file stem).

Before default names carried a digest of the app's path, ``p1/app.py`` and ``p2/app.py`` shared
the state ``app``. That state is moved to the new name by the first app that can own it without
a drop: one that declares every target the state holds. Any other app leaves it alone (it may
be the other project's) and is told how to claim it.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path

from cocotui.state.errors import state_access_error
from cocotui.state.lock import WriterLock
from cocotui.state.paths import AppPaths
from cocotui.state.setup_store import TomlSetupStore

Identity = tuple[str, str, str]


def adopt_legacy_state(paths: AppPaths, legacy_name: str, desired: Collection[Identity]) -> str:
    """Move the state stored under ``legacy_name`` to ``paths`` when it is this app's. Returns
    ``""``, or a notice saying why a legacy state was left where it is."""
    legacy = paths.renamed(legacy_name)
    if legacy_name == paths.app or not _unclaimed(legacy, paths):
        return ""
    with WriterLock(legacy.lock, legacy_name), WriterLock(paths.lock, paths.app):
        if not _unclaimed(legacy, paths):
            return ""  # another process adopted it meanwhile
        stored = TomlSetupStore(legacy.setup_state, legacy_name).load()
        strays = [t for t in stored.targets if t.identity not in desired]
        if strays:
            names = ", ".join(sorted(f"{t.flow}.{t.export}" for t in strays))
            return (
                f"state {legacy.setup_state} (from before app names included a digest of the "
                f"app's path) holds targets this app does not declare ({names}), so it was not "
                f"adopted; if it is this app's, pass --app-name {legacy_name}"
            )
        _move_tracking(legacy.tracking, paths.tracking)
        _move(legacy.setup_state, paths.setup_state)
    legacy.lock.unlink(missing_ok=True)
    return ""


def _unclaimed(legacy: AppPaths, paths: AppPaths) -> bool:
    """A legacy state exists, this app has none, and no cocotui that records owners wrote it
    (such a state was named on purpose with --app-name)."""
    if paths.setup_state.exists() or not legacy.setup_state.is_file():
        return False
    return TomlSetupStore(legacy.setup_state, legacy.app).recorded_app_file() is None


def _move_tracking(source: Path, destination: Path) -> None:
    if not source.exists():
        return
    for suffix in ("-wal", "-shm"):  # a stale journal must not be applied to the moved file
        Path(f"{destination}{suffix}").unlink(missing_ok=True)
    for suffix in ("-wal", "-shm", ""):
        if Path(f"{source}{suffix}").exists():
            _move(Path(f"{source}{suffix}"), Path(f"{destination}{suffix}"))


def _move(source: Path, destination: Path) -> None:
    try:
        os.replace(source, destination)
    except OSError as exc:
        raise state_access_error(exc, source, "move old state file") from None
