"""Adopting the state an app had under another name, so that no upgrade or move of a project
makes cocotui forget (and later re-create or drop) what the app set up.

A file app's state is named after its stem plus a digest of its path. Two earlier names are
looked for when the app has no state yet:

- the bare stem, used before names carried a digest (``p1/app.py`` and ``p2/app.py`` then
  shared the state ``app``);
- the stem with another digest, recorded for an app file that no longer exists (the project
  directory was moved or renamed).

Such a state is moved to the app's name only if it can be this app's without a drop: the app
declares every target it holds, and no other candidate fits too. Otherwise it is left where it
is (it may be another project's) and the app is told how to claim it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from pathlib import Path

from cocotui.state.errors import state_access_error
from cocotui.state.lock import WriterLock
from cocotui.state.paths import AppPaths
from cocotui.state.setup_store import TomlSetupStore

Identity = tuple[str, str, str]


def adopt_earlier_state(paths: AppPaths, stem: str, desired: Collection[Identity]) -> str:
    """Move this app's state from an earlier name to ``paths`` (see the module's doc). Returns
    ``""``, or a notice saying which earlier state was left where it is and why."""
    if paths.setup_state.exists():
        return ""
    candidates = _earlier_names(paths, stem)
    if not candidates:
        return ""
    with WriterLock(paths.lock, paths.app):
        if paths.setup_state.exists():
            return ""  # another process adopted one meanwhile
        fitting = [name for name in candidates if not _strays(paths.renamed(name), desired)]
        if len(fitting) != 1:
            return _notice(paths, candidates, fitting, desired)
        earlier = paths.renamed(fitting[0])
        with WriterLock(earlier.lock, earlier.app):
            _move_tracking(earlier.tracking, paths.tracking)
            if earlier.status.exists():  # its run history comes along
                _move(earlier.status, paths.status)
            _move(earlier.setup_state, paths.setup_state)
    earlier.lock.unlink(missing_ok=True)
    return ""


def _earlier_names(paths: AppPaths, stem: str) -> list[str]:
    names = []
    if stem != paths.app and _recorded_file(paths.renamed(stem)) == "":
        names.append(stem)  # written before states recorded their app file
    with_digest = re.compile(re.escape(stem) + r"-[0-9a-f]{8}")
    for path in sorted(paths.directory.glob("*.toml")):
        name = path.name.removesuffix(".toml")
        if name != paths.app and with_digest.fullmatch(name):
            recorded = _recorded_file(paths.renamed(name))
            if recorded and not Path(recorded).exists():
                names.append(name)  # its app file was moved away
    return names


def _recorded_file(paths: AppPaths) -> str | None:
    """The app file a state records; ``""`` if it records none; ``None`` if there is none."""
    if not paths.setup_state.is_file():
        return None
    return TomlSetupStore(paths.setup_state, paths.app).recorded_app_file() or ""


def _strays(earlier: AppPaths, desired: Collection[Identity]) -> list[str]:
    """The targets of an earlier state that this app does not declare."""
    stored = TomlSetupStore(earlier.setup_state, earlier.app).load()
    return sorted(f"{t.flow}.{t.export}" for t in stored.targets if t.identity not in desired)


def _notice(
    paths: AppPaths, candidates: list[str], fitting: list[str], desired: Collection[Identity]
) -> str:
    if fitting:
        files = ", ".join(str(paths.renamed(name).setup_state) for name in fitting)
        return (
            f"several earlier states could be this app's ({files}), so none was adopted; pass "
            f"--app-name with the name of the right one"
        )
    earlier = paths.renamed(candidates[0])
    return (
        f"earlier state {earlier.setup_state} holds targets this app does not declare "
        f"({', '.join(_strays(earlier, desired))}), so it was not adopted; if it is this "
        f"app's, pass --app-name {earlier.app}"
    )


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
        raise state_access_error(exc, source, "move earlier state file") from None
