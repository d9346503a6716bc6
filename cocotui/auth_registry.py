"""Auth entries, as CocoIndex v0's ``cocoindex.auth_registry``: an app registers a credential
(e.g. a :class:`~cocotui.setting.DatabaseConnectionSpec`) under a key and hands targets a
reference to it, so that specs, setup states and persistent keys hold only the key, never the
secret. Entries live in this process only."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclasses.dataclass
class TransientAuthEntryReference(Generic[T]):
    """A reference to an auth entry by its key."""

    key: str


class AuthEntryReference(TransientAuthEntryReference[T]):
    """A reference to an auth entry whose key is stable across runs."""


class AuthEntryNotFoundError(LookupError):
    """No entry was registered under the key a reference names."""


_entries: dict[str, Any] = {}
_transient_keys = itertools.count(1)


def add_auth_entry(key: str, value: T) -> AuthEntryReference[T]:
    """Register ``value`` under ``key`` (replacing an earlier value) and return its reference."""
    _entries[key] = value
    return AuthEntryReference(key)


def add_transient_auth_entry(value: T) -> TransientAuthEntryReference[T]:
    """Register ``value`` under a key made up for this process."""
    key = f"__transient_{next(_transient_keys)}"
    _entries[key] = value
    return TransientAuthEntryReference(key)


def ref_auth_entry(key: str) -> AuthEntryReference[T]:
    """A reference to the entry registered (or to be registered) under ``key``."""
    return AuthEntryReference(key)


def get_auth_entry(cls: type[T], ref: TransientAuthEntryReference[T]) -> T:
    """The entry ``ref`` names; a dict is loaded into ``cls``'s fields."""
    try:
        value = _entries[ref.key]
    except KeyError:
        raise AuthEntryNotFoundError(
            f"no auth entry is registered under key {ref.key!r}; the app must call "
            f"cocoindex.add_auth_entry({ref.key!r}, ...) when it is loaded"
        ) from None
    if isinstance(value, dict) and dataclasses.is_dataclass(cls):
        loaded: T = cls(**value)
        return loaded
    checked: T = value
    return checked


__all__ = [
    "AuthEntryNotFoundError",
    "AuthEntryReference",
    "TransientAuthEntryReference",
    "add_auth_entry",
    "add_transient_auth_entry",
    "get_auth_entry",
    "ref_auth_entry",
]
