"""Values crossing the engine's boundaries: a lossless encoding for TOML, canonical identities,
secrets in displays and fingerprints. (Typed setup objects: :mod:`cocotui.engine_object`; rows
for ``mutate``: :mod:`cocotui.engine_value`.)"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
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
# Secrets in displays

#: What a secret is shown as.
MASK = "********"
#: A name is secret when its last word is one of these (``password``, ``db_password``,
#: ``adminPassword``, ``client_secret``, ``auth_token``, ``token``)...
_SECRET_WORDS = frozenset(
    {"password", "passwd", "passphrase", "pwd", "secret", "token", "apikey", "credentials"}
)
#: ... or its last two words are one of these (``api_key``, ``secretKey``, ``access-key``).
#: ``key`` alone is not: primary keys, persistent keys and key fields are not secrets.
_SECRET_PAIRS = frozenset(
    {("api", "key"), ("secret", "key"), ("access", "key"), ("private", "key"), ("auth", "key")}
)
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
#: ``scheme://user:password@``: the password of a URL.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/@:]*:)([^\s/@]+)(@)")


def is_secret_name(name: object) -> bool:
    """Whether a field named ``name`` holds a secret, by its last word(s): ``password``,
    ``passwd``, ``secret``, ``token``, ``api_key``, ``secret_key``, ``access_key``... (in any
    case, with ``_``, ``-`` or camelCase between words). ``key``, ``primary_key``,
    ``token_env`` (a variable's name) or ``max_tokens`` are not."""
    if not isinstance(name, str):
        return False
    words = [w.lower() for w in _WORD.findall(name)]
    return bool(words) and (words[-1] in _SECRET_WORDS or tuple(words[-2:]) in _SECRET_PAIRS)


def mask_secrets(value: Any, name: object = None) -> Any:
    """``value`` as it may be displayed or logged: the values of secret-named fields (see
    :func:`is_secret_name`; ``name`` is the field ``value`` belongs to, if any) become
    :data:`MASK`, at any depth of dicts, lists and tuples, and passwords in URLs
    (``postgresql://me:secret@host``) become :data:`MASK` too. Empty secrets (``None``, ``""``)
    are shown as they are. The stored state keeps the real values: connectors need them."""
    if is_secret_name(name) and value is not None and value != "":
        return MASK
    if isinstance(value, str):
        return _URL_PASSWORD.sub(rf"\g<1>{MASK}\g<3>", value) if "://" in value else value
    if isinstance(value, dict):
        return {k: mask_secrets(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    if isinstance(value, tuple):
        return tuple(mask_secrets(v) for v in value)
    return value


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
