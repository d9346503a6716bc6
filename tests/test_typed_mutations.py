"""Typed mutations (issue 10, item 5): every field of a key or value reaches ``mutate`` as its
annotation says, as CocoIndex v0 decodes it: nested structs, tables (``list[Struct]``,
``dict[K, Struct]``), vectors as lists or numpy arrays, UUIDs, datetimes, JSON; and, where the
annotation says nothing, v0's default representation (structs as dicts, tuples in keys)."""

from __future__ import annotations

import dataclasses
import datetime
import sys
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pydantic
import pytest
import update_helpers as h
from conftest import Workspace

from cocotui.app_modules import app_module_name
from cocotui.engine.targets import TargetError
from cocotui.engine_value import field_types, value_decoder

HEADER = """
import datetime
import uuid

import numpy as np
import pydantic
import numpy.typing as npt


@dataclasses.dataclass
class Chunk:
    text: str
    start: int


class ChunkNT(NamedTuple):
    text: str
    start: int


@dataclasses.dataclass
class Meta:
    title: str
    words: int


class MetaNT(NamedTuple):
    title: str
    words: int


def meta(content: str) -> Meta:
    return Meta(title=content.split()[0], words=len(content.split()))


def chunks(content: str) -> list[Chunk]:
    return [Chunk(word, i) for i, word in enumerate(content.split())]


def by_word(content: str) -> dict[str, Chunk]:
    return {chunk.text: chunk for chunk in chunks(content)}


def embed(content: str) -> list[float]:
    return [float(len(content)), 0.5, 0.25]


def doc_id(filename: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, filename)


def stamp(filename: str) -> datetime.datetime:
    return datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)


def payload(content: str) -> dict[str, Any]:
    return {"words": content.split(), "nested": {"n": 1}}


@dataclasses.dataclass
class Row:
    meta: MetaNT
    chunks: list[ChunkNT]
    by_word: dict[str, ChunkNT]
    embedding: list[float]
    doc_id: uuid.UUID
    stamp: datetime.datetime
    payload: Any
    note: str | None = None


class RowNT(NamedTuple):
    meta: Meta
    chunks: list[Chunk]
    embedding: npt.NDArray[np.float32]


@dataclasses.dataclass
class VectorRow:
    embedding: npt.NDArray[np.float32]


@dataclasses.dataclass(frozen=True)
class DocKey:
    doc_id: uuid.UUID
    filename: str


class TypedTarget(cocoindex.op.TargetSpec):
    resource: str


@cocoindex.op.target_connector(spec_cls=TypedTarget)
class TypedConnector:
    @staticmethod
    def get_persistent_key(spec, target_name):
        return spec.resource

    @staticmethod
    def apply_setup_change(key, previous, current):
        pass

    @staticmethod
    def mutate(*all_mutations: ANNOTATION):
        mem_connector.CALLS.append(("mutate", all_mutations))
"""

ROWS = """
doc["meta"] = doc["content"].transform(meta)
doc["chunks"] = doc["content"].transform(chunks)
doc["by_word"] = doc["content"].transform(by_word)
doc["embedding"] = doc["content"].transform(embed)
doc["doc_id"] = doc["filename"].transform(doc_id)
doc["stamp"] = doc["filename"].transform(stamp)
doc["payload"] = doc["content"].transform(payload)
"""
COLLECT = ", ".join(
    f'{name}=doc["{name}"]'
    for name in ("filename", "meta", "chunks", "by_word", "embedding", "doc_id", "stamp", "payload")
)
DOC_ID = uuid.uuid5(uuid.NAMESPACE_URL, "a.md")
STAMP = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


def typed_app(
    ws: Workspace, annotation: str, key_fields: list[str] | None = None, extra: str = ""
) -> Any:
    """The app; ``extra`` is Python source added to the header (classes ``annotation`` names)."""
    header = HEADER.replace("*all_mutations: ANNOTATION", f"*all_mutations: {annotation}")
    header = header.replace("class TypedTarget", f"{extra}\n\nclass TypedTarget", 1)
    if annotation == "":
        header = header.replace("*all_mutations: ", "*all_mutations")
    h.flow_app(
        ws,
        f'out.export("t", TypedTarget(resource="r"), '
        f"primary_key_fields={key_fields or ['filename']!r})",
        rows=ROWS,
        collect=COLLECT,
        header=header,
    )
    h.write_files(ws, {"a.md": "hello typed world"})


def mutated(ws: Workspace) -> tuple[Any, Any]:
    """Apply, update once, and return the one (key, value) ``mutate`` received."""
    h.apply_all(ws)
    run = h.update(ws)
    assert run.result.ok, run.events
    [call] = h.mutate_calls()
    [(_, mutations)] = call
    [(key, value)] = mutations.items()
    return key, value


def app() -> Any:
    """The app's module, imported under its private name."""
    return sys.modules[app_module_name(Path("demo_app.py"))]


