"""Built-in targets, as CocoIndex v0's ``cocoindex.targets`` (also reachable under its old name
``cocoindex.storages``). None is built in yet: apps bring their own connectors."""

import importlib

__all__: list[str] = []

# v0's vector database targets, each a first-party connector imported on first use (its client
# library is an optional extra: cocotui[qdrant], cocotui[lancedb], cocotui[chromadb]).
_VECTOR_TARGETS = {
    "Qdrant": "connectors.v0_qdrant",
    "QdrantConnection": "connectors.v0_qdrant",
}


def __getattr__(name: str) -> object:
    if name in ("lancedb", "chromadb"):  # v0's `cocoindex.targets.lancedb` modules
        return importlib.import_module(f"{__name__}.{name}")
    if name not in _VECTOR_TARGETS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_VECTOR_TARGETS[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


__all__ += ["Qdrant", "QdrantConnection"]
