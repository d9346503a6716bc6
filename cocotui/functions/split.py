"""``SplitRecursively`` and ``SplitBySeparators``: CocoIndex v0's text splitters, with its specs,
arguments and table of chunks (see :mod:`cocotui.functions.chunks`)."""

from __future__ import annotations

import dataclasses
import re
from typing import Literal

from cocotui.functions.atoms import PLAIN_TEXT, AtomCollector, SeparatorLanguage
from cocotui.functions.chunks import ChunkTable, Utf8Text, chunk_table
from cocotui.functions.grammars import syntax_tree
from cocotui.functions.languages import language_info, lookup_key
from cocotui.functions.merge import ChunkMerger
from cocotui.op_function import FunctionSpec, executor_class


@dataclasses.dataclass
class CustomLanguageSpec:
    """A language split by regexes: ``separators_regex`` from the coarsest to the finest."""

    language_name: str
    separators_regex: list[str]
    aliases: list[str] = dataclasses.field(default_factory=list)


class SplitSpecError(ValueError):
    """A splitter spec that cannot be used (a bad regex, a language named twice)."""


def _compile(pattern: str, what: str, flags: int = 0) -> re.Pattern[str]:
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise SplitSpecError(f"{what}: invalid regex {pattern!r}: {exc}") from None


def _custom_languages(specs: list[CustomLanguageSpec]) -> dict[str, SeparatorLanguage]:
    by_key: dict[str, SeparatorLanguage] = {}
    for spec in specs:
        language = SeparatorLanguage(
            spec.language_name,
            tuple(_compile(p, f"language {spec.language_name!r}") for p in spec.separators_regex),
        )
        for name in (spec.language_name, *spec.aliases):
            if lookup_key(name) in by_key:
                raise SplitSpecError(f"duplicate language name / alias: {name!r}")
            by_key[lookup_key(name)] = language
    return by_key


class SplitRecursively(FunctionSpec):
    """Split a text into chunks of at most ``chunk_size`` bytes at the most meaningful
    boundaries: by syntax for the programming and markup languages with a tree-sitter grammar
    (``language`` is a name such as ``"python"`` or a file extension such as ``".py"``), by
    regexes for ``custom_languages``, else by paragraphs, lines, sentences, clauses and words.

    ``min_chunk_size`` defaults to half ``chunk_size``; ``chunk_overlap`` (at most
    ``min_chunk_size``) is how much consecutive chunks should share.
    """

    custom_languages: list[CustomLanguageSpec] = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        _custom_languages(self.custom_languages)  # a bad regex or a name twice fails the load


@executor_class()
class SplitRecursivelyExecutor:
    spec: SplitRecursively

    def prepare(self) -> None:
        self._languages = _custom_languages(self.spec.custom_languages)

    def __call__(
        self,
        text: str,
        chunk_size: int,
        min_chunk_size: int | None = None,
        chunk_overlap: int | None = None,
        language: str | None = None,
    ) -> ChunkTable:
        if text is None or chunk_size is None:  # v0 gives a null table (the flow types it so)
            return None
        sizes = (
            ("chunk_size", chunk_size),
            ("min_chunk_size", min_chunk_size),
            ("chunk_overlap", chunk_overlap),
        )
        for name, size in sizes:
            if size is not None and size < 0:
                raise ValueError(f"SplitRecursively: {name} must not be negative, got {size}")
        min_size = chunk_size // 2 if min_chunk_size is None else min_chunk_size
        overlap = min(chunk_overlap or 0, min_size)
        utf8 = Utf8Text(text)
        collector = AtomCollector(utf8, overlap if overlap > 0 else min_size)
        custom = self._languages.get(lookup_key(language or ""))
        info = language_info(language or "")
        if custom is not None:
            atoms = collector.collect(custom)
        elif info is not None and info.grammar is not None:
            atoms = collector.collect(syntax_tree(info, utf8.data))
        else:
            atoms = collector.collect(PLAIN_TEXT)
        merger = ChunkMerger(utf8.byte_offsets, chunk_size, min_size, overlap)
        return chunk_table(text, merger.merge(atoms))


_WHITESPACE_BYTES = " \t\n\x0c\r"  # what v0 trims: Rust's ASCII whitespace (not \x0b)


class SplitBySeparators(FunctionSpec):
    """Split a text at every match of ``separators_regex`` (any of them, ``^`` and ``$`` at
    line boundaries), keeping the separator with the chunk before it (``"LEFT"``), after it
    (``"RIGHT"``) or dropping it (``"NONE"``, or ``None`` as v0.3.39's engine needs it spelled).
    Chunks are trimmed of ASCII whitespace when ``trim``; empty ones are kept only with
    ``include_empty``."""

    separators_regex: list[str] = dataclasses.field(default_factory=list)
    keep_separator: Literal["NONE", "LEFT", "RIGHT"] | None = "NONE"
    include_empty: bool = False
    trim: bool = True

    def __post_init__(self) -> None:
        if self.keep_separator not in ("NONE", "LEFT", "RIGHT", None):
            raise SplitSpecError(
                f"SplitBySeparators: keep_separator must be 'NONE', 'LEFT' or 'RIGHT', got "
                f"{self.keep_separator!r}"
            )
        _separators_pattern(self.separators_regex)  # a bad regex fails the load


def _separators_pattern(separators: list[str]) -> re.Pattern[str] | None:
    joined = "|".join(f"(?:{p})" for p in separators)
    return _compile(joined, "SplitBySeparators", re.MULTILINE) if separators else None


@executor_class()
class SplitBySeparatorsExecutor:
    spec: SplitBySeparators

    def prepare(self) -> None:
        self._pattern = _separators_pattern(self.spec.separators_regex)

    def __call__(self, text: str) -> ChunkTable:
        if text is None:  # v0 gives a null table (the flow types it so)
            return None
        ranges: list[tuple[int, int]] = []
        start = 0
        for match in self._pattern.finditer(text) if self._pattern is not None else ():
            end = match.end() if self.spec.keep_separator == "LEFT" else match.start()
            self._add(text, start, end, ranges)
            start = match.start() if self.spec.keep_separator == "RIGHT" else match.end()
        self._add(text, start, len(text), ranges)
        return chunk_table(text, ranges)

    def _add(self, text: str, start: int, end: int, ranges: list[tuple[int, int]]) -> None:
        if self.spec.trim:
            piece = text[start:end]
            stripped = piece.lstrip(_WHITESPACE_BYTES)
            start += len(piece) - len(stripped)
            end = start + len(stripped.rstrip(_WHITESPACE_BYTES))
        if self.spec.include_empty or end > start:
            ranges.append((start, end))