def test_dataclass_value_fields_are_decoded_per_their_annotations(ws: Workspace) -> None:
    typed_app(ws, "tuple[TypedTarget, dict[str, Row | None]]")
    key, value = mutated(ws)
    m = app()
    assert key == "a.md"
    assert type(value) is m.Row
    # a struct produced as one class arrives as the annotated one (Meta -> MetaNT)
    assert value.meta == m.MetaNT("hello", 3) and type(value.meta) is m.MetaNT
    # a table (list of structs) and a keyed table (dict of structs), rows as annotated
    assert value.chunks == [m.ChunkNT("hello", 0), m.ChunkNT("typed", 1), m.ChunkNT("world", 2)]
    assert all(type(c) is m.ChunkNT for c in value.chunks)
    assert value.by_word["typed"] == m.ChunkNT("typed", 1)
    assert type(value.by_word["world"]) is m.ChunkNT
    assert value.embedding == [17.0, 0.5, 0.25]
    assert value.doc_id == DOC_ID and isinstance(value.doc_id, uuid.UUID)
    assert value.stamp == STAMP
    assert value.payload == {"words": ["hello", "typed", "world"], "nested": {"n": 1}}
    assert value.note is None  # not collected, has a default


def test_namedtuple_value_with_numpy_vector(ws: Workspace) -> None:
    typed_app(ws, "tuple[TypedTarget, dict[str, RowNT | None]]")
    _, value = mutated(ws)
    m = app()
    assert type(value) is m.RowNT
    assert value.meta == m.Meta("hello", 3)
    assert value.chunks[2] == m.Chunk("world", 2)
    assert isinstance(value.embedding, np.ndarray)
    assert value.embedding.dtype == np.float32
    assert value.embedding.tolist() == [17.0, 0.5, 0.25]


def test_vector_annotated_ndarray_from_a_list(ws: Workspace) -> None:
    typed_app(ws, "tuple[TypedTarget, dict[str, VectorRow | None]]")
    _, value = mutated(ws)
    assert isinstance(value.embedding, np.ndarray) and value.embedding.dtype == np.float32


@pytest.mark.parametrize(
    "annotation",
    ["", "tuple[TypedTarget, dict[Any, Any]]", "tuple[TypedTarget, dict[str, dict[str, Any]]]"],
    ids=["unannotated", "any", "dict-of-any"],
)
def test_unannotated_values_get_v0_default_representation(ws: Workspace, annotation: str) -> None:
    typed_app(ws, annotation)
    key, value = mutated(ws)
    assert key == "a.md"
    assert value["meta"] == {"title": "hello", "words": 3}
    assert value["chunks"] == [
        {"text": "hello", "start": 0},
        {"text": "typed", "start": 1},
        {"text": "world", "start": 2},
    ]
    assert value["by_word"]["typed"] == {"text": "typed", "start": 1}
    # The function returns list[float], a Vector: v0 hands a vector to an unannotated mutate
    # as a numpy array of its element type.
    embedding = value["embedding"]
    assert isinstance(embedding, np.ndarray) and embedding.dtype == np.float64
    assert embedding.tolist() == [17.0, 0.5, 0.25]
    assert value["doc_id"] == DOC_ID
    assert value["stamp"] == STAMP
    assert value["payload"] == {"words": ["hello", "typed", "world"], "nested": {"n": 1}}


def test_bare_uuid_key(ws: Workspace) -> None:
    typed_app(ws, "tuple[TypedTarget, dict[uuid.UUID, dict[str, Any] | None]]", ["doc_id"])
    key, value = mutated(ws)
    assert key == DOC_ID and isinstance(key, uuid.UUID)
    assert "doc_id" not in value and value["filename"] == "a.md"


def test_frozen_dataclass_composite_key_with_uuid(ws: Workspace) -> None:
    typed_app(ws, "tuple[TypedTarget, dict[DocKey, Any]]", ["filename", "doc_id"])
    key, _ = mutated(ws)
    assert key == app().DocKey(doc_id=DOC_ID, filename="a.md")


def test_unannotated_composite_key_is_a_tuple(ws: Workspace) -> None:
    typed_app(ws, "", ["filename", "doc_id"])
    key, _ = mutated(ws)
    assert key == ("a.md", DOC_ID)


def test_struct_key_part_unannotated_is_a_tuple(ws: Workspace) -> None:
    typed_app(ws, "", ["meta"])
    key, value = mutated(ws)
    assert key == ("hello", 3)
    assert "meta" not in value


def test_unsupported_field_annotation_fails_at_load_naming_connector_and_field(
    ws: Workspace,
) -> None:
    extra = """

@dataclasses.dataclass
class BadRow:
    chunks: set[str]
"""
    typed_app(ws, "tuple[TypedTarget, dict[str, BadRow | None]]", extra=extra)
    with pytest.raises(TargetError) as caught:
        h.open_engine(ws)
    message = str(caught.value)
    assert "Docs.t" in message and "TypedConnector.mutate()" in message
    assert "BadRow.chunks" in message and "set[str]" in message


# -- vectors under ``Any``: v0 hands them over as numpy arrays, which takes the field's type ----
# (v0-shaped ``engine_type`` stand-ins: the engine passes the collected fields' FieldSchema.)


