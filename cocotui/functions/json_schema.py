"""An ``output_type`` (dataclasses, NamedTuples, lists, basic types, nested) as the JSON schema
an LLM's structured output is asked to match, and the LLM's JSON back as that type.

Schemas are in the strict form OpenAI-compatible APIs accept: every property required,
``additionalProperties`` false, ``None`` allowed through ``anyOf`` with ``null``; a type that is
not an object is wrapped in an object's ``value`` property, as the top level must be one.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from typing import Any

_BASIC: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}
WRAPPER_FIELD = "value"


class OutputTypeError(TypeError):
    """An ``output_type`` that has no JSON schema (a set, a dict, ``Any``...)."""


class OutputMismatchError(ValueError):
    """The LLM's JSON does not match the ``output_type``."""


def _plain(tp: Any) -> Any:
    """``tp`` without ``Annotated`` layers (``cocoindex.Float32`` is a float)."""
    while typing.get_origin(tp) is typing.Annotated:
        tp = tp.__origin__
    return tp


def _optional_of(tp: Any) -> Any | None:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        variants = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(variants) == 1 and len(typing.get_args(tp)) == 2:
            return variants[0]
        raise OutputTypeError(f"{tp!r}: only `X | None` unions have a JSON schema")
    return None


def _struct_fields(tp: Any) -> dict[str, Any] | None:
    """A dataclass's or NamedTuple's field types, by name."""
    if isinstance(tp, type) and (dataclasses.is_dataclass(tp) or hasattr(tp, "_fields")):
        return typing.get_type_hints(tp)
    return None


def _description(tp: type) -> str | None:
    doc = (tp.__doc__ or "").strip()
    generated = doc.startswith(f"{tp.__name__}(")  # what @dataclass writes when there is none
    return None if not doc or generated else doc


def _schema(tp: Any) -> dict[str, Any]:
    tp = _plain(tp)
    inner = _optional_of(tp)
    if inner is not None:
        return {"anyOf": [_schema(inner), {"type": "null"}]}
    if tp in _BASIC:
        return {"type": _BASIC[tp]}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"type": "string", "enum": [member.name for member in tp]}
    if typing.get_origin(tp) is typing.Literal:
        return {"enum": list(typing.get_args(tp))}
    if typing.get_origin(tp) is list:
        (element,) = typing.get_args(tp) or (None,)
        if element is None:
            raise OutputTypeError("a list needs its element type: list[X]")
        return {"type": "array", "items": _schema(element)}
    fields = _struct_fields(tp)
    if fields is None:
        raise OutputTypeError(f"{tp!r} has no JSON schema (use dataclasses, lists, basic types)")
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {name: _schema(field) for name, field in fields.items()},
        "required": list(fields),
        "additionalProperties": False,
    }
    description = _description(tp)
    if description:
        schema["description"] = description
    return schema


def is_object_type(tp: Any) -> bool:
    return _struct_fields(_plain(tp)) is not None


def output_schema(tp: Any) -> dict[str, Any]:
    """The JSON schema asked of the LLM for ``tp`` (an object, wrapping ``tp`` if needed)."""
    schema = _schema(tp)
    if is_object_type(tp):
        return schema
    return {
        "type": "object",
        "properties": {WRAPPER_FIELD: schema},
        "required": [WRAPPER_FIELD],
        "additionalProperties": False,
    }


def _mismatch(tp: Any, value: Any, where: str) -> OutputMismatchError:
    return OutputMismatchError(f"{where or 'the output'}: expected {tp!r}, got {value!r:.200}")


def decode(tp: Any, value: Any, where: str = "") -> Any:
    """``value`` (parsed JSON) as an instance of ``tp``, checked all the way down."""
    tp = _plain(tp)
    inner = _optional_of(tp)
    if inner is not None:
        return None if value is None else decode(inner, value, where)
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if tp in _BASIC:
        if type(value) is not tp:
            raise _mismatch(tp, value, where)
        return value
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        if value not in tp.__members__:
            raise _mismatch(tp, value, where)
        return tp[value]
    if typing.get_origin(tp) is typing.Literal:
        if value not in typing.get_args(tp):
            raise _mismatch(tp, value, where)
        return value
    if typing.get_origin(tp) is list:
        if not isinstance(value, list):
            raise _mismatch(tp, value, where)
        (element,) = typing.get_args(tp)
        return [decode(element, item, f"{where}[{i}]") for i, item in enumerate(value)]
    fields = _struct_fields(tp)
    if fields is None or not isinstance(value, dict):
        raise _mismatch(tp, value, where)
    # A nullable field the model left out is null (what it would have had to write anyway).
    missing = [n for n, ft in fields.items() if n not in value and not _nullable(ft)]
    if missing:
        raise OutputMismatchError(f"{where or 'the output'}: missing field(s) {missing}")
    return tp(
        **{name: decode(ft, value.get(name), f"{where}.{name}") for name, ft in fields.items()}
    )


def _nullable(tp: Any) -> bool:
    tp = _plain(tp)
    origin = typing.get_origin(tp)
    return origin in (typing.Union, types.UnionType) and type(None) in typing.get_args(tp)


def decode_output(tp: Any, value: Any) -> Any:
    """The LLM's JSON object as ``tp`` (unwrapping what :func:`output_schema` wrapped)."""
    if is_object_type(tp):
        return decode(tp, value)
    if not isinstance(value, dict) or WRAPPER_FIELD not in value:
        raise OutputMismatchError(f"expected an object with {WRAPPER_FIELD!r}, got {value!r:.200}")
    return decode(tp, value[WRAPPER_FIELD])
