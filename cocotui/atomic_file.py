"""Replacing a file atomically: the one way cocotui (state files, settings) and connectors
(``connectors/files.py``) write a whole file, so a reader or a crash sees the old content or
the new, never a mix (see docs/architecture.md, "State files")."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["write_file_atomically"]


def write_file_atomically(
    path: Path,
    data: bytes,
    *,
    private: bool = False,
    temp: Path | None = None,
    sync_directory: bool = True,
) -> None:
    """Replace ``path`` with a file holding ``data``: write a temporary file beside it, fsync
    it, rename it over ``path``.

    ``private`` makes the file readable by its owner only (and a missing parent directory
    too); otherwise the umask decides. ``temp`` names the temporary file (default:
    ``.<name>.<pid>.tmp`` beside ``path``), e.g. one a caller recognises and hides; anything
    already there is left from a dead writer (or planted), so it is removed first, and the new
    one is created exclusively: never written through a symlink. ``sync_directory`` also
    fsyncs the directory, so the rename itself survives a crash. Raises ``OSError`` (the
    caller knows what the file is for and how to word the error); the temporary file is
    removed then.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700 if private else 0o777)
    if temp is None:
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.unlink(missing_ok=True)  # removes a symlink itself, never its target
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    fd = os.open(temp, flags, 0o600 if private else 0o666)
    try:
        try:
            rest = memoryview(data)
            while rest:
                rest = rest[os.write(fd, rest) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    if sync_directory:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
