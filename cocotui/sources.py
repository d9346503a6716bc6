"""Sources. ``LocalFile`` yields one row per file under a directory: ``filename`` (the path
relative to the directory, ``/``-separated) and ``content`` (``str``, or ``bytes`` when binary).

Listing only stats files; content is read when a row's modification time or size changed.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterator
from fnmatch import translate
from typing import Any, NamedTuple

from cocotui.engine_type import EnrichedValueType, basic


class ListedRow(NamedTuple):
    """A source row as listed: its key and a cheap version stamp (no content read).
    A NamedTuple: listing makes one per file, and tuples are the cheapest to build."""

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


@dataclasses.dataclass
class LocalFile:
    """Files under ``path``, recursively, filtered by glob patterns."""

    path: str
    included_patterns: list[str] | None = None
    excluded_patterns: list[str] | None = None
    binary: bool = False

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

    def _walk(self, directory: str, prefix: str) -> Iterator[ListedRow]:
        # Not sorted: a directory of 100,000 files would hold as many entries in memory at
        # once. The engine orders rows by key itself, so batches stay deterministic.
        try:
            entries = os.scandir(directory)
        except FileNotFoundError:
            if not prefix:
                raise
            return  # a subdirectory removed while listing
        with entries:
            yield from self._walk_entries(entries, prefix)

    def _walk_entries(
        self, entries: Iterator[os.DirEntry[str]], prefix: str
    ) -> Iterator[ListedRow]:
        for entry in entries:
            rel = prefix + entry.name
            if self._excluded is not None and self._excluded.match(rel):
                continue
            try:
                if entry.is_dir():
                    yield from self._walk(entry.path, rel + "/")
                    continue
                if not entry.is_file() or (
                    self._included is not None and not self._included.match(rel)
                ):
                    continue
                stat = entry.stat()  # only for files that are rows: a syscall each
            except FileNotFoundError:
                continue
            yield ListedRow(rel, f"{stat.st_mtime_ns}:{stat.st_size}")

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

    def list_rows_under(self, directory: str) -> Iterator[ListedRow]:
        """The matching files under ``directory`` (a ``/``-separated path relative to
        ``path``), as :meth:`list_rows` lists them: for a directory that appeared while
        watched. Nothing when it is excluded or no longer exists."""
        if self.excludes(directory):
            return
        yield from self._walk(os.path.join(self.path, directory), directory + "/")

    def list_rows(self) -> Iterator[ListedRow]:
        """Every matching file. A missing root directory is an error, so that a vanished or
        unmounted source is never mistaken for one whose files were all deleted."""
        if not os.path.isdir(self.path):
            raise FileNotFoundError(f"source directory {self.path!r} does not exist")
        yield from self._walk(self.path, "")

    def stamp(self, key: str) -> str | None:
        """The version stamp of one row, or ``None`` when it no longer exists."""
        try:
            stat = os.stat(os.path.join(self.path, key))
        except (FileNotFoundError, NotADirectoryError):
            return None
        return f"{stat.st_mtime_ns}:{stat.st_size}"

    def read_row(self, key: str) -> dict[str, Any] | None:
        """The row's fields, or ``None`` when the file is gone."""
        full = os.path.join(self.path, key)
        try:
            if self.binary:
                with open(full, "rb") as f:
                    content: str | bytes = f.read()
            else:
                # newline="": the content as it is in the file (CocoIndex decodes the bytes).
                with open(full, encoding="utf-8", errors="surrogateescape", newline="") as f:
                    content = f.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        return {"filename": key, "content": content}
