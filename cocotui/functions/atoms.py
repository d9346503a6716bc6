"""First step of recursive splitting, as CocoIndex v0 does it: cut the text into *atoms*, pieces
no larger than the smallest size that matters, each remembering how deep in the text's
structure the boundary before it lies.

A piece that is too large is split by its syntax (the children of its tree-sitter node, the
text between them filling the gaps) or else by the next of its language's separator regexes
(paragraphs, then lines, sentences, clauses, words); a piece nothing can split further is an
atom as it is. Offsets are in characters, sizes in UTF-8 bytes.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Iterator
from typing import Any

from cocotui.functions.chunks import Utf8Text

#: Unicode's White_Space characters (what v0 trims and what its ``\s`` matches).
WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_SPACE = f"[{re.escape(WHITESPACE)}]"


@dataclasses.dataclass(frozen=True)
class SeparatorLanguage:
    """A language split by regexes alone, tried in order: v0's plain text, or a
    ``CustomLanguageSpec``."""

    name: str
    separators: tuple[re.Pattern[str], ...]


PLAIN_TEXT = SeparatorLanguage(
    "_DEFAULT",
    tuple(
        re.compile(pattern.replace(r"\s", _SPACE))
        for pattern in (
            r"\n\n+",
            r"\n",
            r"[\.\?!]\s+|。|？|！",
            r"[;:\-—]\s+|；|：|—+",
            r",\s+|，",
            r"\s+",
        )
    ),
)


@dataclasses.dataclass(frozen=True)
class SyntaxTree:
    """A tree-sitter node to split by its children; ``terminal_kinds`` are node kind ids
    split as text instead."""

    node: Any  # tree_sitter.Node (tree-sitter is an optional dependency)
    terminal_kinds: frozenset[int]


class LineBreak(enum.IntEnum):
    INLINE = 0
    NEWLINE = 1
    DOUBLE_NEWLINE = 2


_LINE_BREAK_RUN = re.compile(r"[\r\n]+")


def line_break_level(text: str) -> LineBreak:
    """``DOUBLE_NEWLINE`` when a run of line-break characters repeats its first one (``\\n\\n``,
    ``\\r\\n\\r\\n``), else ``NEWLINE`` when there is a line break at all."""
    if "\n" not in text and "\r" not in text:
        return LineBreak.INLINE
    for run in _LINE_BREAK_RUN.finditer(text):
        if run.group()[0] in run.group()[1:]:
            return LineBreak.DOUBLE_NEWLINE
    return LineBreak.NEWLINE


@dataclasses.dataclass(slots=True)
class Atom:
    start: int
    end: int
    #: How shallow the structure between the previous atom and this one gets (smaller: a
    #: more important boundary).
    boundary_level: int
    internal_break: LineBreak
    boundary_break: LineBreak


#: A piece of text to split: (start, end, how to split it). How: a syntax tree node, or a
#: separator language with the index of the next separator to try.
_Piece = tuple[int, int, SyntaxTree | tuple[SeparatorLanguage, int]]


class AtomCollector:
    """Cuts a text into atoms no larger than ``max_atom_bytes`` where its structure allows."""

    def __init__(self, text: Utf8Text, max_atom_bytes: int) -> None:
        self.text = text
        self.max_atom_bytes = max_atom_bytes
        self.atoms: list[Atom] = []
        self._level = 0
        self._min_level = 0

    def collect(self, how: SyntaxTree | SeparatorLanguage) -> list[Atom]:
        """The atoms of the whole text, then an empty one closing it."""
        root_how = how if isinstance(how, SyntaxTree) else (how, 0)
        self._walk((0, len(self.text.text), root_how))
        end = len(self.text.text)
        self.atoms.append(
            Atom(end, end, self._min_level, LineBreak.INLINE, LineBreak.DOUBLE_NEWLINE)
        )
        return self.atoms

    def _walk(self, root: _Piece) -> None:
        offsets = self.text.byte_offsets
        stack: list[Iterator[_Piece]] = [iter((root,))]
        while stack:
            self._level = len(stack)
            piece = next(stack[-1], None)
            if piece is None:
                stack.pop()
                self._level = len(stack)
                self._min_level = min(self._min_level, self._level)
                continue
            start, end, how = piece
            if offsets[end] - offsets[start] <= self.max_atom_bytes:
                self._add(start, end)
            elif isinstance(how, SyntaxTree):
                node = how.node
                if node.kind_id not in how.terminal_kinds and node.child_count > 0:
                    stack.append(self._children(how))
                else:
                    stack.append(iter(((start, end, (PLAIN_TEXT, 0)),)))
            else:
                language, separator = how
                if separator >= len(language.separators):
                    self._add(start, end)
                else:
                    stack.append(self._separated(start, end, language, separator))
        self._level = 0

    def _children(self, tree: SyntaxTree) -> Iterator[_Piece]:
        """A node's children, with the text between them (as plain text) filling the gaps."""
        char_at = self.text.char_at
        node = tree.node
        position, end = char_at(node.start_byte), char_at(node.end_byte)
        for child in node.children:
            child_start = char_at(child.start_byte)
            if position < child_start:
                yield position, child_start, (PLAIN_TEXT, 0)
            position = char_at(child.end_byte)
            yield child_start, position, SyntaxTree(child, tree.terminal_kinds)
        if position < end:
            yield position, end, (PLAIN_TEXT, 0)

    def _separated(
        self, start: int, end: int, language: SeparatorLanguage, separator: int
    ) -> Iterator[_Piece]:
        """The pieces between the matches of one separator, each to be split further by the
        next separators."""
        how = (language, separator + 1)
        position = start
        # On the piece itself, so that anchors and lookarounds see only the piece, as in v0.
        for match in language.separators[separator].finditer(self.text.text[start:end]):
            yield position, start + match.start(), how
            position = start + match.end()
        if position < end:
            yield position, end, how

    def _add(self, start: int, end: int) -> None:
        """Add an atom for a piece, trimmed of whitespace; one that follows a line break keeps
        the indentation of its first line."""
        text = self.text.text
        piece = text[start:end]
        right_trimmed = piece.rstrip(WHITESPACE)
        if not right_trimmed:
            return
        trimmed = right_trimmed.lstrip(WHITESPACE)
        new_start = start + len(right_trimmed) - len(trimmed)
        new_end = new_start + len(trimmed)
        previous_end = self.atoms[-1].end if self.atoms else 0
        gap = text[previous_end:new_start]
        boundary_break = line_break_level(gap)
        if boundary_break is not LineBreak.INLINE:
            new_start = previous_end + len(gap.rstrip(" \t"))
        self.atoms.append(
            Atom(new_start, new_end, self._min_level, line_break_level(trimmed), boundary_break)
        )
        self._min_level = self._level
