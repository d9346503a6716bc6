"""Built-in targets, as CocoIndex v0's ``cocoindex.targets`` (also reachable under its old name
``cocoindex.storages``). Each is a first-party connector package, imported on first use."""

from __future__ import annotations

import importlib
from typing import Any

from cocotui import first_party

# Each target's connector is imported on first use, so that its client library stays an optional
# extra: cocotui[postgres], cocotui[qdrant], cocotui[lancedb], cocotui[chromadb].
_TARGETS = {
    "Postgres": "v0_postgres",
    "PostgresColumnOptions": "v0_postgres",
    "Qdrant": "v0_qdrant",
    "QdrantConnection": "v0_qdrant",
}


# Any, not the classes' types: they live in the first-party package, which is reached by name only
# (cocotui/first_party.py).
def __getattr__(name: str) -> Any:
    if name in ("lancedb", "chromadb"):  # v0's `cocoindex.targets.lancedb` modules
        return importlib.import_module(f"{__name__}.{name}")
    if name not in _TARGETS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(first_party.connector_module(_TARGETS[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_TARGETS})


__all__ = ["Postgres", "PostgresColumnOptions", "Qdrant", "QdrantConnection"]
