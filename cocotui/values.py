"""Values crossing the engine's boundaries: JSON checks for specs and keys, a lossless encoding
for TOML, canonical identities, fingerprints, and key/value decoding for ``mutate``."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from cocotui.engine_object import dump_engine_object, load_struct


class ValueShapeError(ValueError):
    """A spec, key, state or annotation that the engine cannot carry, naming the culprit."""


# ---------------------------------------------------------------------------------------------
# JSON-serialisable values (spec fields, persistent keys, setup states)

_SCALARS = (str, int, float, bool, type(None))


def check_json(value: Any, where: str) -> None:
    """Raise naming ``where`` (e.g. ``MySpec.path``) if ``value`` is not a JSON-like value."""
    if isinstance(value, _SCALARS):
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            check_json(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for k, item in value.items():
            if not isinstance(k, _SCALARS):
                raise ValueShapeError(
                    f"{where} has a dict key {k!r} of type {type(k).__name__}, "
                    f"which is not JSON-serialisable"
                )
            check_json(item, f"{where}[{k!r}]")
        return
    raise ValueShapeError(
        f"{where} holds a value of type {type(value).__name__} ({value!r:.60}), which is not "
        f"JSON-serialisable; use str, int, float, bool, None, list or dict"
    )


def struct_fields(obj: Any) -> dict[str, Any] | None:
    """The fields of a dataclass instance or NamedTuple, in order, else ``None``."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return dict(zip(obj._fields, obj, strict=True))
    return None


def to_state(obj: Any, where: str) -> Any:
    """A spec or setup-state object as the JSON-like value that is stored and compared (typed
    values such as field schemas and enums in their engine-object form)."""
    fields = struct_fields(obj)
    if fields is None:
        check_json(obj, where)
        return obj
    stored = {name: dump_engine_object(value) for name, value in fields.items()}
    for name, value in stored.items():
        check_json(value, f"{where}.{name}")
    return stored


