"""Target key parts as row tracking stores them: canonical JSON (UTF-8), read back exactly.

The parts are a tuple of the primary key fields' values. JSON carries ``None``, booleans,
numbers, strings, lists and string-keyed dicts as they are; tuples, non-finite floats, bytes,
dates and times, UUIDs, decimals and dicts with other keys are tagged objects (``{"$": ...}``);
struct parts (dataclasses) are stored as the tuple of their field values.
A part of any other type cannot be tracked: its row fails with :class:`KeyCodecError`.

Databases written before this codec hold pickled parts; :func:`decode_parts` still reads them
(a pickle starts with the PROTO opcode, JSON with ``[``), and they are rewritten as JSON when
their row is committed again.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import json
import math
import sys
from json.encoder import encode_basestring
from typing import Any

_TAG = "$"
_PICKLE_PROTO = 0x80


class KeyCodecError(TypeError):
    """A key part of a type tracking cannot store."""


#: Made once: ``json.dumps`` with options builds an encoder per call.
_dumps = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, separators=(",", ":"), sort_keys=True
).encode
#: Types stored as they are (the usual key parts: no walk through :func:`_encode` needed).
_PLAIN = frozenset({str, int, bool, type(None)})


def encode_parts(parts: tuple[Any, ...]) -> bytes:
    if all(type(part) in _PLAIN for part in parts):
        # What ``_dumps`` writes for these, without its per-call set-up (a run encodes one
        # key per row).
        text = "[" + ",".join(map(_plain_text, parts)) + "]"
    else:
        text = _dumps([_encode(part) for part in parts])
    # A str may hold lone surrogates (a file name that is not UTF-8): they are kept.
    return text.encode("utf-8", "surrogatepass")


def _plain_text(part: str | int | bool | None) -> str:
    if type(part) is str:
        return encode_basestring(part)
    if part is None:
        return "null"
    if part is True or part is False:
        return "true" if part else "false"
    return int.__repr__(part)


def decode_parts(stored: bytes) -> tuple[Any, ...]:
    if stored[:1] and stored[0] == _PICKLE_PROTO:
        import pickle  # only databases written before the JSON codec hold pickles

        legacy: tuple[Any, ...] = pickle.loads(stored)  # written by this process's own code
        return legacy
    return tuple(_decode(part) for part in json.loads(stored.decode("utf-8", "surrogatepass")))


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {_TAG: "float", "v": repr(value)}
    if isinstance(value, tuple):
        return {_TAG: "tuple", "v": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and _TAG not in value:
            return {k: _encode(v) for k, v in value.items()}
        return {_TAG: "dict", "v": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # A struct key part: its field values in order, read back as a tuple (what v0 hands
        # an unannotated key; annotated keys are built from it by their decoder).
        return _encode(tuple(getattr(value, f.name) for f in dataclasses.fields(value)))
    return _encode_scalar(value)


def _encode_scalar(value: Any) -> Any:
    # datetime before date: a datetime is a date too.
    if isinstance(value, datetime.datetime):
        return {_TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, datetime.date):
        return {_TAG: "date", "v": value.isoformat()}
    if isinstance(value, datetime.time):
        return {_TAG: "time", "v": value.isoformat()}
    if isinstance(value, datetime.timedelta):
        return {_TAG: "timedelta", "v": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, bytes):
        return {_TAG: "bytes", "v": base64.b64encode(value).decode("ascii")}
    # A UUID or a Decimal exists only once its module was imported (by the app): they are
    # not imported here, where they would cost every run start-up time (~5 ms for decimal).
    uuid = sys.modules.get("uuid")
    if uuid is not None and isinstance(value, uuid.UUID):
        return {_TAG: "uuid", "v": str(value)}
    decimal = sys.modules.get("decimal")
    if decimal is not None and isinstance(value, decimal.Decimal):
        return {_TAG: "decimal", "v": str(value)}
    raise KeyCodecError(
        f"a key part of type {type(value).__qualname__} cannot be tracked ({value!r:.60}); "
        f"use str, int, float, bool, bytes, a date/time, UUID, Decimal or a tuple of them"
    )


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    tag = value.get(_TAG)
    if tag is None:
        return {k: _decode(v) for k, v in value.items()}
    data = value["v"]
    match tag:
        case "tuple":
            return tuple(_decode(v) for v in data)
        case "dict":
            return {_decode(k): _decode(v) for k, v in data}
        case "float":
            return float(data)
        case "datetime":
            return datetime.datetime.fromisoformat(data)
        case "date":
            return datetime.date.fromisoformat(data)
        case "time":
            return datetime.time.fromisoformat(data)
        case "timedelta":
            return datetime.timedelta(days=data[0], seconds=data[1], microseconds=data[2])
        case "bytes":
            return base64.b64decode(data)
        case "uuid":
            import uuid

            return uuid.UUID(data)
        case "decimal":
            import decimal

            return decimal.Decimal(data)
    raise KeyCodecError(f"unknown tag {tag!r} in stored key parts")
