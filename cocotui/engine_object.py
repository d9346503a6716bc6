"""Setup objects (specs, persistent keys, setup states) to and from the JSON-like form the state
file stores and the plan compares, as CocoIndex v0 dumps and loads them.

:func:`dump` turns dataclasses and NamedTuples (at any depth) into dicts of their fields, enums
into their values and ``timedelta`` into ``{"secs", "nanos"}``; :func:`load` rebuilds the declared
type from its annotations: nested structs, enums, lists, dicts, optional fields, unions told
apart by their ``kind`` (as v0's ``VectorIndexMethod``), generic structs such as
``AuthEntryReference[T]``. Anything ``load`` has no type for is handed back as stored.
"""

from __future__ import annotations

import datetime
import enum
import typing
from collections.abc import Mapping
from typing import Any

from cocotui.annotations import (
    is_any,
    is_ndarray,
    mapping_types,
    ndarray_dtype,
    sequence_element,
    split_optional,
    struct_class,
    struct_type_fields,
    struct_type_hints,
    union_variants,
)
from cocotui.engine_type import EnrichedValueType, FieldSchema
from cocotui.values.shapes import ValueShapeError, struct_fields

_SCALARS = (str, int, float, bool)
#: Types stored in v0's own JSON form for value types (``{"kind": ...}``), not field by field.
_TYPE_OBJECTS = (EnrichedValueType, FieldSchema)
_MISSING = object()
_MICROSECOND = datetime.timedelta(microseconds=1)


# ---------------------------------------------------------------------------------------------
# dump


