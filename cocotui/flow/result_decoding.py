"""A flow value as the Python type a transform flow declares it returns (v0's result decoding):
structs become the declared dataclass or NamedTuple (or dicts where ``Any`` is declared),
lists and dicts are decoded element by element, a vector becomes a numpy array where
``NDArray`` is declared, and where ``Any`` is declared when numpy is installed, as in v0."""

from __future__ import annotations

import typing
from typing import Any

from cocotui.annotations import (
    annotated_struct_hints,
    is_any,
    is_ndarray,
    is_struct_type,
    ndarray_dtype,
    strip_annotated,
    struct_field_names,
    union_variants,
)
from cocotui.engine_type import BasicValueType, EnrichedValueType, StructType, TableType
from cocotui.engine_value import default_decoder
from cocotui.values.shapes import struct_fields


def _fields_of(value: Any) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, dict) else struct_fields(value)


def _field_types(value_type: EnrichedValueType | None) -> dict[str, EnrichedValueType]:
    found = value_type.type if value_type is not None else None
    if isinstance(found, TableType):
        return {f.name: f.value_type for f in found.row.fields}
    if isinstance(found, StructType):
        return {f.name: f.value_type for f in found.fields}
    return {}


def _element_type(value_type: EnrichedValueType | None) -> EnrichedValueType | None:
    found = value_type.type if value_type is not None else None
    if isinstance(found, BasicValueType) and found.vector is not None:
        return EnrichedValueType(found.vector.element_type)
    if isinstance(found, TableType):
        return EnrichedValueType(StructType(found.row.fields))
    return None


def _vector_array(value: Any, value_type: EnrichedValueType | None) -> Any:
    """v0 gives a vector as a numpy array of its element type when ``Any`` is declared (as it
    hands one to ``mutate``: :func:`cocotui.engine_value.default_decoder`)."""
    found = value_type.type if value_type is not None else None
    if not (isinstance(found, BasicValueType) and found.vector is not None):
        return None
    return default_decoder(found)(value)


def plain_value(value: Any, value_type: EnrichedValueType | None = None) -> Any:
    """``value`` with no declared type: structs as dicts, tables as lists or dicts of them."""
    if value is None or isinstance(value, str | bytes | bool | int | float):
        return value
    array = _vector_array(value, value_type)
    if array is not None:
        return array
    fields = struct_fields(value)
    if fields is not None or isinstance(value, dict):
        is_struct = value_type is not None and isinstance(value_type.type, StructType)
        if fields is not None or is_struct:
            types_ = _field_types(value_type)
            return {k: plain_value(v, types_.get(k)) for k, v in (fields or value).items()}
        element = _element_type(value_type)  # a KTable: its values are rows
        return {k: plain_value(v, element) for k, v in value.items()}
    if isinstance(value, list | tuple):
        element = _element_type(value_type)
        return [plain_value(v, element) for v in value]
    return value


def _struct(cls: type, value: Any, value_type: EnrichedValueType | None) -> Any:
    fields = _fields_of(value)
    if fields is None:
        return value
    hints = annotated_struct_hints(cls)
    types_ = _field_types(value_type)
    kwargs = {
        name: decode_as(hints.get(name, Any), fields[name], types_.get(name))
        for name in struct_field_names(cls)
        if name in fields
    }
    return cls(**kwargs)


def decode_as(annotation: Any, value: Any, value_type: EnrichedValueType | None = None) -> Any:
    """``value`` (as the engine computed it, of ``value_type``) as ``annotation`` says."""
    annotation = strip_annotated(annotation)
    if value is None:
        return None
    if is_any(annotation):
        return plain_value(value, value_type)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    variants = union_variants(annotation)
    if variants is not None:
        return decode_as(variants[0], value, value_type) if len(variants) == 1 else value
    if is_struct_type(annotation):
        return _struct(annotation, value, value_type)
    if is_ndarray(annotation):
        import numpy

        return numpy.asarray(value, dtype=ndarray_dtype(annotation))
    if origin in (list, typing.Sequence, tuple) and args and hasattr(value, "tolist"):
        value = value.tolist()  # a numpy array where a list is declared
    if origin in (list, typing.Sequence, tuple) and args and isinstance(value, list | tuple):
        element = _element_type(value_type)
        return [decode_as(args[0], v, element) for v in value]
    if origin is dict and len(args) == 2 and isinstance(value, dict):
        element = _element_type(value_type)
        return {k: decode_as(args[1], v, element) for k, v in value.items()}
    if annotation is float and isinstance(value, int):
        return float(value)
    return value
