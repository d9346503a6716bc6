"""Transform flows (``@cocoindex.transform_flow()``) evaluated on plain values: the behaviours
CocoIndex v0.3.39's own ``python/cocoindex/tests/test_transform_flow.py`` checks, written for
cocotui, plus the decoding of results to the declared return type."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any, NamedTuple

import numpy as np
import pytest
from numpy.typing import NDArray

import cocotui as cocoindex
from cocotui.flow.builder import FlowDefinitionError


@dataclasses.dataclass
class Item:
    value: int


@dataclasses.dataclass
class Basket:
    items: list[Item]


@cocoindex.op.function()
def exclaim(text: str) -> str:
    return f"{text}!"


@cocoindex.transform_flow()
def shout(text: cocoindex.DataSlice[str]) -> cocoindex.DataSlice[str]:
    return text.transform(exclaim)


@cocoindex.op.function()
def doubled(value: int) -> int:
    return value * 2


@cocoindex.transform_flow()
def double_items(basket: cocoindex.DataSlice[Basket]) -> cocoindex.DataSlice[Any]:
    with basket["items"].row() as item:
        item["twice"] = item["value"].transform(doubled)
    return basket


def test_eval_runs_the_transforms_on_a_plain_value() -> None:
    assert shout.eval("hi") == "hi!"
    assert shout.eval("") == "!"


def test_eval_async_gives_the_same_result() -> None:
    assert asyncio.run(shout.eval_async("hey")) == "hey!"


def test_fields_added_to_nested_rows_are_part_of_the_result() -> None:
    result = double_items.eval(Basket([Item(3), Item(5)]))
    assert result == {"items": [{"value": 3, "twice": 6}, {"value": 5, "twice": 10}]}
    assert double_items.eval(Basket([])) == {"items": []}
    assert asyncio.run(double_items.eval_async(Basket([Item(1)]))) == {
        "items": [{"value": 1, "twice": 2}]
    }


def test_fields_added_to_the_rows_of_a_keyed_table_are_part_of_the_result() -> None:
    @cocoindex.transform_flow()
    def doubled_by_name(
        items: cocoindex.DataSlice[dict[str, Item]],
    ) -> cocoindex.DataSlice[Any]:
        with items.row() as item:
            item["twice"] = item["value"].transform(doubled)
        return items

    assert doubled_by_name.eval({"a": Item(1), "b": Item(4)}) == {
        "a": {"value": 1, "twice": 2},
        "b": {"value": 4, "twice": 8},
    }


def test_a_none_argument_skips_a_function_whose_parameter_refuses_none() -> None:
    @cocoindex.op.function()
    def total(a: int, b: int | None, *, c: int, d: int | None) -> int:
        return a + (b or 0) + c + (d or 0)

    @cocoindex.transform_flow()
    def summed(
        a: cocoindex.DataSlice[int | None],
        b: cocoindex.DataSlice[int | None],
        c: cocoindex.DataSlice[int | None],
        d: cocoindex.DataSlice[int | None],
    ) -> cocoindex.DataSlice[int | None]:
        return a.transform(total, b, c=c, d=d)

    assert summed.eval(1, 2, 4, 8) == 15
    assert summed.eval(1, None, 4, None) == 5
    assert summed.eval(None, 2, 4, 8) is None
    assert summed.eval(1, 2, None, None) is None


class Suffix(cocoindex.op.FunctionSpec):
    suffix: str


@cocoindex.op.executor_class(gpu=True)
class SuffixExecutor:
    spec: Suffix

    def __call__(self, text: str) -> str:
        return f"{text}{self.spec.suffix}"


class PreparedSuffix(cocoindex.op.FunctionSpec):
    suffix: str


@cocoindex.op.executor_class(gpu=True)
class PreparedSuffixExecutor:
    spec: PreparedSuffix
    suffix: str

    def analyze(self) -> Any:
        return str

    def prepare(self) -> None:
        self.suffix = self.spec.suffix

    def __call__(self, text: str) -> str:
        return f"{text}{self.suffix}"


@cocoindex.op.function(gpu=True)
def on_gpu(text: str) -> str:
    return f"{text} gpu"


def test_gpu_functions_and_executors_run_in_a_transform_flow() -> None:
    @cocoindex.transform_flow()
    def chained(text: cocoindex.DataSlice[str]) -> cocoindex.DataSlice[str]:
        return text.transform(on_gpu).transform(Suffix(suffix="?"))

    @cocoindex.transform_flow()
    def prepared(text: cocoindex.DataSlice[str]) -> cocoindex.DataSlice[str]:
        return text.transform(on_gpu).transform(PreparedSuffix(suffix="??"))

    assert chained.eval("x") == "x gpu?"
    assert prepared.eval("x") == "x gpu??"


@cocoindex.op.function(batching=True)
def batch_upper(texts: list[str]) -> list[str]:
    return [t.upper() for t in texts]


class BatchSuffix(cocoindex.op.FunctionSpec):
    suffix: str


@cocoindex.op.executor_class(batching=True)
class BatchSuffixExecutor:
    spec: BatchSuffix

    def __call__(self, texts: list[str]) -> list[str]:
        return [f"{t}{self.spec.suffix}" for t in texts]


def test_batching_functions_and_executors_run_in_a_transform_flow() -> None:
    @cocoindex.transform_flow()
    def batched(text: cocoindex.DataSlice[str]) -> cocoindex.DataSlice[str]:
        return text.transform(batch_upper).transform(BatchSuffix(suffix="."))

    assert batched.eval("ab") == "AB."


@cocoindex.op.function()
async def async_tag(text: str) -> str:
    return f"<{text}>"


class AsyncSuffix(cocoindex.op.FunctionSpec):
    suffix: str


@cocoindex.op.executor_class()
class AsyncSuffixExecutor:
    spec: AsyncSuffix

    async def __call__(self, text: str) -> str:
        return f"{text}{self.spec.suffix}"


def test_async_functions_and_executors_run_in_a_transform_flow() -> None:
    @cocoindex.transform_flow()
    def tagged(text: cocoindex.DataSlice[str]) -> cocoindex.DataSlice[str]:
        return text.transform(async_tag).transform(AsyncSuffix(suffix="/"))

    assert tagged.eval("p") == "<p>/"
    assert asyncio.run(tagged.eval_async("q")) == "<q>/"


@cocoindex.op.function()
def embed(text: str) -> list[float]:
    return [float(len(text)), 0.5]


def test_the_result_is_decoded_to_the_declared_vector_type() -> None:
    @cocoindex.transform_flow()
    def as_list(text: cocoindex.DataSlice[str]) -> cocoindex.DataSlice[list[float]]:
        return text.transform(embed)

    @cocoindex.transform_flow()
    def as_array(text: cocoindex.DataSlice[str]) -> cocoindex.DataSlice[NDArray[np.float32]]:
        return text.transform(embed)

    @cocoindex.transform_flow()
    def array_as_list(text: cocoindex.DataSlice[str]) -> cocoindex.DataSlice[list[float]]:
        return text.transform(lambda t: np.array([len(t), 1.5], dtype=np.float32))

    assert as_list.eval("abc") == [3.0, 0.5]
    listed = array_as_list.eval("ab")
    assert type(listed) is list and listed == [2.0, 1.5]
    array = as_array.eval("abc")
    assert isinstance(array, np.ndarray) and array.dtype == np.float32
    assert array.tolist() == [3.0, 0.5]


class Pair(NamedTuple):
    left: str
    right: str


@cocoindex.op.function()
def split_pair(text: str) -> cocoindex.Json:
    left, _, right = text.partition("|")
    return {"left": left, "right": right}


def test_the_result_is_decoded_to_a_declared_struct_type() -> None:
    @cocoindex.transform_flow()
    def parsed(text: cocoindex.DataSlice[str]) -> cocoindex.DataSlice[Pair]:
        return text.transform(split_pair)

    @cocoindex.transform_flow()
    def typed_basket(basket: cocoindex.DataSlice[Basket]) -> cocoindex.DataSlice[Basket]:
        with basket["items"].row() as item:
            item["twice"] = item["value"].transform(doubled)
        return basket

    assert parsed.eval("a|b") == Pair("a", "b")
    # Fields the declared type lacks are left out, as v0 decodes.
    assert typed_basket.eval(Basket([Item(2)])) == Basket([Item(2)])


def test_arguments_may_be_given_by_name_and_must_all_be_given() -> None:
    @cocoindex.transform_flow()
    def joined(
        a: cocoindex.DataSlice[str], b: cocoindex.DataSlice[str]
    ) -> cocoindex.DataSlice[str]:
        return a.transform(lambda x, y: f"{x}{y}", b)

    assert joined.eval("x", b="y") == "xy"
    assert joined.eval(b="2", a="1") == "12"
    with pytest.raises(TypeError, match=r"missing argument.*: b"):
        joined.eval("x")
    with pytest.raises(TypeError, match="unexpected argument 'c'"):
        joined.eval("x", "y", c="z")


def test_a_parameter_without_a_data_slice_type_is_refused_when_declared() -> None:
    def untyped(text):  # type: ignore[no-untyped-def]
        return text

    def plain(text: str) -> str:
        return text

    with pytest.raises(FlowDefinitionError, match=r"`text`.*no value type annotation"):
        cocoindex.transform_flow()(untyped)
    with pytest.raises(FlowDefinitionError, match=r"expected a DataSlice\[T\] annotation"):
        cocoindex.transform_flow()(plain)


def test_a_transform_flow_keeps_the_name_and_doc_of_its_function() -> None:
    assert shout.__name__ == "shout"
    assert shout.__wrapped__.__name__ == "shout"


def test_a_transform_flow_given_to_transform_says_to_use_call() -> None:
    with pytest.raises(FlowDefinitionError, match=r"text.call\(flow\)"):

        @cocoindex.transform_flow()
        def wrong(text: cocoindex.DataSlice[str]) -> cocoindex.DataSlice[str]:
            return text.transform(shout)

        wrong.eval("x")


@dataclasses.dataclass
class Embedded:
    text: str
    vector: Any


@dataclasses.dataclass
class EmbeddedResult:
    text: str
    vector: cocoindex.Vector[cocoindex.Float32, 2]  # type: ignore[type-arg]


@cocoindex.op.function()
def embed_struct(text: str) -> EmbeddedResult:
    return EmbeddedResult(text, [float(len(text)), 0.5])


def test_a_field_declared_any_in_the_result_gets_v0_default_for_its_type() -> None:
    @cocoindex.transform_flow()
    def as_struct(text: cocoindex.DataSlice[str]) -> cocoindex.DataSlice[Embedded]:
        return text.transform(embed_struct)

    result = as_struct.eval("abc")
    assert type(result) is Embedded and result.text == "abc"
    # the vector's element type is Float32: v0 gives it, under ``Any``, as a float32 array
    assert isinstance(result.vector, np.ndarray) and result.vector.dtype == np.float32
    assert result.vector.tolist() == [3.0, 0.5]


def test_a_return_type_nothing_can_be_decoded_to_fails_naming_the_flow() -> None:
    @cocoindex.transform_flow()
    def as_set(text: cocoindex.DataSlice[str]) -> cocoindex.DataSlice[set[str]]:
        return text.transform(embed)

    with pytest.raises(FlowDefinitionError, match=r"as_set.*return type.*set\[str\]"):
        as_set.eval("abc")
