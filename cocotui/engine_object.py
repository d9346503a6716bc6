"""Typed objects ↔ the JSON-like form they are stored in, as CocoIndex v0's
``cocoindex.engine_object`` does it: field schemas in v0's type JSON, enums by value, structs
(dataclasses, NamedTuples) as dicts, rebuilt per the annotation they are loaded as."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from cocotui.engine_type import EnrichedValueType, FieldSchema
from cocotui.value_types import is_struct_type


def dump_engine_object(value: Any) -> Any:
    """``value`` as plain JSON-like data: ``None`` fields of nested dataclasses are left out
    (v0 does the same; loading gives them back)."""
    if isinstance(value, enum.Enum):  # before scalars: a str- or int-valued enum is one too
        return value.value
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, EnrichedValueType | FieldSchema):
        return value.encode()
    if isinstance(value, datetime.timedelta):
        seconds = int(value.total_seconds())
        return {
            "secs": seconds,
            "nanos": (value - datetime.timedelta(seconds=seconds)).microseconds * 1000,
        }
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {name: dump_engine_object(getattr(value, name)) for name in value._fields}
    if isinstance(value, tuple):  # kept a tuple: states stored before compare equal
        return tuple(dump_engine_object(item) for item in value)
    if isinstance(value, list):
        return [dump_engine_object(item) for item in value]
    if isinstance(value, dict):
        return {k: dump_engine_object(v) for k, v in value.items()}
    if hasattr(value, "__dict__"):
        dumped = {k: dump_engine_object(v) for k, v in vars(value).items() if v is not None}
        kind = getattr(value, "kind", None)
        if kind is not None and "kind" not in dumped:
            dumped["kind"] = kind  # tells apart the variants of a union of structs
        return dumped
    return value


def _strip(annotation: Any) -> Any:
    while typing.get_origin(annotation) is Annotated:
        annotation = annotation.__origin__
    return annotation


def load_engine_object(annotation: Any, data: Any) -> Any:
    """Rebuild what :func:`dump_engine_object` gave, as an instance of ``annotation``."""
    annotation = _strip(annotation)
    if data is None or annotation is Any:
        return data
    if annotation is FieldSchema:
        return FieldSchema.decode(data)
    if annotation is EnrichedValueType:
        return EnrichedValueType.decode(data)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return annotation(data)
    if annotation is datetime.timedelta and isinstance(data, Mapping):
        return datetime.timedelta(seconds=data["secs"], microseconds=data["nanos"] // 1000)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return _load_union([a for a in args if a is not type(None)], data)
    if origin in (list, tuple, Sequence) and isinstance(data, list | tuple):
        if origin is tuple and args and args[-1] is not Ellipsis:
            return tuple(load_engine_object(a, d) for a, d in zip(args, data, strict=False))
        items = [load_engine_object(args[0] if args else Any, item) for item in data]
        return tuple(items) if origin is tuple else items
    if origin in (dict, Mapping) and isinstance(data, Mapping):
        key_type, value_type = args if len(args) == 2 else (Any, Any)
        return {
            load_engine_object(key_type, k): load_engine_object(value_type, v)
            for k, v in data.items()
        }
    if is_struct_type(annotation) and isinstance(data, Mapping):
        return load_struct(annotation, data)
    return data


def _load_union(variants: list[Any], data: Any) -> Any:
    if len(variants) == 1:
        return load_engine_object(variants[0], data)
    if isinstance(data, Mapping) and "kind" in data:
        for variant in variants:
            if is_struct_type(variant) and _kind_of(variant) == data["kind"]:
                return load_engine_object(variant, data)
    for variant in variants:
        try:
            return load_engine_object(variant, data)
        except (TypeError, ValueError, KeyError):
            continue
    return data


def _kind_of(struct: type) -> Any:
    if dataclasses.is_dataclass(struct):
        for field in dataclasses.fields(struct):
            if field.name == "kind":
                return field.default
    return getattr(struct, "kind", None)


def _auto_default(annotation: Any) -> tuple[bool, Any]:
    """What a field missing from stored data gets when it has no default: ``None`` when it
    is optional, an empty list or dict for those types (as v0 does)."""
    annotation = _strip(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType) and type(None) in typing.get_args(annotation):
        return True, None
    if origin in (list, Sequence) or annotation is list:
        return True, []
    if origin in (dict, Mapping) or annotation is dict:
        return True, {}
    return False, None


def load_struct(struct: type, data: Mapping[str, Any]) -> Any:
    """``struct`` built from a dict by field name, each field loaded per its annotation;
    unknown keys are ignored. Fields whose annotations cannot be resolved are taken as they
    are stored."""
    try:
        hints = typing.get_type_hints(struct, include_extras=True)
    except Exception:  # e.g. a forward reference to a name that is not importable
        hints = {}
    if dataclasses.is_dataclass(struct):
        names = [f.name for f in dataclasses.fields(struct) if f.init]
        defaults = {
            f.name
            for f in dataclasses.fields(struct)
            if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        }
    else:
        names = list(getattr(struct, "_fields", ()))
        defaults = set(getattr(struct, "_field_defaults", {}))
    kwargs: dict[str, Any] = {}
    for name in names:
        if name in data:
            kwargs[name] = load_engine_object(hints.get(name, Any), data[name])
        elif name not in defaults:
            supported, value = _auto_default(hints.get(name, Any))
            if supported:
                kwargs[name] = value
    return struct(**kwargs)
