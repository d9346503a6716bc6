"""Built-in targets, as CocoIndex v0's ``cocoindex.targets`` (also reachable under its old name
``cocoindex.storages``). Each is a first-party connector package, imported on first use."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# Each target's connector is imported on first use, so that its client library stays an optional
# extra: cocotui[postgres], cocotui[qdrant], cocotui[lancedb], cocotui[chromadb].
_TARGETS = {
    "Postgres": "connectors.v0_postgres",
    "PostgresColumnOptions": "connectors.v0_postgres",
    "Qdrant": "connectors.v0_qdrant",
    "QdrantConnection": "connectors.v0_qdrant",
}


def __getattr__(name: str) -> object:
    if name in ("lancedb", "chromadb"):  # v0's `cocoindex.targets.lancedb` modules
        return importlib.import_module(f"{__name__}.{name}")
    if name not in _TARGETS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_TARGETS[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_TARGETS})


if TYPE_CHECKING:
    from connectors.v0_postgres import Postgres, PostgresColumnOptions
    from connectors.v0_qdrant import Qdrant, QdrantConnection

__all__ = ["Postgres", "PostgresColumnOptions", "Qdrant", "QdrantConnection"]
