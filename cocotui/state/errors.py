"""Errors about the state files, worded for the person who has to fix them: each names the
path and says what to do. An OS or SQLite error from the state directory (disk full, read-only,
permission denied) becomes one of these instead of a traceback."""

from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3
    from pathlib import Path

CHOOSE_ANOTHER = "choose another state directory with --state-dir or $COCOTUI_STATE_DIR"

_REMEDIES = {
    errno.ENOSPC: f"free some space on its file system, or {CHOOSE_ANOTHER}",
    errno.EDQUOT: f"free some space within your disk quota, or {CHOOSE_ANOTHER}",
    errno.EACCES: f"make it writable by you, or {CHOOSE_ANOTHER}",
    errno.EPERM: f"make it writable by you, or {CHOOSE_ANOTHER}",
    errno.EROFS: f"its file system is mounted read-only: {CHOOSE_ANOTHER}",
}

#: SQLite result codes (``sqlite3.Error.sqlite_errorcode & 0xff``) that are the environment's
#: fault, as the OS error they stand for.
_SQLITE_AS_ERRNO = {13: errno.ENOSPC, 8: errno.EACCES}  # SQLITE_FULL, SQLITE_READONLY


class StateError(RuntimeError):
    """The stored state cannot be read or written; the message names the file and the fix."""


class StateLockedError(RuntimeError):
    """Another process is writing this app's state."""


class TrackingError(RuntimeError):
    """The tracking database is unusable; the message names the file."""


def state_access_error(exc: OSError, path: Path | str, doing: str) -> StateError:
    """``exc`` (raised while ``doing`` something to ``path``) as one actionable message."""
    code = exc.errno or 0
    reason = os.strerror(code) if code else str(exc)
    remedy = _REMEDIES.get(code, CHOOSE_ANOTHER)
    return StateError(f"cannot {doing} {path}: {reason}; {remedy}")


def database_error(exc: sqlite3.Error, path: Path, doing: str) -> StateError | None:
    """A SQLite error that is the environment's fault (full, read-only, cannot open) as a
    :class:`StateError`; ``None`` when the database itself is the problem."""
    code = getattr(exc, "sqlite_errorcode", None)
    mapped = _SQLITE_AS_ERRNO.get(code & 0xFF) if code is not None else None
    if mapped is None:
        return None
    return state_access_error(OSError(mapped, os.strerror(mapped)), path, doing)
