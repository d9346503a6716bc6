"""Python annotations → the value types of :mod:`cocotui.engine_type`, by CocoIndex v0's rules.

``str``, ``bytes``, ``bool``, ``int`` (Int64), ``float`` (Float64), ``uuid.UUID``, dates, times
and ``timedelta`` are basic types; ``cocotui.typing`` aliases name the other kinds
(``Float32``, ``Range``, ``Json``, ``Vector[T, N]``...); ``T | None`` is a nullable ``T``;
dataclasses and NamedTuples are structs; ``list[Struct]`` is an ``LTable``, ``dict[K, Struct]``
a ``KTable``; a list or ``numpy.typing.NDArray`` of numbers is a ``Vector``.

One departure from v0, so that apps written for earlier cocotui keep loading: a missing
annotation or ``Any`` is ``Json`` (any JSON-like value) where v0 asks for a specific type.
"""

from __future__ import annotations

import dataclasses
import datetime
import inspect
import sys
import typing
from typing import Annotated, Any

from cocotui.annotations import (
    annotated_struct_hints,
    is_ndarray,
    is_struct_type,
    mapping_types,
    ndarray_dtype,
    sequence_element,
    struct_field_names,
    type_name,
    union_variants,
)
from cocotui.engine_type import (
    BasicKind,
    BasicValueType,
    EnrichedValueType,
    FieldSchema,
    StructSchema,
    StructType,
    TableType,
    UnionTypeSchema,
    ValueType,
    VectorTypeSchema,
)
from cocotui.typing import KEY_FIELD_NAME, TypeAttr, TypeKind, VectorInfo

#: What an unannotated function returns (``inspect.Parameter.empty``).
MISSING: Any = inspect.Parameter.empty


class UnsupportedTypeError(TypeError):
    """An annotation v0 cannot carry as a field type; the message says which part and why."""


_BASIC_KINDS: dict[Any, BasicKind] = {
    bytes: "Bytes",
    str: "Str",
    bool: "Bool",
    int: "Int64",
    float: "Float64",
    datetime.date: "Date",
    datetime.time: "Time",
    datetime.datetime: "OffsetDateTime",
    datetime.timedelta: "TimeDelta",
}
#: numpy dtypes v0 accepts as vector elements or scalars, by name (numpy stays unimported).
_NUMPY_KINDS: dict[str, BasicKind] = {"float32": "Float32", "float64": "Float64", "int64": "Int64"}
_JSON = BasicValueType("Json")


def _numpy_module() -> Any:
    return sys.modules.get("numpy")


def _is_numpy_scalar(tp: Any) -> bool:
    numpy = _numpy_module()
    return numpy is not None and isinstance(tp, type) and issubclass(tp, numpy.generic)


def _numpy_kind(dtype: Any) -> BasicKind:
    if dtype is Any:
        raise UnsupportedTypeError("an NDArray must name a concrete numpy dtype, not Any")
    kind = _NUMPY_KINDS.get(getattr(dtype, "__name__", ""))
    if kind is None or not _is_numpy_scalar(dtype):
        raise UnsupportedTypeError(
            f"numpy dtype {type_name(dtype)} is not supported (use float32, float64 or int64)"
        )
    return kind


@dataclasses.dataclass
class _Annotated:
    core: Any
    kind: str | None = None
    vector: VectorInfo | None = None
    attrs: dict[str, Any] | None = None


def _strip_annotations(tp: Any) -> _Annotated:
    found = _Annotated(tp)
    while typing.get_origin(found.core) is Annotated:
        for meta in found.core.__metadata__:
            if isinstance(meta, TypeKind):
                found.kind = meta.kind
            elif isinstance(meta, VectorInfo):
                found.vector = meta
            elif isinstance(meta, TypeAttr):
                found.attrs = {**(found.attrs or {}), meta.key: meta.value}
        found.core = found.core.__origin__
    return found


def enriched_type_of(annotation: Any, *, nullable: bool = False) -> EnrichedValueType:
    """The field type an annotation stands for; raises :class:`UnsupportedTypeError`."""
    found = _strip_annotations(annotation)
    variants = union_variants(found.core) if found.kind is None else None
    if variants is not None:
        if len(variants) == 1:
            inner = enriched_type_of(variants[0], nullable=True)
            if found.attrs:
                inner.attrs = {**(inner.attrs or {}), **found.attrs}
            return inner
        nullable = nullable or len(variants) < len(typing.get_args(found.core))
    return EnrichedValueType(_value_type(found), nullable, found.attrs)


