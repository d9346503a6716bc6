"""Where an app's state lives: ``--state-dir``, else ``$COCOTUI_STATE_DIR``, else the
platform's user state directory; and the checks that make that directory safe to write."""

from __future__ import annotations

import dataclasses
import errno
import os
import stat
from pathlib import Path

from cocotui.state.errors import CHOOSE_ANOTHER, StateError, state_access_error


def state_dir(override: str | os.PathLike[str] | None = None) -> Path:
    if override:
        return Path(override)
    from_env = os.environ.get("COCOTUI_STATE_DIR")
    if from_env:
        return Path(from_env)
    import platformdirs  # only for the default directory: imports shutil, tempfile, random...

    return platformdirs.user_state_path("cocotui", appauthor=False)


def check_state_dir(directory: Path) -> None:
    """Refuse a state directory someone else could tamper with: owned by another user, or
    writable by group or others (they could plant a symlink where a state file goes). A
    directory that does not exist yet is fine: cocotui creates it private (mode 0700)."""
    try:
        info = directory.stat()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise state_access_error(exc, directory, "read state directory") from None
    if not stat.S_ISDIR(info.st_mode):
        reason = os.strerror(errno.ENOTDIR)
        raise StateError(f"state directory {directory}: {reason}; {CHOOSE_ANOTHER}")
    me = os.geteuid()
    if info.st_uid != me:
        raise StateError(
            f"state directory {directory} belongs to uid {info.st_uid}, not to you (uid {me}); "
            f"cocotui only keeps state in a directory of yours: {CHOOSE_ANOTHER}"
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        mode = stat.S_IMODE(info.st_mode)
        raise StateError(
            f"state directory {directory} is writable by other users (mode {mode:o}); "
            f"run `chmod go-w {directory}`, or {CHOOSE_ANOTHER}"
        )


def make_state_dir(directory: Path) -> None:
    """Create ``directory`` (private) if needed, then check it; for writers."""
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise state_access_error(exc, directory, "create state directory") from None
    check_state_dir(directory)


@dataclasses.dataclass(frozen=True)
class AppPaths:
    directory: Path
    app: str

    @property
    def setup_state(self) -> Path:
        return self.directory / f"{self.app}.toml"

    @property
    def tracking(self) -> Path:
        return self.directory / f"{self.app}.tracking.sqlite"

    @property
    def lock(self) -> Path:
        return self.directory / f"{self.app}.lock"

    @property
    def status(self) -> Path:
        """What the app's exporter is doing, and its targets' recent runs
        (:mod:`cocotui.state.status_store`)."""
        return self.directory / f"{self.app}.status.json"

    def renamed(self, app: str) -> AppPaths:
        return AppPaths(self.directory, app)


def app_paths(app: str, override: str | os.PathLike[str] | None = None) -> AppPaths:
    return AppPaths(state_dir(override), app)
