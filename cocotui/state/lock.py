"""One writer per app: an exclusive ``flock`` on a lock file that records the holder's pid.

A second writer fails at once (no waiting) with a message naming the holder (and, from the
status store, what it is doing). The kernel releases the lock when the holder dies, so a killed
process never leaves a stale lock. Readers probing whether an exporter still runs take a shared
lock for an instant (:func:`cocotui.state.status_store.lock_holder`): a writer meeting such a
probe (a lock held but naming no pid) tries again for a moment instead of failing.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from cocotui.state.errors import StateError, state_access_error
from cocotui.state.paths import AppPaths, make_state_dir
from cocotui.state.status_store import describe_exporter

#: How long a writer waits out a reader's probe of the lock (seconds).
PROBE_WAIT_S = 0.5


class StateLockedError(RuntimeError):
    """Another process is writing this app's state."""


class WriterLock:
    """Re-entrant within one process; exclusive across processes."""

    def __init__(self, path: Path, app: str, paths: AppPaths | None = None) -> None:
        self.path = path
        self.app = app
        #: the app's files, when the lock is the app's own: its status names a busy holder
        self.paths = paths
        self._fd: int | None = None
        self._depth = 0

    @classmethod
    def of(cls, paths: AppPaths) -> WriterLock:
        """The writer lock of the app whose files are ``paths``."""
        return cls(paths.lock, paths.app, paths)

    def __enter__(self) -> WriterLock:
        if self._depth == 0:
            make_state_dir(self.path.parent)
            fd = self._open()
            holder = _take(fd)
            if holder is not None:
                os.close(fd)
                raise StateLockedError(self._busy_message(holder)) from None
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, str(os.getpid()).encode(), 0)
            except OSError as exc:
                os.close(fd)  # closing releases the lock
                raise state_access_error(exc, self.path, "write lock file") from None
            self._fd = fd
        self._depth += 1
        return self

    def _busy_message(self, holder: str) -> str:
        doing = describe_exporter(self.paths) if self.paths is not None else None
        who = doing or f"another cocotui process (pid {holder or 'unknown'})"
        return (
            f"the state of app '{self.app}' is being written by {who}; wait for it to finish "
            f"or stop it (lock file: {self.path})"
        )

    def _open(self) -> int:
        # O_NOFOLLOW: a symlink planted in place of the lock file must not make us truncate
        # whatever it points to.
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise StateError(
                    f"lock file {self.path} is a symbolic link; cocotui refuses to follow it. "
                    f"Remove it (`rm {self.path}`) if you did not put it there on purpose"
                ) from None
            raise state_access_error(exc, self.path, "open lock file") from None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._depth > 0


def _take(fd: int) -> str | None:
    """Take the lock on ``fd``; ``None`` once taken, else what the lock file says of its
    holder (its pid, or ``""``). A holder that names no pid is a reader's instant probe (a
    writer writes its pid as soon as it holds the lock): waited out for a moment."""
    deadline = time.monotonic() + PROBE_WAIT_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return None
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
            if holder or time.monotonic() >= deadline:
                return holder
            time.sleep(0.01)