def _value_type(found: _Annotated) -> ValueType:
    core = found.core
    if found.kind is not None:
        return BasicValueType(typing.cast(BasicKind, found.kind))
    if core is Any or core is MISSING:
        return _JSON
    if is_struct_type(core):
        return StructType(struct_fields(core), _description(core))
    if _is_numpy_scalar(core):
        return BasicValueType(_numpy_kind(core))
    element = sequence_element(core)
    if element is not None:
        return _sequence_type(element, found.vector)
    if is_ndarray(core):
        dtype = ndarray_dtype(core)
        return _vector(BasicValueType(_numpy_kind(Any if dtype is None else dtype)), found.vector)
    key_value = mapping_types(core)
    if key_value is not None:
        if key_value[1] is Any and typing.get_args(core):
            return _JSON  # a free-form object, as an unannotated value is
        return _ktable_type(*key_value)
    variants = union_variants(core)
    if variants is not None:
        return BasicValueType("Union", union=UnionTypeSchema([_basic(v) for v in variants]))
    kind = _BASIC_KINDS.get(core)
    uuid = sys.modules.get("uuid")  # an app annotating uuid.UUID has imported it
    if kind is None and uuid is not None and core is uuid.UUID:
        kind = "Uuid"
    if kind is None:
        raise UnsupportedTypeError(f"{type_name(core)} is not a supported field type")
    return BasicValueType(kind)


def _basic(annotation: Any) -> BasicValueType:
    value_type = enriched_type_of(annotation).type
    if not isinstance(value_type, BasicValueType):
        raise UnsupportedTypeError(
            f"{type_name(annotation)} cannot be a vector element or a union variant (only basic "
            f"types can)"
        )
    return value_type


def _vector(element: BasicValueType, info: VectorInfo | None) -> BasicValueType:
    dimension = info.dim if info is not None else None
    return BasicValueType("Vector", vector=VectorTypeSchema(element, dimension))


def _sequence_type(element: Any, info: VectorInfo | None) -> ValueType:
    row = _strip_annotations(element).core
    if is_struct_type(row):
        if info is not None:
            raise UnsupportedTypeError(f"a list of {type_name(row)} structs cannot be a Vector")
        return TableType("LTable", StructSchema(struct_fields(row), _description(row)))
    return _vector(_basic(element), info)


def _ktable_type(key: Any, value: Any) -> TableType:
    row = _strip_annotations(value).core
    if not is_struct_type(row):
        raise UnsupportedTypeError(
            f"a dict's values must be a struct (a dataclass or NamedTuple: a KTable), got "
            f"{type_name(value)}; annotate Json for free-form JSON"
        )
    key_type = enriched_type_of(key)
    if isinstance(key_type.type, BasicValueType):
        key_fields = [FieldSchema(KEY_FIELD_NAME, key_type)]
    elif isinstance(key_type.type, StructType):
        key_fields = list(key_type.type.fields)
    else:
        raise UnsupportedTypeError(f"{type_name(key)} cannot be the key of a dict (a KTable)")
    fields = key_fields + struct_fields(row)
    return TableType("KTable", StructSchema(fields, _description(row)), len(key_fields))


def _description(struct: type) -> str | None:
    """The struct's docstring; not the one dataclasses and NamedTuples make up from the
    fields (``Chunk(text: str)``), which would only repeat the field types."""
    doc = inspect.getdoc(struct)
    if not doc or (doc.startswith(f"{struct.__name__}(") and doc.endswith(")")):
        return None
    return doc


def struct_fields(struct: type) -> list[FieldSchema]:
    """The fields of a dataclass, NamedTuple or pydantic model, typed; an unsupported field type
    is reported as ``Struct.field: ...``."""
    try:
        hints = annotated_struct_hints(struct)
    except Exception as exc:  # an unresolvable forward reference, as v0 would report it
        raise UnsupportedTypeError(
            f"the annotations of {struct.__qualname__} cannot be resolved: {exc}"
        ) from None
    fields: list[FieldSchema] = []
    for name in struct_field_names(struct):
        try:
            fields.append(FieldSchema(name, enriched_type_of(hints.get(name, Any))))
        except UnsupportedTypeError as exc:
            raise UnsupportedTypeError(f"field {struct.__qualname__}.{name}: {exc}") from None
    return fields


def function_return_annotation(fn: Any) -> Any:
    """The return annotation of a transform function, resolved (``MISSING`` when it has none
    or it cannot be read, e.g. for builtins)."""
    declared = inspect.isroutine(fn) or "__annotations__" in vars(fn)  # an executor declares
    target = fn if declared or isinstance(fn, type) else type(fn).__call__
    if isinstance(target, type):
        return MISSING  # a class called as a function: nothing declares what it returns
    try:
        hints = typing.get_type_hints(target, include_extras=True)
    except Exception:  # an unresolvable forward reference or an unintrospectable callable
        return inspect.signature(target).return_annotation if _has_signature(target) else MISSING
    return hints.get("return", MISSING)


def _has_signature(fn: Any) -> bool:
    try:
        inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    return True


def constant_type(value: Any) -> EnrichedValueType:
    """The type of a constant passed in a flow (``Json`` when its Python type has none)."""
    if value is None:
        return EnrichedValueType(_JSON, nullable=True)
    try:
        return enriched_type_of(type(value))
    except UnsupportedTypeError:
        return EnrichedValueType(_JSON)
