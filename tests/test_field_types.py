"""Every field of a flow has a type, as in CocoIndex v0: from the source's schema, from a
function's return annotation, from struct fields and nested rows, and from
``GeneratedField.UUID``. Connectors get them as v0's ``FieldSchema``/``EnrichedValueType``
shapes; a type v0 refuses is an error when the app loads."""

from __future__ import annotations

import uuid

import pytest
import typed_helpers as t
import update_helpers as h
from conftest import Workspace

from cocotui.engine_type import (
    BasicValueType,
    EnrichedValueType,
    FieldSchema,
    StructType,
    TableType,
    VectorTypeSchema,
)
from cocotui.flow.loader import AppLoadError

STRUCTS = '''
@dataclasses.dataclass
class Chunk:
    """A piece of a document."""

    text: str
    start: int


class ChunkNT(NamedTuple):
    text: str
    start: int


class Span(NamedTuple):
    begin: int
    end: int


@dataclasses.dataclass
class Embedded:
    text: str
    embedding: cocoindex.Vector[cocoindex.Float32, 3]
    location: cocoindex.Range | None = None
'''


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    ws = h.prepare(workspace, monkeypatch)
    h.write_files(ws, {"a.md": "alpha|beta"})
    return ws


def function_app(ws: Workspace, annotation: str | None, body: str = "return None") -> None:
    """A flow whose ``value`` field is ``produce(content)``, annotated ``annotation``."""
    returns = "" if annotation is None else f" -> {annotation}"
    header = f"{STRUCTS}\n@cocoindex.op.function()\ndef produce(text: str){returns}:\n    {body}\n"
    t.typed_app(
        ws,
        header=header,
        rows='doc["value"] = doc["content"].transform(produce)',
        collect='filename=doc["filename"], value=doc["value"]',
    )


def test_local_file_fields_are_str(ws: Workspace) -> None:
    t.typed_app(ws)
    keys, values = t.last_schemas(ws)
    assert keys == [FieldSchema("filename", EnrichedValueType(BasicValueType("Str")))]
    assert values == [FieldSchema("content", EnrichedValueType(BasicValueType("Str")))]


def test_binary_local_file_content_is_bytes(ws: Workspace) -> None:
    t.typed_app(ws, source_args=", binary=True")
    assert t.field_types(ws) == {"filename": "Str", "content": "Bytes"}


RETURN_TYPES = [
    # (annotation, type as v0 prints it)
    ("str", "Str"),
    ("bytes", "Bytes"),
    ("bool", "Bool"),
    ("int", "Int64"),
    ("float", "Float64"),
    ("cocoindex.Int64", "Int64"),
    ("cocoindex.Float32", "Float32"),
    ("cocoindex.Float64", "Float64"),
    ("str | None", "Str?"),
    ("Optional[int]", "Int64?"),
    ("int | str", "Union[Int64 | Str]"),
    ("cocoindex.Json", "Json"),
    ("datetime.date", "Date"),
    ("datetime.time", "Time"),
    ("datetime.datetime", "OffsetDateTime"),
    ("cocoindex.LocalDateTime", "LocalDateTime"),
    ("cocoindex.OffsetDateTime", "OffsetDateTime"),
    ("datetime.timedelta", "TimeDelta"),
    ("uuid.UUID", "Uuid"),
    ("cocoindex.Range", "Range"),
    ("cocoindex.Vector[cocoindex.Float32, 384]", "Vector[Float32, 384]"),
    ("cocoindex.Vector[np.float32, Literal[3]]", "Vector[Float32, 3]"),
    ("cocoindex.Vector[float]", "Vector[Float64]"),
    ("NDArray[np.float32]", "Vector[Float32]"),
    ("NDArray[np.int64]", "Vector[Int64]"),
    ("list[float]", "Vector[Float64]"),
    ("list[list[int]]", "Vector[Vector[Int64]]"),
    ("Chunk", "Struct(text: Str, start: Int64)"),
    ("ChunkNT", "Struct(text: Str, start: Int64)"),
    ("Embedded", "Struct(text: Str, embedding: Vector[Float32, 3], location: Range?)"),
    ("list[Chunk]", "LTable(Struct(text: Str, start: Int64))"),
    ("dict[str, Chunk]", "KTable(1)(Struct(_key: Str, text: Str, start: Int64))"),
    ("dict[Span, Chunk]", "KTable(2)(Struct(begin: Int64, end: Int64, text: Str, start: Int64))"),
    ("'list[Chunk]'", "LTable(Struct(text: Str, start: Int64))"),
    (None, "Json"),
]


