"""Sources. ``LocalFile`` yields one row per file under a directory: ``filename`` (the path
relative to the directory, ``/``-separated) and ``content`` (``str``, or ``bytes`` when binary).

Listing only stats files; content is read when a row's version stamp changed. The stamp holds
the modification time, size, inode and status-change time (as git compares them): a file
rewritten with the same size and mtime (``touch -r``, ``cp -p``, ``rsync -t``) still gets a new
inode or ctime.

Only regular files are rows: FIFOs, sockets and devices are skipped, and never opened (opening a
FIFO blocks). A symlink is followed only when its target is inside the source directory, unless
``follow_external_symlinks`` is set; a directory link that leads back into a directory being
listed is never followed (it would list forever).
"""

from __future__ import annotations

import codecs
import dataclasses
import errno
import os
import re
import stat as stat_module
import struct
from collections.abc import Iterator
from fnmatch import translate
from typing import Any, NamedTuple, TypeAlias

from cocotui.engine_type import EnrichedValueType, basic

#: A source row as listed: its key and a cheap version stamp (no content read). A plain tuple:
#: listing makes one per file, and building a NamedTuple costs eight times as much.
Listed: TypeAlias = tuple[str, str]


class ListedRow(NamedTuple):
    """A :data:`Listed` pair with names, for sources where its cost does not show."""

    key: str
    stamp: str


def _compile(patterns: list[str] | None) -> re.Pattern[str] | None:
    """Glob patterns matched against the relative path; ``*`` crosses ``/`` and a leading
    ``**/`` also matches at the top level, as CocoIndex's LocalFile does."""
    if not patterns:
        return None
    alternatives: list[str] = []
    for pattern in patterns:
        alternatives.append(translate(pattern))
        if pattern.startswith("**/"):
            alternatives.append(translate(pattern[3:]))
    return re.compile("|".join(f"(?:{a})" for a in alternatives))


_pack_stamp = struct.Struct("<qqQq").pack


#: Byte order marks that say a text file's encoding, as CocoIndex v0 honours them.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_text(data: bytes) -> str:
    """A text file's content as CocoIndex v0 reads it: in the encoding its byte order mark
    says (UTF-8 or UTF-16, the mark left out), else UTF-8; each malformed sequence becomes one
    U+FFFD, so the content is a plain string every function and target can take. The content
    is otherwise as in the file (no newline translation)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, "replace")
    return data.decode("utf-8", "replace")


def _stamp(st: os.stat_result) -> str:
    # Packed then hex: as fast as formatting two of the numbers in decimal (listing speed).
    return _pack_stamp(st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns).hex()


#: Opening never blocks (a FIFO swapped in after listing) and never leaks into subprocesses.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
#: Where it exists, a symlink at the file's own name is noticed when opening it.
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)


#: A directory opened to be listed; its entries are stat-ed relative to it.
_DIRECTORY_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
#: Whether ``os.scandir`` takes a directory's descriptor (not on Windows).
_SCAN_BY_DESCRIPTOR = os.scandir in os.supports_fd


class _DirectoryScan:
    """The entries of a directory, listed through a descriptor where the platform allows:
    ``DirEntry.stat`` then looks up the bare name in it (``fstatat``) instead of the whole
    path again, which makes each file's stat about a fifth cheaper."""

    def __init__(self, directory: str) -> None:
        self._fd: int | None = None
        if _SCAN_BY_DESCRIPTOR:
            self._fd = os.open(directory, _DIRECTORY_FLAGS)
        try:
            self._entries = os.scandir(directory if self._fd is None else self._fd)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Iterator[os.DirEntry[str]]:
        return self._entries

    def __exit__(self, *exc_info: object) -> None:
        self._entries.close()
        self.close()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@dataclasses.dataclass
