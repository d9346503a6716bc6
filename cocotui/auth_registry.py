"""References to auth entries, shaped as CocoIndex v0's: a spec field typed
``AuthEntryReference[Credentials]`` holds only the entry's key, so secrets stay out of specs and
of the state file. (Registering and resolving entries is not here yet.)"""

from __future__ import annotations

import dataclasses
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclasses.dataclass
class TransientAuthEntryReference(Generic[T]):
    """A reference to an auth entry, by its key."""

    key: str


class AuthEntryReference(TransientAuthEntryReference[T]):
    """A reference to an auth entry whose key is stable across runs."""


def ref_auth_entry(key: str) -> AuthEntryReference[T]:
    """A reference to the auth entry registered under ``key``."""
    return AuthEntryReference(key)


__all__ = ["AuthEntryReference", "TransientAuthEntryReference", "ref_auth_entry"]
