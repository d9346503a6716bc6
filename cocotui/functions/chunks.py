"""The table of chunks that the splitting functions return, as CocoIndex v0's: keyed by
``location`` (a ``Range`` of character offsets), with the chunk's ``text`` and its ``start`` and
``end`` positions (character offset, 1-based line and column).

Splitting measures sizes in UTF-8 bytes, as v0 does, while offsets are reported in characters:
:class:`Utf8Text` converts between the two.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import re
import typing
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from cocotui.typing import Range

# The structs below carry no docstring on purpose: a struct's docstring becomes its description
# in the flow's field types, and v0 gives these none.


@dataclasses.dataclass(frozen=True)
class TextPosition:
    offset: int
    line: int
    column: int


class ChunkKey(NamedTuple):
    location: Range


@dataclasses.dataclass(frozen=True)
class Chunk:
    text: str
    start: TextPosition
    end: TextPosition


#: What ``SplitRecursively`` and ``SplitBySeparators`` return: a KTable keyed by ``location``.
ChunkTable = dict[ChunkKey, Chunk]


def _utf8_length(char: str) -> int:
    code = ord(char)
    return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4


_NON_ASCII = re.compile("[^\x00-\x7f]")


class _ByteOffsets(Sequence[int]):
    """``offsets[i]``: where character ``i`` starts in the UTF-8 bytes (``i`` up to the text's
    length included), found from the positions of the non-ASCII characters alone."""

    def __init__(self, text: str) -> None:
        self._length = len(text) + 1
        #: Character index of each non-ASCII character, and the extra bytes (beyond one per
        #: character) of the text up to and including it.
        self.wide = [match.start() for match in _NON_ASCII.finditer(text)]
        self.extra = list(itertools.accumulate(_utf8_length(text[i]) - 1 for i in self.wide))
        self.wide_bytes = [
            i + extra - _utf8_length(text[i]) + 1
            for i, extra in zip(self.wide, self.extra, strict=True)
        ]

    def __len__(self) -> int:
        return self._length

    @typing.overload
    def __getitem__(self, index: int) -> int: ...
    @typing.overload
    def __getitem__(self, index: slice) -> Sequence[int]: ...
    def __getitem__(self, index: int | slice) -> int | Sequence[int]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length))]
        if index < 0:
            index += self._length
        before = bisect.bisect_left(self.wide, index)
        return index + (self.extra[before - 1] if before else 0)

    def char_at(self, byte_offset: int) -> int:
        before = bisect.bisect_left(self.wide_bytes, byte_offset)
        return byte_offset - (self.extra[before - 1] if before else 0)


class Utf8Text:
    """A text with its UTF-8 encoding: ``byte_offsets[i]`` is where character ``i`` starts.

    Lone surrogates (from undecodable input read with ``surrogateescape``) count as the three
    bytes ``surrogatepass`` encodes them to, so any ``str`` can be split.
    """

    __slots__ = ("_offsets", "byte_length", "data", "is_ascii", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = text.encode("utf-8", "surrogatepass")
        self.byte_length = len(self.data)
        self.is_ascii = self.byte_length == len(text)
        self._offsets = None if self.is_ascii else _ByteOffsets(text)

    @property
    def byte_offsets(self) -> Sequence[int]:
        """Indexed by character offset (up to the text's length included)."""
        return range(len(self.text) + 1) if self._offsets is None else self._offsets

    def char_at(self, byte_offset: int) -> int:
        """The character offset of a byte offset (one at a character boundary)."""
        return byte_offset if self._offsets is None else self._offsets.char_at(byte_offset)


def positions(text: str, offsets: Iterable[int]) -> dict[int, TextPosition]:
    """The line and column of each character offset; lines end at ``\\n`` only."""
    found: dict[int, TextPosition] = {}
    line, line_start, scanned = 1, 0, 0
    for offset in sorted(set(offsets)):
        newlines = text.count("\n", scanned, offset)
        if newlines:
            line += newlines
            line_start = text.rfind("\n", scanned, offset) + 1
        scanned = offset
        found[offset] = TextPosition(offset, line, offset - line_start + 1)
    return found


def chunk_table(text: str, ranges: Iterable[tuple[int, int]]) -> ChunkTable:
    """The table of chunks for ranges of character offsets, ordered by range as v0's is."""
    ordered = sorted(set(ranges))
    at = positions(text, itertools.chain.from_iterable(ordered))
    return {
        ChunkKey((start, end)): Chunk(text[start:end], at[start], at[end]) for start, end in ordered
    }