@dataclasses.dataclass
class _Basic:
    kind: str
    vector: _Vector | None = None


@dataclasses.dataclass
class _Vector:
    element_type: _Basic
    dimension: int | None


@dataclasses.dataclass
class _Struct:
    fields: list[_Field]
    kind: str = "Struct"


@dataclasses.dataclass
class _Table:
    kind: str
    row: _Struct
    num_key_parts: int | None = None


@dataclasses.dataclass
class _Enriched:
    type: Any


@dataclasses.dataclass
class _Field:
    name: str
    value_type: _Enriched


def _vector(kind: str = "Float32") -> _Enriched:
    return _Enriched(_Basic("Vector", _Vector(_Basic(kind), 2)))


@dataclasses.dataclass
class _Piece:
    text: str
    embedding: list[float]


def test_vectors_typed_as_vectors_reach_an_any_annotation_as_numpy_arrays() -> None:
    piece = _Struct([_Field("text", _Enriched(_Basic("Str"))), _Field("embedding", _vector())])
    schemas = [
        _Field("embedding", _vector("Float64")),
        _Field("title", _Enriched(_Basic("Str"))),
        _Field("tags", _Enriched(_Basic("Json"))),
        _Field("first", _Enriched(piece)),
        _Field("pieces", _Enriched(_Table("LTable", piece))),
        _Field(
            "by_text",
            _Enriched(_Table("KTable", _Struct([_Field("k", _vector()), *piece.fields]), 1)),
        ),
    ]
    decode = value_decoder(Any, [f.name for f in schemas], "t", field_types(schemas))
    row = {
        "embedding": [1.0, 2.0],
        "title": "x",
        "tags": [1.0, 2.0],  # JSON, not a vector: stays a list
        "first": _Piece("a", [0.5, 0.25]),
        "pieces": [_Piece("b", [1.0, 0.0])],
        "by_text": {"c": _Piece("c", [0.0, 1.0])},
    }
    got = decode(row)
    assert isinstance(got["embedding"], np.ndarray) and got["embedding"].dtype == np.float64
    assert got["tags"] == [1.0, 2.0] and type(got["tags"]) is list
    assert got["title"] == "x"
    assert got["first"]["text"] == "a"
    assert got["first"]["embedding"].dtype == np.float32
    [first_piece] = got["pieces"]
    assert first_piece["embedding"].tolist() == [1.0, 0.0]
    assert got["by_text"]["c"]["embedding"].dtype == np.float32


def test_a_value_that_cannot_take_the_annotated_type_fails_its_row_naming_the_field(
    ws: Workspace,
) -> None:
    extra = """

@dataclasses.dataclass
class WrongRow:
    stamp: uuid.UUID
"""
    typed_app(ws, "tuple[TypedTarget, dict[str, WrongRow | None]]", extra=extra)
    h.apply_all(ws)
    run = h.update(ws)
    assert not run.result.ok
    [failure] = run.named("row.failed")
    assert "WrongRow.stamp: cannot decode datetime.datetime(2024, 1, 2" in failure["error"]
    assert h.mutate_calls() == []


def test_optional_and_table_fields_never_collected_get_v0_auto_defaults(ws: Workspace) -> None:
    extra = """

@dataclasses.dataclass
class Sparse:
    meta: Meta
    summary: str | None
    tags: list[str]
    scores: dict[str, float]
"""
    typed_app(ws, "tuple[TypedTarget, dict[str, Sparse | None]]", extra=extra)
    _, value = mutated(ws)
    assert value == app().Sparse(app().Meta("hello", 3), None, [], {})


@dataclasses.dataclass
class _AnyRow:
    title: str
    first: Any
    embedding: Any = None


def test_fields_annotated_any_inside_a_dataclass_get_v0_defaults_by_their_type() -> None:
    piece = _Struct([_Field("text", _Enriched(_Basic("Str"))), _Field("embedding", _vector())])
    schemas = [
        _Field("title", _Enriched(_Basic("Str"))),
        _Field("first", _Enriched(piece)),
        _Field("embedding", _vector("Float64")),
    ]
    decode = value_decoder(_AnyRow, [f.name for f in schemas], "t", field_types(schemas))
    got = decode({"title": "x", "first": _Piece("a", [0.5, 0.25]), "embedding": [1.0, 2.0]})
    assert type(got) is _AnyRow and got.title == "x"
    assert got.first["text"] == "a" and got.first["embedding"].dtype == np.float32
    assert isinstance(got.embedding, np.ndarray) and got.embedding.dtype == np.float64


class _ModelRow(pydantic.BaseModel):
    title: str
    words: int
    tags: list[str] = []


def test_a_pydantic_model_value_type_is_built_by_field_name_as_in_v0() -> None:
    decode = value_decoder(_ModelRow, ["title", "words"], "t")
    got = decode({"title": "x", "words": 3.0})
    assert type(got) is _ModelRow
    assert got == _ModelRow(title="x", words=3, tags=[])
