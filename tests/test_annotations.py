"""One reader of struct annotations (cocotui.annotations) for the flow's field types, the
``mutate`` decoders and transform-flow results: the same fields, in the same order, whichever
kind of struct declares them."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import pydantic

from cocotui.annotations import (
    annotated_struct_hints,
    is_struct_type,
    struct_field_names,
    struct_type_fields,
)
from cocotui.engine_value import make_decoder
from cocotui.typing import Float32, Vector
from cocotui.value_types import enriched_type_of


@dataclasses.dataclass
class Page:
    title: str
    embedding: Vector[Float32, 3]  # type: ignore[type-arg]
    tags: list[str] = dataclasses.field(default_factory=list)
    cached: int = dataclasses.field(default=0, init=False)


class Point(NamedTuple):
    x: float
    y: float = 0.0


class Person(pydantic.BaseModel):
    name: str
    age: int = 0


def test_the_fields_a_struct_is_built_from_whatever_declares_it() -> None:
    assert struct_field_names(Page) == ("title", "embedding", "tags")  # not the init=False one
    assert struct_field_names(Point) == ("x", "y")
    assert struct_field_names(Person) == ("name", "age")
    assert [(f.name, f.has_default) for f in struct_type_fields(Person)] == [
        ("name", False),
        ("age", True),
    ]
    assert [(f.name, f.has_default) for f in struct_type_fields(Page)] == [
        ("title", False),
        ("embedding", False),
        ("tags", True),
    ]
    assert all(is_struct_type(t) for t in (Page, Point, Person))
    assert not is_struct_type(dict) and not is_struct_type(Page(title="", embedding=[]))


def test_hints_keep_the_vector_size_the_field_types_read() -> None:
    hint = annotated_struct_hints(Page)["embedding"]
    assert getattr(hint, "__metadata__", None)  # Annotated[list[float], ...] kept whole
    fields = enriched_type_of(Page).type.fields  # type: ignore[union-attr]
    assert [f.name for f in fields] == ["title", "embedding", "tags"]
    assert fields[1].value_type.type.vector.dimension == 3


def test_a_result_is_built_by_the_same_fields() -> None:
    assert make_decoder(Person, "p")({"name": "Ada", "age": 36}) == Person(name="Ada", age=36)
    assert make_decoder(Point, "p")({"x": 1, "y": 2}) == Point(1.0, 2.0)
    page = make_decoder(Page, "p")({"title": "t", "embedding": [1.0, 2.0, 3.0], "tags": ["a"]})
    assert page == Page(title="t", embedding=[1.0, 2.0, 3.0], tags=["a"])
