"""``cocotui.functions.SplitRecursively`` and ``SplitBySeparators`` return the chunks CocoIndex
v0.3.39 returns: the fixtures under ``fixtures/v0_functions/`` were recorded from the real engine
by ``benchmarks/record_v0_functions.py`` (inputs included), and a flow using them gets v0's
table of chunks, typed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import typed_helpers as t
import update_helpers as h
from conftest import Workspace

import cocotui
from cocotui import cocoindex_alias
from cocotui.functions import (
    Chunk,
    ChunkKey,
    CustomLanguageSpec,
    GrammarUnavailableError,
    SplitBySeparators,
    SplitRecursively,
    SplitSpecError,
    TextPosition,
    grammars,
)
from cocotui.op_function import ExecutorFunction
from cocotui.op_function import resolve_transform as executor

FIXTURES = Path(__file__).parent / "fixtures" / "v0_functions"
RECURSIVE = json.loads((FIXTURES / "split_recursively.json").read_text(encoding="utf-8"))
SEPARATORS = json.loads((FIXTURES / "split_by_separators.json").read_text(encoding="utf-8"))


def rows(table: dict[ChunkKey, Chunk], text: str) -> list[dict[str, Any]]:
    """A chunk table in the fixtures' shape, checking that each text is its location's slice."""
    out = []
    for key, chunk in table.items():
        start, end = key.location
        assert chunk.text == text[start:end]
        assert (chunk.start.offset, chunk.end.offset) == (start, end)
        out.append({"location": [start, end], "start": vars(chunk.start), "end": vars(chunk.end)})
    return out


def by_name(cases: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {case["name"]: case for case in cases}


@pytest.fixture(scope="module")
def recursive() -> ExecutorFunction:
    languages = [CustomLanguageSpec(**spec) for spec in RECURSIVE["custom_languages"]]
    return executor(SplitRecursively(custom_languages=languages))


@pytest.mark.parametrize("name", list(by_name(RECURSIVE["cases"])))
def test_split_recursively_gives_v0s_chunks(recursive: ExecutorFunction, name: str) -> None:
    case = by_name(RECURSIVE["cases"])[name]
    text = RECURSIVE["texts"][case["text"]]
    assert rows(recursive(text, **case["args"]), text) == case["output"]


def test_fixtures_cover_the_edge_cases() -> None:
    outputs = {c["name"]: c["output"] for c in RECURSIVE["cases"]}
    assert outputs["empty"] == [] and outputs["whitespace_only"] == []
    assert len(outputs["shorter_than_min"]) == 1  # a text below min_chunk_size is one chunk
    assert RECURSIVE["texts"]["unicode"].isascii() is False  # offsets in characters, sizes in bytes


def test_chunks_have_v0s_positions() -> None:
    table = executor(SplitRecursively())("Chunk1\n\nChunk2", chunk_size=10, min_chunk_size=5)
    assert table == {
        ChunkKey((0, 6)): Chunk("Chunk1", TextPosition(0, 1, 1), TextPosition(6, 1, 7)),
        ChunkKey((8, 14)): Chunk("Chunk2", TextPosition(8, 3, 1), TextPosition(14, 3, 7)),
    }


def test_language_names_and_aliases_ignore_case(recursive: ExecutorFunction) -> None:
    text = "part one---part two---" * 12
    args = {"chunk_size": 200, "min_chunk_size": 50, "chunk_overlap": 40}
    by_alias = recursive(text, language="DSH", **args)
    assert recursive(text, language="dashed", **args) == by_alias
    assert recursive(text, language=".DASH", **args) == by_alias
    assert recursive(text, **args) != by_alias  # the plain-text separators split elsewhere


def test_undecodable_bytes_are_split_not_refused() -> None:
    # A text holding undecodable bytes as surrogates (a custom source's os.fsdecode, say).
    text = b"caf\xe9 au lait.\n\n".decode("utf-8", "surrogateescape") * 30
    table = executor(SplitRecursively())(text, chunk_size=100, chunk_overlap=0)
    assert len(table) > 1
    assert "".join(c.text for c in table.values()).count("\udce9") == 30


def test_a_null_text_gives_a_null_table() -> None:
    assert executor(SplitRecursively())(None, chunk_size=100) is None  # type: ignore[arg-type]
    assert executor(SplitBySeparators())(None) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("languages", "message"),
    [
        ([CustomLanguageSpec("a", ["x"]), CustomLanguageSpec("A", ["y"])], "duplicate"),
        ([CustomLanguageSpec("a", ["x"], aliases=["b", "B"])], "duplicate"),
        ([CustomLanguageSpec("a", ["(unclosed"])], "invalid regex"),
    ],
)
def test_bad_custom_languages_are_refused_with_the_reason(
    languages: list[CustomLanguageSpec], message: str
) -> None:
    with pytest.raises(SplitSpecError, match=message):
        SplitRecursively(custom_languages=languages)


@pytest.mark.parametrize("size", ["chunk_size", "min_chunk_size", "chunk_overlap"])
def test_a_negative_size_is_refused(size: str) -> None:
    sizes = {"chunk_size": 10, size: -1}
    with pytest.raises(ValueError, match=size):
        executor(SplitRecursively())("text", **sizes)


def test_without_the_grammar_pack_syntax_splitting_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "tree_sitter_language_pack", None)
    grammars._load.cache_clear()
    try:
        with pytest.raises(GrammarUnavailableError, match=r"cocotui\[splitting\]"):
            executor(SplitRecursively())("def f(): pass\n" * 50, chunk_size=100, language="python")
        # plain text needs no grammar
        assert executor(SplitRecursively())("words " * 50, chunk_size=100, language="klingon")
    finally:
        grammars._load.cache_clear()


@pytest.mark.parametrize("name", list(by_name(SEPARATORS["cases"])))
def test_split_by_separators_gives_v0s_chunks(name: str) -> None:
    case = by_name(SEPARATORS["cases"])[name]
    got = executor(SplitBySeparators(**case["spec"]))(case["text"])
    assert rows(got, case["text"]) == case["output"]


def test_split_by_separators_none_and_NONE_both_drop_the_separator() -> None:
    text = "a. b. c"
    dropped = executor(SplitBySeparators([r"\."], keep_separator="NONE"))(text)
    assert dropped == executor(SplitBySeparators([r"\."], keep_separator=None))(text)
    assert [c.text for c in dropped.values()] == ["a", "b", "c"]


def test_split_by_separators_refuses_an_unknown_keep_separator() -> None:
    with pytest.raises(SplitSpecError, match="keep_separator"):
        SplitBySeparators([r"\."], keep_separator="BOTH")  # type: ignore[arg-type]


def test_cocoindex_functions_is_cocotui_functions() -> None:
    was_installed = cocoindex_alias.is_installed()
    assert cocoindex_alias.install()
    try:
        from cocoindex import functions  # type: ignore[import-not-found]

        assert functions.SplitRecursively is SplitRecursively
        assert functions.CustomLanguageSpec is CustomLanguageSpec
        assert cocotui.functions.SplitBySeparators is SplitBySeparators
    finally:
        if not was_installed:
            cocoindex_alias.uninstall()


# --- In a flow -------------------------------------------------------------------------------

DOC = "# Title\n\nSome text here. And more text follows in this paragraph.\n\n## Sub\n\nMore.\n"


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    ws = h.prepare(workspace, monkeypatch)
    h.write_files(ws, {"a.md": DOC})
    t.typed_app(ws, key="location")
    app = ws.app.read_text().replace(
        '        out.collect(filename=doc["filename"], content=doc["content"])',
        '        doc["chunks"] = doc["content"].transform(\n'
        "            cocoindex.functions.SplitRecursively(),\n"
        '            language="markdown", chunk_size=60, chunk_overlap=10,\n'
        "        )\n"
        '        with doc["chunks"].row() as chunk:\n'
        '            out.collect(location=chunk["location"], text=chunk["text"],\n'
        '                        start=chunk["start"], end_line=chunk["end"]["line"])',
    )
    ws.app.write_text(app)
    return ws


def test_a_flow_knows_the_types_of_the_chunks(ws: Workspace) -> None:
    position = "Struct(offset: Int64, line: Int64, column: Int64)"
    assert t.field_types(ws) == {
        "location": "Range",
        "text": "Str",
        "start": position,
        "end_line": "Int64",
    }


def test_a_flow_exports_one_row_per_chunk(ws: Workspace) -> None:
    t.apply(ws)
    h.update(ws)
    exported = t.connector().TABLES["docs"]["rows"]
    chunks = executor(SplitRecursively())(DOC, language="markdown", chunk_size=60, chunk_overlap=10)
    assert len(exported) == len(chunks) > 1
    for key, chunk in chunks.items():
        row = exported[tuple(key.location)]
        assert row["text"] == chunk.text
        assert row["end_line"] == chunk.end.line
