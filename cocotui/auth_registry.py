"""References to auth entries, as CocoIndex v0's ``cocoindex.auth_registry``. Only the
reference type is here so far: connectors may declare fields of this type."""

from __future__ import annotations

import dataclasses
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclasses.dataclass
class TransientAuthEntryReference(Generic[T]):
    """A reference to an auth entry by its key."""

    key: str


class AuthEntryReference(TransientAuthEntryReference[T]):
    """A reference to an auth entry whose key is stable across runs."""


__all__ = ["AuthEntryReference", "TransientAuthEntryReference"]