@pytest.mark.parametrize(("annotation", "expected"), RETURN_TYPES, ids=[a for a, _ in RETURN_TYPES])
def test_function_return_annotation_types_the_field(
    ws: Workspace, annotation: str | None, expected: str
) -> None:
    function_app(ws, annotation)
    assert t.field_types(ws) == {"filename": "Str", "value": expected}


def test_vector_field_schema_has_v0_shape(ws: Workspace) -> None:
    function_app(ws, "cocoindex.Vector[cocoindex.Float32, 384]")
    _, values = t.last_schemas(ws)
    vector = BasicValueType("Vector", vector=VectorTypeSchema(BasicValueType("Float32"), 384))
    assert values == [FieldSchema("value", EnrichedValueType(vector))]
    assert values[0].value_type.encode() == {
        "type": {"kind": "Vector", "element_type": {"kind": "Float32"}, "dimension": 384}
    }


def test_struct_and_table_field_schemas_have_v0_shape(ws: Workspace) -> None:
    function_app(ws, "list[Chunk]")
    _, values = t.last_schemas(ws)
    table = values[0].value_type.type
    assert isinstance(table, TableType) and table.kind == "LTable"
    assert table.row.description == "A piece of a document."
    assert [str(f) for f in table.row.fields] == ["text: Str", "start: Int64"]
    function_app(ws, "Chunk")
    _, values = t.last_schemas(ws)
    assert isinstance(values[0].value_type.type, StructType)


def test_sub_fields_take_their_struct_field_types(ws: Workspace) -> None:
    function_app(ws, "Embedded | None")
    app = ws.app.read_text().replace(
        'value=doc["value"]', 'text=doc["value"]["text"], embedding=doc["value"]["embedding"]'
    )
    ws.app.write_text(app)
    # A field of a nullable struct is nullable.
    assert t.field_types(ws) == {
        "filename": "Str",
        "text": "Str?",
        "embedding": "Vector[Float32, 3]?",
    }


def test_generated_uuid_is_a_uuid_key_stable_across_runs(ws: Workspace) -> None:
    header = f"""{STRUCTS}
@cocoindex.op.function()
def split(text: str) -> list[Embedded]:
    return [Embedded(part, [1.0, 2.0, 3.0]) for part in text.split("|")]
"""
    t.typed_app(ws, header=header, key="id")
    app = ws.app.read_text()
    app = app.replace(
        '        out.collect(filename=doc["filename"], content=doc["content"])',
        '        doc["chunks"] = doc["content"].transform(split)\n'
        '        with doc["chunks"].row() as chunk:\n'
        '            out.collect(id=cocoindex.GeneratedField.UUID, text=chunk["text"],\n'
        '                        embedding=chunk["embedding"], location=chunk["location"])',
    )
    ws.app.write_text(app)
    assert t.field_types(ws) == {
        "id": "Uuid",
        "text": "Str",
        "embedding": "Vector[Float32, 3]",
        "location": "Range?",
    }
    t.apply(ws)
    h.update(ws)
    rows = t.connector().TABLES["docs"]["rows"]
    assert sorted(v["text"] for v in rows.values()) == ["alpha", "beta"]
    assert all(isinstance(k, uuid.UUID) for k in rows)
    first = dict(rows)
    h.write_files(ws, {"b.md": "gamma"})
    h.update(ws)
    assert {k: v for k, v in rows.items() if v["text"] != "gamma"} == first


LOAD_ERRORS = [
    # (annotation, words the error must contain)
    ("set[int]", "function demo_app.produce returns set[int], which is not a supported field"),
    ("dict[str, int]", "a dict's values must be a struct"),
    ("NDArray[np.int32]", "numpy dtype int32 is not supported"),
    ("list[dict[str, int]]", "a dict's values must be a struct"),
    ("list[Chunk | None]", "cannot be a vector element or a union variant"),
    ("object", "object is not a supported field type"),
]


