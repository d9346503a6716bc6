"""Files that are not UTF-8 (issue 12, edge cases), against what CocoIndex v0.3.39 recorded in
``tests/fixtures/v0_functions/non_utf8_files.json`` (its ``recorded_by`` says how): latin-1
text, stray and cut multi-byte sequences, UTF-8 and UTF-16 byte order marks. ``LocalFile``
decodes them as v0 does (the mark's encoding, one U+FFFD per malformed sequence), and
``SplitRecursively``, ``DetectProgrammingLanguage`` and ``ParseJson`` give v0's results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import update_helpers as h
from conftest import Workspace

from cocotui.functions import ParseJson
from cocotui.op_function import resolve_transform
from cocotui.sources import decode_text

FIXTURE = Path(__file__).parent / "fixtures" / "v0_functions" / "non_utf8_files.json"
CASES: list[dict[str, Any]] = json.loads(FIXTURE.read_text())["cases"]

FLOW = """
@cocoindex.flow_def(name="Files")
def files_flow(flow_builder, data_scope):
    data_scope["files"] = flow_builder.add_source(cocoindex.sources.LocalFile(path=SOURCE))
    files = data_scope.add_collector()
    chunks = data_scope.add_collector()
    with data_scope["files"].row() as file:
        file["language"] = file["filename"].transform(
            cocoindex.functions.DetectProgrammingLanguage()
        )
        file["chunks"] = file["content"].transform(
            cocoindex.functions.SplitRecursively(),
            language="markdown", chunk_size=40, chunk_overlap=0,
        )
        files.collect(filename=file["filename"], content=file["content"], language=file["language"])
        with file["chunks"].row() as chunk:
            chunks.collect(filename=file["filename"], location=chunk["location"])
    files.export("files", MemTarget(resource="files"), primary_key_fields=["filename"])
    chunks.export(
        "chunks", MemTarget(resource="chunks"), primary_key_fields=["filename", "location"]
    )
"""


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


@pytest.mark.parametrize("case", CASES, ids=[c["filename"] for c in CASES])
def test_local_file_decodes_as_v0(case: dict[str, Any]) -> None:
    assert decode_text(bytes(case["bytes"])) == case["content"]


def test_a_flow_over_files_that_are_not_utf8_gives_v0s_rows(ws: Workspace) -> None:
    h.write_files(ws, {c["filename"]: bytes(c["bytes"]) for c in CASES})
    h.write_app(ws, FLOW)
    h.apply_all(ws)
    run = h.update(ws)
    assert run.result.ok, run.named("row.failed")
    files = h.store("files")
    chunks: dict[str, list[list[int]]] = {}
    for filename, location in h.store("chunks"):
        chunks.setdefault(filename, []).append(list(location))
    for case in CASES:
        name = case["filename"]
        assert files[name] == {"content": case["content"], "language": case["language"]}, name
        assert sorted(chunks[name]) == case["chunks"], name


def test_parse_json_of_a_latin1_file_as_v0() -> None:
    (case,) = [c for c in CASES if "parse_json" in c]
    parse = resolve_transform(ParseJson())
    assert {"output": parse(decode_text(bytes(case["bytes"])))} == case["parse_json"]
