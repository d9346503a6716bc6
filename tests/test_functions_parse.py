"""``cocotui.functions.ParseJson`` and ``DetectProgrammingLanguage`` give what CocoIndex
v0.3.39 gives: the fixtures under ``fixtures/v0_functions/`` were recorded from the real engine
by ``benchmarks/record_v0_functions.py``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typed_helpers as t
import update_helpers as h
from conftest import Workspace

from cocotui.functions import DetectProgrammingLanguage, JsonParseError, ParseJson
from cocotui.op_function import resolve_transform as executor

FIXTURES = Path(__file__).parent / "fixtures" / "v0_functions"
PARSE = json.loads((FIXTURES / "parse_json.json").read_text(encoding="utf-8"))["cases"]
DETECT = json.loads((FIXTURES / "detect_programming_language.json").read_text(encoding="utf-8"))


def shape(value: Any) -> Any:
    """A JSON value with what ``==`` overlooks made visible: key order, int versus float, the
    sign of zero."""
    if isinstance(value, dict):
        return [("object", [(k, shape(v)) for k, v in value.items()])]
    if isinstance(value, list):
        return [shape(v) for v in value]
    if isinstance(value, float):
        return ("float", repr(value))
    return (type(value).__name__, value)


@pytest.mark.parametrize(
    "case", PARSE, ids=[f"{c['args'].get('language')}-{c['text'][:30]!r}" for c in PARSE]
)
def test_parse_json_gives_v0s_value_or_fails_as_v0_does(case: dict[str, Any]) -> None:
    parse = executor(ParseJson())
    if "error" in case:
        with pytest.raises(JsonParseError):
            parse(case["text"], **case["args"])
    else:
        assert shape(parse(case["text"], **case["args"])) == shape(case["output"])


def test_the_fixtures_hold_the_edge_cases() -> None:
    errors = {c["text"] for c in PARSE if "error" in c}
    assert {"", "[1,]", "NaN", "1e400", '"\\ud800"'} <= errors  # invalid JSON, empty text


def test_parse_json_error_says_where() -> None:
    with pytest.raises(JsonParseError, match="line 2 column 5"):
        executor(ParseJson())('{"a":\n    }')


def test_parse_json_of_undecodable_bytes_keeps_them() -> None:
    # A text holding undecodable bytes as surrogates (a custom source's os.fsdecode, say;
    # LocalFile reads them as U+FFFD, as v0 does: test_functions_non_utf8.py).
    text = b'{"name": "caf\xe9", "n": 1}'.decode("utf-8", "surrogateescape")
    assert executor(ParseJson())(text) == {"n": 1, "name": "caf\udce9"}


def test_parse_json_of_null_text_is_null() -> None:
    assert executor(ParseJson())(None) is None  # type: ignore[arg-type]


def test_detect_programming_language_names_every_extension_as_v0() -> None:
    detect = executor(DetectProgrammingLanguage())
    cases = DETECT["cases"]
    differing = [
        (c["filename"], c["output"]) for c in cases if detect(c["filename"]) != c["output"]
    ]
    assert differing == []
    assert len(cases) > 300  # every alias of the language table, plus odd names
    assert {c["output"] for c in cases if c["filename"] in ("Makefile", "go.mod", "")} == {None}


def test_detect_programming_language_of_null_is_null() -> None:
    assert executor(DetectProgrammingLanguage())(None) is None  # type: ignore[arg-type]


# --- In a flow -------------------------------------------------------------------------------


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    ws = h.prepare(workspace, monkeypatch)
    h.write_files(ws, {"a.json": '{"b": [1, 2], "a": "x"}', "b.rs": "[]"})
    t.typed_app(
        ws,
        rows=(
            'doc["language"] = doc["filename"].transform(\n'
            "    cocoindex.functions.DetectProgrammingLanguage())\n"
            'doc["parsed"] = doc["content"].transform(cocoindex.functions.ParseJson(),'
            ' language="json")'
        ),
        collect='filename=doc["filename"], language=doc["language"], parsed=doc["parsed"]',
    )
    return ws


def test_a_flow_knows_the_types_of_language_and_parsed_json(ws: Workspace) -> None:
    assert t.field_types(ws) == {"filename": "Str", "language": "Str?", "parsed": "Json"}


def test_a_flow_exports_the_parsed_value_and_language(ws: Workspace) -> None:
    t.apply(ws)
    h.update(ws)
    assert t.connector().TABLES["docs"]["rows"] == {
        "a.json": {"language": "json", "parsed": {"a": "x", "b": [1, 2]}},
        "b.rs": {"language": "rust", "parsed": []},
    }
