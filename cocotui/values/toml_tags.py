"""A lossless encoding of JSON-like values for TOML, which has no null and only string keys:
what TOML cannot say is written as a small dict tagged ``"$"``."""

from __future__ import annotations

from typing import Any

from cocotui.values.shapes import ValueShapeError

#: The key of a tagged dict; a plain dict holding it is tagged itself, so it decodes back.
TAG = "$"


def encode(value: Any) -> Any:
    """Encode a JSON-like value for TOML so that :func:`decode` gives it back exactly,
    including ``None``, tuples and dicts with non-string keys."""
    if value is None:
        return {TAG: "null"}
    if isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, tuple):
        return {TAG: "tuple", "items": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and TAG not in value:
            return {k: encode(v) for k, v in value.items()}
        return {TAG: "dict", "items": [[encode(k), encode(v)] for k, v in value.items()]}
    raise ValueShapeError(f"cannot store a value of type {type(value).__name__}: {value!r:.60}")


def decode(value: Any) -> Any:
    """The value :func:`encode` was given."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        tag = value.get(TAG)
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
