"""The type of every value a flow computes, found while the flow is built (CocoIndex v0's
rules): source fields from the source's schema, a transform's from its return annotation,
sub-fields from their struct, the fields of a nested row from its table type. A type v0 would
refuse is a :class:`FlowTypeError` naming the function or field."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cocotui.app_modules import user_module_name
from cocotui.engine_type import (
    BasicValueType,
    EnrichedValueType,
    StructType,
    TableType,
)
from cocotui.value_types import (
    MISSING,
    UnsupportedTypeError,
    enriched_type_of,
    function_return_annotation,
)

#: The type of a value nothing declares (an unannotated function's result, a field of a
#: source without a schema): any JSON-like value.
UNKNOWN = EnrichedValueType(BasicValueType("Json"))
UUID = EnrichedValueType(BasicValueType("Uuid"))


class FlowTypeError(ValueError):
    """A value's type is not one a flow can carry, or does not fit where it is used."""


def function_name(fn: Callable[..., Any]) -> str:
    module = getattr(fn, "__module__", None)
    name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    if not module or module == "builtins":
        return name
    return f"{user_module_name(module)}.{name}"


def source_field_types(spec: Any) -> dict[str, EnrichedValueType]:
    """A source's fields and their types, from its ``field_types()`` when it declares them."""
    declared = getattr(spec, "field_types", None)
    return dict(declared()) if callable(declared) else {}


def _param_annotations(fn: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(fn, eval_str=True)
    except (TypeError, ValueError, NameError):
        return None


def _drops_none(fn: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any]) -> bool:
    """Whether a nullable argument goes to a parameter whose annotation is not nullable: v0
    then skips the call for a null input, so the result may be null too."""
    signature = _param_annotations(fn)
    if signature is None:
        return False
    try:
        bound = signature.bind_partial(*args, **kwargs)
    except TypeError:
        return False
    for name, arg_type in bound.arguments.items():
        if not isinstance(arg_type, EnrichedValueType) or not arg_type.nullable:
            continue
        annotation = signature.parameters[name].annotation
        if annotation is MISSING or annotation is Any:
            continue
        try:
            if not enriched_type_of(annotation).nullable:
                return True
        except UnsupportedTypeError:
            continue
    return False


def call_type(
    fn: Callable[..., Any],
    arg_types: Sequence[EnrichedValueType],
    kwarg_types: Mapping[str, EnrichedValueType],
) -> EnrichedValueType:
    """The type of ``fn(*args, **kwargs)``: its return annotation, nullable when a nullable
    argument meets a parameter that does not accept ``None``."""
    annotation = function_return_annotation(fn)
    if annotation is MISSING:
        return UNKNOWN
    try:
        return enriched_type_of(annotation, nullable=_drops_none(fn, arg_types, kwarg_types))
    except UnsupportedTypeError as exc:
        raise FlowTypeError(
            f"function {function_name(fn)} returns {annotation!r}, which is not a supported "
            f"field type: {exc}".replace("typing.", "")
        ) from None


def sub_field_type(base: EnrichedValueType, name: str) -> EnrichedValueType:
    """The type of ``value[name]`` for a struct (or JSON) value."""
    if isinstance(base.type, StructType):
        for field in base.type.fields:
            if field.name == name:
                vt = field.value_type
                return EnrichedValueType(vt.type, vt.nullable or base.nullable, vt.attrs)
        known = ", ".join(f.name for f in base.type.fields)
        raise FlowTypeError(f"struct {base.type} has no field {name!r} (fields: {known})")
    if isinstance(base.type, BasicValueType) and base.type.kind == "Json":
        return UNKNOWN
    raise FlowTypeError(f"field {name!r} cannot be taken from a value of type {base}")


def row_field_types(table: EnrichedValueType) -> dict[str, EnrichedValueType]:
    """The fields of each row of a nested table (none known for a JSON value)."""
    if isinstance(table.type, TableType):
        return {f.name: f.value_type for f in table.type.row.fields}
    if isinstance(table.type, BasicValueType) and table.type.kind == "Json":
        return {}
    raise FlowTypeError(
        f"row() needs a table (a list of dataclasses or NamedTuples, or a dict of them), but "
        f"this value is {table}"
    )