def from_state(cls: Any, data: Any) -> Any:
    """Rebuild what a connector expects from a stored state: ``cls`` built from a dict by field
    name (unknown keys ignored; fields the stored state lacks get their default, else ``None``),
    or the value itself for ``Any`` and non-struct types."""
    if not isinstance(data, dict) or not isinstance(cls, type):
        return data
    if dataclasses.is_dataclass(cls):
        known = {f.name: f for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        try:
            return load_struct(cls, kwargs)
        except (TypeError, ValueError, KeyError):
            # A field added to the class since this state was stored: still hand the old state
            # over, so roll-forward can proceed, with the missing field set to None.
            obj = object.__new__(cls)
            for name in known:
                object.__setattr__(obj, name, kwargs.get(name))
            return obj
    if issubclass(cls, tuple) and hasattr(cls, "_fields"):
        return load_struct(cls, {name: data.get(name) for name in cls._fields})
    return data


# ---------------------------------------------------------------------------------------------
# Lossless encoding for TOML (no null, string keys only) and canonical identities

_TAG = "$"


def encode(value: Any) -> Any:
    """Encode a JSON-like value for TOML so that :func:`decode` gives it back exactly,
    including ``None``, tuples and dicts with non-string keys."""
    if value is None:
        return {_TAG: "null"}
    if isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, tuple):
        return {_TAG: "tuple", "items": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and _TAG not in value:
            return {k: encode(v) for k, v in value.items()}
        return {_TAG: "dict", "items": [[encode(k), encode(v)] for k, v in value.items()]}
    raise ValueShapeError(f"cannot store a value of type {type(value).__name__}: {value!r:.60}")


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        tag = value.get(_TAG)
        if tag is None:
            return {k: decode(v) for k, v in value.items()}
        if tag == "null":
            return None
        if tag == "tuple":
            return tuple(decode(v) for v in value["items"])
        if tag == "dict":
            return {_hashable(decode(k)): decode(v) for k, v in value["items"]}
        raise ValueShapeError(f"unknown encoded value tag {tag!r}")
    return value


def _hashable(value: Any) -> Any:
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value


def canonical_json(value: Any) -> str:
    """A stable text identity of a JSON-like value: dict key order does not matter (for
    non-string keys either), tuples and lists stay distinct."""

    def normal(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return {_TAG: "float", "repr": repr(v)}
        if isinstance(v, list):
            return [normal(x) for x in v]
        if isinstance(v, dict):
            if v.get(_TAG) == "dict":
                items = [[normal(k), normal(x)] for k, x in v["items"]]
                return {_TAG: "dict", "items": sorted(items, key=json.dumps)}
            return {k: normal(x) for k, x in v.items()}
        return v

    return json.dumps(normal(encode(value)), sort_keys=True, separators=(",", ":"))


def to_plain_json(value: Any) -> Any:
    """A JSON-like value as plain JSON for ``--json`` output (tuples become lists)."""
    if isinstance(value, list | tuple):
        return [to_plain_json(v) for v in value]
    if isinstance(value, dict):
        return {
            (k if isinstance(k, str) else json.dumps(to_plain_json(k))): to_plain_json(v)
            for k, v in value.items()
        }
    return value


# ---------------------------------------------------------------------------------------------
# Fingerprints of collected values


def fingerprint_fields(names: tuple[str, ...], values: Iterable[Any]) -> bytes:
    """A 16-byte fingerprint of a collected row's value fields. Text and bytes are hashed as
    they are (``repr`` of a 4 KB page costs five times more); other values by ``repr``."""
    digest = hashlib.blake2b(repr(names).encode(), digest_size=16)
    for value in values:
        kind = type(value)
        if kind is str:
            data = value.encode("utf-8", "surrogatepass")
            tag = b"s"
        elif kind is bytes:
            data, tag = value, b"b"
        else:
            data = repr(value).encode("utf-8", "surrogatepass")
            tag = b"r"
        digest.update(b"%s%d:" % (tag, len(data)))  # length-prefixed: no ambiguous joins
        digest.update(data)
    return digest.digest()


# ---------------------------------------------------------------------------------------------
# Decoding collected rows for ``mutate`` (DESIGN §2)

KeyDecoder = Callable[[tuple[Any, ...]], Any]
ValueDecoder = Callable[[dict[str, Any]], Any]


def _is_struct_type(tp: Any) -> bool:
    return isinstance(tp, type) and (
        dataclasses.is_dataclass(tp) or (issubclass(tp, tuple) and hasattr(tp, "_fields"))
    )


def _struct_field_defaults(tp: type) -> dict[str, bool]:
    """Field name → whether it has a default."""
    if dataclasses.is_dataclass(tp):
        return {
            f.name: f.default is not dataclasses.MISSING
            or f.default_factory is not dataclasses.MISSING
            for f in dataclasses.fields(tp)
        }
    defaults = getattr(tp, "_field_defaults", {})
    return {name: name in defaults for name in tp._fields}  # type: ignore[attr-defined]


def _is_mapping_type(tp: Any) -> bool:
    origin = typing.get_origin(tp) or tp
    return origin in (dict, Mapping, typing.Mapping)


def _type_name(tp: Any) -> str:
    return getattr(tp, "__qualname__", None) or repr(tp)


def key_decoder(key_type: Any, key_fields: Sequence[str], where: str) -> KeyDecoder:
    """How a target's key parts (in ``primary_key_fields`` order) reach its ``mutate``."""
    fields = tuple(key_fields)
    if _is_struct_type(key_type):
        if getattr(key_type, "__hash__", None) is None:
            # A key is a dict key in ``mutate``: an unhashable one would fail every row.
            raise ValueShapeError(
                f"{where}: key type {_type_name(key_type)} is not hashable; declare it with "
                f"@dataclass(frozen=True) or as a NamedTuple"
            )
        has_default = _struct_field_defaults(key_type)
        for name, defaulted in has_default.items():
            if name not in fields and not defaulted:
                raise ValueShapeError(
                    f"{where}: key type {_type_name(key_type)} has field '{name}', which is not "
                    f"a primary key field ({', '.join(fields)}) and has no default"
                )
        used = [(i, name) for i, name in enumerate(fields) if name in has_default]
        for name in fields:
            if name not in has_default:
                raise ValueShapeError(
                    f"{where}: primary key field '{name}' has no field in key type "
                    f"{_type_name(key_type)}"
                )
        return lambda parts: key_type(**{name: parts[i] for i, name in used})
    if key_type is Any or isinstance(key_type, typing.TypeVar):
        if len(fields) == 1:
            return lambda parts: parts[0]
        return tuple
    if typing.get_origin(key_type) is tuple or key_type is tuple:
        return tuple
    if len(fields) != 1:
        raise ValueShapeError(
            f"{where}: key type {_type_name(key_type)} can only carry a single primary key "
            f"field, but the primary key has {len(fields)}: {', '.join(fields)}; annotate the "
            f"key as a frozen dataclass, a NamedTuple or a tuple"
        )
    if key_type is float:
        return lambda parts: float(parts[0])
    return lambda parts: parts[0]


def value_decoder(value_type: Any, value_fields: Sequence[str], where: str) -> ValueDecoder:
    """How a collected row's value fields reach ``mutate`` (``None`` is always a delete)."""
    if value_type is Any or isinstance(value_type, typing.TypeVar) or _is_mapping_type(value_type):
        return dict
    if not _is_struct_type(value_type):
        raise ValueShapeError(
            f"{where}: value type {_type_name(value_type)} is not supported; use a dataclass, "
            f"a NamedTuple or dict[str, Any]"
        )
    has_default = _struct_field_defaults(value_type)
    collected = set(value_fields)
    for name, defaulted in has_default.items():
        if name not in collected and not defaulted:
            raise ValueShapeError(
                f"{where}: field '{name}' of value type {_type_name(value_type)} is never "
                f"collected and has no default (collected value fields: "
                f"{', '.join(value_fields) or 'none'})"
            )
    names = [name for name in value_fields if name in has_default]
    return lambda values: value_type(**{name: values[name] for name in names})