class LocalFile:
    """Files under ``path``, recursively, filtered by glob patterns. The first five fields are
    CocoIndex v0's, in its order; files larger than ``max_file_size`` bytes are not rows."""

    path: str
    binary: bool = False
    included_patterns: list[str] | None = None
    excluded_patterns: list[str] | None = None
    max_file_size: int | None = None
    #: Follow symlinks whose target is outside ``path`` (off: ``ln -s /etc/passwd`` in the
    #: source directory must not export ``/etc/passwd``).
    follow_external_symlinks: bool = dataclasses.field(default=False, kw_only=True)

    key_fields = ("filename",)
    fields = ("filename", "content")

    def __post_init__(self) -> None:
        self._included = _compile(self.included_patterns)
        self._excluded = _compile(self.excluded_patterns)

    def describe(self) -> str:
        return f"LocalFile {self.path}"

    def field_types(self) -> dict[str, EnrichedValueType]:
        """The row's fields as v0 types them: ``filename`` Str, ``content`` Str or Bytes."""
        return {"filename": basic("Str"), "content": basic("Bytes" if self.binary else "Str")}

    # -- where a path leads -------------------------------------------------------------------

    def _root(self) -> str:
        """The source directory with every symlink resolved (looked up each time: it may be
        replaced while watched)."""
        return os.path.realpath(self.path)

    def _leads_inside(self, real: str, root: str) -> bool:
        return self.follow_external_symlinks or real == root or real.startswith(root + os.sep)

    def _admits(self, key: str) -> bool:
        """Whether the path of ``key`` may be read: it resolves inside the source directory (or
        external symlinks are followed)."""
        if self.follow_external_symlinks:
            return True
        root = self._root()
        return self._leads_inside(os.path.realpath(os.path.join(root, key)), root)

    def _is_row(self, st: os.stat_result) -> bool:
        return stat_module.S_ISREG(st.st_mode) and (
            self.max_file_size is None or st.st_size <= self.max_file_size
        )

    # -- listing ------------------------------------------------------------------------------

    def _walk(self, directory: str, prefix: str, real_dirs: list[str]) -> Iterator[Listed]:
        """The rows under ``directory``, whose resolved path is ``real_dirs[-1]`` (the resolved
        paths of the directories being listed, to stop symlink loops)."""
        # Not sorted: a directory of 100,000 files would hold as many entries in memory at
        # once. The engine orders rows by key itself, so batches stay deterministic.
        try:
            scan = _DirectoryScan(directory)
        except FileNotFoundError:
            if not prefix:
                raise
            return  # a subdirectory removed while listing
        excluded, included, max_size = self._excluded, self._included, self.max_file_size
        with scan as entries:
            # One loop for every file: a no-change run at 100,000 files spends most of its time
            # here, so the common case (a regular file) costs one type check and one stat.
            for entry in entries:
                rel = prefix + entry.name
                if excluded is not None and excluded.match(rel):
                    continue
                try:
                    if not entry.is_file(follow_symlinks=False):
                        real = self._followed(entry, directory, real_dirs)
                        if real is None:
                            continue
                        if entry.is_dir():
                            if real not in real_dirs:
                                real_dirs.append(real)
                                subdirectory = os.path.join(directory, entry.name)
                                yield from self._walk(subdirectory, rel + "/", real_dirs)
                                real_dirs.pop()
                            continue
                        if not entry.is_file():
                            continue
                    if included is not None and not included.match(rel):
                        continue
                    stat = entry.stat()  # only for files that are rows: a syscall each
                except FileNotFoundError:
                    continue
                if max_size is None or stat.st_size <= max_size:
                    # _stamp, inlined: a call per file shows in the no-change run.
                    stamp = _pack_stamp(
                        stat.st_mtime_ns, stat.st_size, stat.st_ino, stat.st_ctime_ns
                    ).hex()
                    yield rel, stamp

    def _followed(
        self, entry: os.DirEntry[str], directory: str, real_dirs: list[str]
    ) -> str | None:
        """The resolved path of an entry that is not a plain regular file (a directory, a
        symlink, a FIFO...), or ``None`` for a symlink leading outside the source directory."""
        if not entry.is_symlink():
            return os.path.join(real_dirs[-1], entry.name)
        real = os.path.realpath(os.path.join(directory, entry.name))
        return real if self._leads_inside(real, real_dirs[0]) else None

    def excludes(self, key: str) -> bool:
        """Whether the excluded patterns exclude ``key`` (``/``-separated, relative to ``path``)
        or one of its directories: nothing under it is ever a row."""
        if self._excluded is None:
            return False
        parts = key.split("/")
        return any(self._excluded.match("/".join(parts[: i + 1])) for i in range(len(parts)))

    def key_for(self, relative_path: str) -> str | None:
        """The row key of a path relative to ``path`` (as a watcher reports it), or ``None``
        when the patterns exclude it or one of its directories."""
        key = relative_path.replace(os.sep, "/")
        if self.excludes(key):
            return None
        if self._included is not None and not self._included.match(key):
            return None
        return key

    def list_rows_under(self, directory: str) -> Iterator[Listed]:
        """The matching files under ``directory`` (a ``/``-separated path relative to
        ``path``), as :meth:`list_rows` lists them: for a directory that appeared while
        watched. Nothing when it is excluded, leads outside, or no longer exists."""
        if self.excludes(directory) or not self._admits(directory):
            return
        full = os.path.join(self.path, directory)
        yield from self._walk(full, directory + "/", [self._root(), os.path.realpath(full)])

    def list_rows(self) -> Iterator[Listed]:
        """Every matching file. A missing root directory is an error, so that a vanished or
        unmounted source is never mistaken for one whose files were all deleted."""
        if not os.path.isdir(self.path):
            raise FileNotFoundError(f"source directory {self.path!r} does not exist")
        yield from self._walk(self.path, "", [self._root()])

    # -- one row ------------------------------------------------------------------------------

    def stamp(self, key: str) -> str | None:
        """The version stamp of one row, or ``None`` when it is no longer a row (gone, not a
        regular file, too large, or leading outside)."""
        try:
            st = os.stat(os.path.join(self.path, key))
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not self._is_row(st) or not self._admits(key):
            return None
        return _stamp(st)

    def _open(self, key: str) -> int:
        full = os.path.join(self.path, key)
        try:
            # The listing checked where the path leads; a symlink swapped in since is checked.
            return os.open(full, _OPEN_FLAGS | _NO_FOLLOW)
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
        if not self._admits(key):
            raise FileNotFoundError(errno.ENOENT, "leads outside the source directory", full)
        return os.open(full, _OPEN_FLAGS)

    def read_row(self, key: str) -> dict[str, Any] | None:
        """The row's fields, or ``None`` when it is no longer a row."""
        try:
            fd = self._open(key)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        with open(fd, "rb") as f:
            if not self._is_row(os.fstat(fd)):
                return None
            data = f.read()
        content = data if self.binary else decode_text(data)
        return {"filename": key, "content": content}
