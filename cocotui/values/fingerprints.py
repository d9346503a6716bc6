"""Fingerprints of collected values: a changed fingerprint is what makes a row an upsert."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from typing import Any


@functools.lru_cache(maxsize=256)
def _names_digest(names: tuple[str, ...]) -> hashlib.blake2b:
    """The hash of the field names a fingerprint starts with (a run hashes the same few
    names for every row: copied, not recomputed)."""
    return hashlib.blake2b(repr(names).encode(), digest_size=16)


def fingerprint_fields(names: tuple[str, ...], values: Iterable[Any]) -> bytes:
    """A 16-byte fingerprint of a collected row's value fields. Text and bytes are hashed as
    they are (``repr`` of a 4 KB page costs five times more); other values by ``repr``."""
    digest = _names_digest(names).copy()
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
