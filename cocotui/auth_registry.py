"""The auth registry, as CocoIndex v0's ``cocoindex.auth_registry``: secrets (API keys,
connection specs) are registered in memory under a key, and specs hold only a reference to the
key. The setup state a target's spec is stored in therefore holds the reference, never the
secret; connectors resolve a reference with :func:`get_auth_entry` when they need the value.

``add_auth_entry(key, value)`` names the entry with a key stable across runs (the key is what
the state records). ``add_transient_auth_entry(value)`` names it by a salted digest of the
value, as v0 does. Entries live only in this process: nothing here writes to disk."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import threading
from collections.abc import Mapping
from typing import Any, Generic, TypeVar, cast

from cocotui.values.identity import canonical_json

T = TypeVar("T")

#: Keys of transient entries start with this (so they cannot collide with chosen keys).
TRANSIENT_PREFIX = "__transient_"


@dataclasses.dataclass
class TransientAuthEntryReference(Generic[T]):
    """A reference to an auth entry, by its key."""

    key: str


class AuthEntryReference(TransientAuthEntryReference[T]):
    """A reference to an auth entry whose key is stable across runs."""


class AuthEntryError(KeyError):
    """An auth entry that is missing or registered twice with different values."""

    def __str__(self) -> str:
        return str(self.args[0])


_entries: dict[str, Any] = {}
_lock = threading.Lock()


def add_auth_entry(key: str, value: T) -> AuthEntryReference[T]:
    """Register ``value`` under ``key``. Registering the same value again is allowed (an app
    module imported again re-runs its registrations); another value under a key is an error,
    as in v0."""
    with _lock:
        if key in _entries and _fingerprint(_entries[key]) != _fingerprint(value):
            raise AuthEntryError(f"auth entry {key!r} already exists with another value")
        _entries[key] = value
    return AuthEntryReference(key)


def add_transient_auth_entry(value: T) -> TransientAuthEntryReference[T]:
    """Register ``value`` under a key derived from it (salted, so the key does not reveal a
    value that is not guessable)."""
    key = TRANSIENT_PREFIX + _fingerprint(value)
    with _lock:
        _entries.setdefault(key, value)
    return TransientAuthEntryReference(key)


def ref_auth_entry(key: str) -> AuthEntryReference[T]:
    """A reference to the entry ``key`` (registered before use, here or elsewhere)."""
    return AuthEntryReference(key)


def get_auth_entry(cls: type[T], ref: TransientAuthEntryReference[T]) -> T:
    """The value ``ref`` refers to. A dataclass ``cls`` registered as a mapping is built from
    it (v0 stores entries as JSON and loads them as ``cls``)."""
    with _lock:
        if ref.key not in _entries:
            raise AuthEntryError(
                f"auth entry {ref.key!r} is not registered: call "
                f"cocoindex.add_auth_entry({ref.key!r}, ...) before the flow uses it (a target "
                f"set up earlier with this reference needs it too, to be updated or dropped)"
            )
        value = _entries[ref.key]
    if dataclasses.is_dataclass(cls) and isinstance(value, Mapping):
        return cast(T, cls(**value))
    return cast(T, value)


def _fingerprint(value: Any) -> str:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    try:
        text = canonical_json(value)
    except (TypeError, ValueError):
        text = repr(value)  # not JSON-like: its repr stands for it
    digest = hashlib.blake2b(text.encode(), digest_size=16, person=b"cocotui_auth").digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


__all__ = [
    "AuthEntryError",
    "AuthEntryReference",
    "TransientAuthEntryReference",
    "add_auth_entry",
    "add_transient_auth_entry",
    "get_auth_entry",
    "ref_auth_entry",
]