@pytest.mark.parametrize(("annotation", "message"), LOAD_ERRORS, ids=[a for a, _ in LOAD_ERRORS])
def test_unsupported_return_type_fails_the_load_naming_the_function(
    ws: Workspace, annotation: str, message: str
) -> None:
    function_app(ws, annotation)
    with pytest.raises(AppLoadError, match="error while building flow 'Docs'") as info:
        t.plan(ws)
    assert message in str(info.value)
    assert "demo_app.produce" in str(info.value)


def test_unsupported_struct_field_type_names_the_struct_field(ws: Workspace) -> None:
    header = """
@dataclasses.dataclass
class Tagged:
    text: str
    tags: set[str]
"""
    t.typed_app(
        ws,
        header=header + "\n@cocoindex.op.function()\ndef tag(text: str) -> list[Tagged]:\n"
        "    return []\n",
        rows='doc["tagged"] = doc["content"].transform(tag)',
    )
    with pytest.raises(AppLoadError) as info:
        t.plan(ws)
    assert "demo_app.tag" in str(info.value)
    assert "field Tagged.tags: set[str] is not a supported field type" in str(info.value)


def test_missing_struct_field_fails_the_load(ws: Workspace) -> None:
    function_app(ws, "Chunk")
    ws.app.write_text(
        ws.app.read_text().replace('value=doc["value"]', 'value=doc["value"]["nope"]')
    )
    with pytest.raises(AppLoadError) as info:
        t.plan(ws)
    assert "has no field 'nope' (fields: text, start)" in str(info.value)


def test_row_over_a_value_that_is_not_a_table_fails_the_load(ws: Workspace) -> None:
    t.typed_app(ws, rows='with doc["content"].row() as c:\n    pass')
    with pytest.raises(AppLoadError) as info:
        t.plan(ws)
    assert "row() needs a table" in str(info.value) and "this value is Str" in str(info.value)


def test_ktable_rows_carry_their_key_field(ws: Workspace) -> None:
    header = f"""{STRUCTS}
@cocoindex.op.function()
def by_word(text: str) -> dict[str, Chunk]:
    return {{word: Chunk(word.upper(), i) for i, word in enumerate(text.split("|"))}}
"""
    t.typed_app(ws, header=header, key="word")
    app = ws.app.read_text().replace(
        '        out.collect(filename=doc["filename"], content=doc["content"])',
        '        with doc["content"].transform(by_word).row() as word:\n'
        '            out.collect(word=word["_key"], text=word["text"], start=word["start"])',
    )
    ws.app.write_text(app)
    assert t.field_types(ws) == {"word": "Str", "text": "Str", "start": "Int64"}
    t.apply(ws)
    h.update(ws)
    assert t.connector().TABLES["docs"]["rows"] == {
        "alpha": {"text": "ALPHA", "start": 0},
        "beta": {"text": "BETA", "start": 1},
    }


def test_a_nullable_argument_to_a_non_nullable_parameter_makes_the_result_nullable(
    ws: Workspace,
) -> None:
    # v0 skips such a call for a null input, so its result may be null.
    function_app(ws, "str | None")
    header = "\n@cocoindex.op.function()\ndef shout(text: str) -> str:\n    return text.upper()\n"
    header += "\n@cocoindex.op.function()\ndef keep(text: str | None) -> str:\n    return ''\n"
    app = ws.app.read_text().replace("@cocoindex.flow_def", header + "\n@cocoindex.flow_def")
    app = app.replace(
        'value=doc["value"]',
        'shouted=doc["value"].transform(shout), kept=doc["value"].transform(keep)',
    )
    ws.app.write_text(app)
    assert t.field_types(ws) == {"filename": "Str", "shouted": "Str?", "kept": "Str"}


def test_an_executor_call_annotation_types_the_field(ws: Workspace) -> None:
    """``transform(SomeSpec(...))``: the field's type is the executor's ``__call__`` return."""
    header = """
class Measure(cocoindex.op.FunctionSpec):
    unit: str

@cocoindex.op.executor_class()
class MeasureExecutor:
    spec: Measure

    def __call__(self, text: str) -> cocoindex.Vector[cocoindex.Float32, 3]:
        return [float(len(text)), 0.0, 1.0]
"""
    t.typed_app(
        ws,
        header=header,
        rows='doc["value"] = doc["content"].transform(Measure(unit="chars"))',
        collect='filename=doc["filename"], value=doc["value"]',
    )
    assert t.field_types(ws) == {"filename": "Str", "value": "Vector[Float32, 3]"}