def dump(value: Any, where: str) -> Any:
    """``value`` as a JSON-like value (tuples stay tuples), or :class:`ValueShapeError` naming
    ``where`` (e.g. ``MySpec.options.mode``) for a part that cannot be stored."""
    if value is None or (isinstance(value, _SCALARS) and not isinstance(value, enum.Enum)):
        return value
    if isinstance(value, enum.Enum):
        return dump(value.value, where)
    if isinstance(value, list):
        return [dump(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, _TYPE_OBJECTS):
        return value.encode()  # v0's type JSON
    fields = struct_fields(value)
    if fields is not None:
        return _dump_struct(value, fields, where)
    if isinstance(value, tuple):
        return tuple(dump(item, f"{where}[{i}]") for i, item in enumerate(value))
    if isinstance(value, dict):
        return {_dump_key(k, where): dump(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, datetime.timedelta):
        seconds = int(value.total_seconds())
        micros = (value - datetime.timedelta(seconds=seconds)) // _MICROSECOND
        return {"secs": seconds, "nanos": micros * 1000}
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return dump(value.tolist(), where)  # an array or a numpy scalar
    if _is_attribute_class(type(value)):
        names = _declared_attributes(type(value))
        return {k: dump(getattr(value, k, None), f"{where}.{k}") for k in names}
    raise ValueShapeError(
        f"{where} holds a value of type {type(value).__name__} ({value!r:.60}), which is not "
        f"JSON-serialisable; use str, int, float, bool, None, list, dict, an enum, a dataclass "
        f"or a NamedTuple"
    )


def _dump_struct(value: Any, fields: dict[str, Any], where: str) -> dict[str, Any]:
    result = {name: dump(v, f"{where}.{name}") for name, v in fields.items()}
    # A class-level ``kind`` tells the variants of a union apart when loading (v0 does this).
    kind = getattr(type(value), "kind", None)
    if "kind" not in result and isinstance(kind, str):
        result["kind"] = kind
    return result


def _dump_key(key: Any, where: str) -> Any:
    if isinstance(key, enum.Enum):
        key = key.value
    if key is None or isinstance(key, _SCALARS):
        return key
    raise ValueShapeError(
        f"{where} has a dict key {key!r} of type {type(key).__name__}, which is not "
        f"JSON-serialisable"
    )


# ---------------------------------------------------------------------------------------------
# load


def load(tp: Any, data: Any) -> Any:
    """Rebuild a value of type ``tp`` from what :func:`dump` made of it. Struct fields the
    stored value lacks get their default, or ``None`` / ``[]`` / ``{}`` for optional, list and
    dict fields, else ``None`` (a field added since the state was stored: roll-forward must
    still be able to hand the old state over); unknown stored fields are ignored."""
    if data is None:
        return None
    tp, _ = split_optional(tp)
    if is_any(tp):
        return data
    if tp in _TYPE_OBJECTS and isinstance(data, Mapping):
        return tp.decode(data)
    variants = union_variants(tp)
    if variants is not None:
        return _load_union(variants, data)
    cls = struct_class(tp)
    if cls is not None:
        return _load_struct(cls, data)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(data)
    if tp is datetime.timedelta and isinstance(data, Mapping) and "secs" in data:
        return datetime.timedelta(seconds=data["secs"], microseconds=data["nanos"] / 1000)
    if _is_attribute_class(tp) and isinstance(data, Mapping):
        return _load_attributes(tp, data)
    return _load_container(tp, data)


def _load_container(tp: Any, data: Any) -> Any:
    if is_ndarray(tp) and isinstance(data, list | tuple):
        import numpy  # only connectors that ask for arrays need numpy

        return numpy.asarray(data, dtype=ndarray_dtype(tp))
    element = sequence_element(tp)
    if element is not None and isinstance(data, list | tuple):
        return [load(element, item) for item in data]
    if typing.get_origin(tp) is tuple and isinstance(data, list | tuple):
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(load(args[0], item) for item in data)
        if len(args) == len(data):
            return tuple(load(t, item) for t, item in zip(args, data, strict=True))
        return tuple(data)
    kv = mapping_types(tp)
    if kv is not None and isinstance(data, Mapping):
        return {load(kv[0], k): load(kv[1], v) for k, v in data.items()}
    return data


def _is_attribute_class(cls: Any) -> bool:
    """A plain class declaring annotated attributes, made without arguments (as LanceDB's
    ``DatabaseOptions``): v0 stores its instances' attributes too."""
    return (
        isinstance(cls, type)
        and cls.__module__ != "builtins"
        and not issubclass(cls, type)
        and all("__init__" not in vars(b) and "__new__" not in vars(b) for b in cls.__mro__[:-1])
        and any("__dict__" in vars(base) for base in cls.__mro__[:-1])  # instances have one
        and bool(_declared_attributes(cls))
    )


def _declared_attributes(cls: type) -> list[str]:
    return [name for name in struct_type_hints(cls) if not name.startswith("_")]


def _load_attributes(cls: type, data: Mapping[str, Any]) -> Any:
    obj = cls()
    hints = struct_type_hints(cls)
    for name in _declared_attributes(cls):
        if name in data:
            setattr(obj, name, load(hints[name], data[name]))
    return obj


def _load_struct(cls: type, data: Any) -> Any:
    fields = struct_type_fields(cls)
    if isinstance(data, list | tuple) and issubclass(cls, tuple):
        # A NamedTuple stored positionally (as states written before typed states were).
        data = dict(zip((f.name for f in fields), data, strict=False))
    if not isinstance(data, Mapping):
        return data
    kwargs: dict[str, Any] = {}
    for field in fields:
        if field.name in data:
            kwargs[field.name] = load(field.hint, data[field.name])
        elif not field.has_default:
            kwargs[field.name] = _auto_default(field.hint)
    return cls(**kwargs)


def _auto_default(hint: Any) -> Any:
    core, nullable = split_optional(hint)
    if not nullable and sequence_element(core) is not None:
        return []
    if not nullable and mapping_types(core) is not None:
        return {}
    return None


def _load_union(variants: tuple[Any, ...], data: Any) -> Any:
    if isinstance(data, Mapping) and "kind" in data:
        for variant in variants:
            cls = struct_class(variant)
            if cls is not None and _has_kind(cls, data["kind"]):
                return _load_struct(cls, data)
    for variant in variants:
        if _fits(variant, data):
            return load(variant, data)
    for variant in variants:
        try:
            return load(variant, data)
        except (TypeError, ValueError):
            continue
    return data


def _has_kind(cls: type, kind: Any) -> bool:
    """Whether ``cls`` is the variant for discriminator ``kind``: its class-level ``kind``
    (a default) or the ``Literal`` its ``kind`` field is annotated with."""
    if getattr(cls, "kind", _MISSING) == kind:
        return True
    hint = next((f.hint for f in struct_type_fields(cls) if f.name == "kind"), None)
    return typing.get_origin(hint) is typing.Literal and kind in typing.get_args(hint)


def _fits(tp: Any, data: Any) -> bool:
    """Whether ``data`` is plainly a stored ``tp``: the same basic type, or a dict with every
    required field of a struct and no other key."""
    cls = struct_class(tp)
    if cls is not None:
        if not isinstance(data, Mapping):
            return False
        fields = struct_type_fields(cls)
        names = {f.name for f in fields} | {"kind"}
        required = {f.name for f in fields if not f.has_default}
        return required <= data.keys() <= names
    origin = typing.get_origin(tp) or tp
    return isinstance(origin, type) and isinstance(data, origin)


__all__ = ["dump", "load"]
