"""One writer per app: an exclusive ``flock`` on a lock file that records the holder's pid.

A second writer fails at once (no waiting) with a message naming the holder. The kernel
releases the lock when the holder dies, so a killed process never leaves a stale lock.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path
from types import TracebackType

from cocotui.state.errors import StateError, StateLockedError, state_access_error
from cocotui.state.paths import make_state_dir


class WriterLock:
    """Re-entrant within one process; exclusive across processes."""

    def __init__(self, path: Path, app: str) -> None:
        self.path = path
        self.app = app
        self._fd: int | None = None
        self._depth = 0

    def __enter__(self) -> WriterLock:
        if self._depth == 0:
            make_state_dir(self.path.parent)
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                raise StateLockedError(
                    f"the state of app '{self.app}' is being written by another cocotui process "
                    f"(pid {holder}); wait for it to finish or stop it (lock file: {self.path})"
                ) from None
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, str(os.getpid()).encode(), 0)
            except OSError as exc:
                os.close(fd)  # closing releases the lock
                raise state_access_error(exc, self.path, "write lock file") from None
            self._fd = fd
        self._depth += 1
        return self

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
