"""One writer per app: an exclusive ``flock`` on a lock file that records the holder's pid.

A second writer fails at once (no waiting) with a message naming the holder. The kernel
releases the lock when the holder dies, so a killed process never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType


class StateLockedError(RuntimeError):
    """Another process is writing this app's state."""


class WriterLock:
    """Re-entrant within one process; exclusive across processes."""

    def __init__(self, path: Path, app: str) -> None:
        self.path = path
        self.app = app
        self._fd: int | None = None
        self._depth = 0

    def __enter__(self) -> WriterLock:
        if self._depth == 0:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                raise StateLockedError(
                    f"the state of app '{self.app}' is being written by another cocotui process "
                    f"(pid {holder}); wait for it to finish or stop it (lock file: {self.path})"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            self._fd = fd
        self._depth += 1
        return self

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
