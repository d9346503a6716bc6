"""Values crossing the engine's boundaries: a lossless encoding for TOML, canonical identities
and fingerprints. (Typed setup objects: :mod:`cocotui.engine_object`; rows
for ``mutate``: :mod:`cocotui.engine_value`.)"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Iterable
from typing import Any


class ValueShapeError(ValueError):
    """A spec, key, state or annotation that the engine cannot carry, naming the culprit."""


def struct_fields(obj: Any) -> dict[str, Any] | None:
    """The fields of a dataclass instance or NamedTuple, in order, else ``None``."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return dict(zip(obj._fields, obj, strict=True))
    return None


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
