"""The vector database targets the conformance suite (``test_vector_target_conformance.py``)
runs over, each on its local, serverless store: how an app names it and how a test reads back
what it holds. The per-target test files read their stores with the same functions."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import chromadb
import lancedb
import pytest
from qdrant_client import QdrantClient
from vector_target_helpers import embedding, expected, make_runner

from cocotui.testing import AppRunner


def assert_embedded_source(found: dict[str, tuple[str, Any]], docs: Path) -> None:
    """``found`` (filename -> its text and vector, as a store holds them) is exactly the source's
    files, each with its text's embedding."""
    assert {name: text for name, (text, _) in found.items()} == expected(docs)
    for text, vector in found.values():
        assert vector == pytest.approx(embedding(text), abs=1e-6)


# -- ChromaDB ---------------------------------------------------------------------------------

CHROMADB_IMPORTS = "import cocoindex.targets.chromadb"


def chromadb_spec(db: Path, name: str = "docs") -> str:
    return (
        f"cocoindex.targets.chromadb.ChromaDB(collection_name={name!r}, path={str(db)!r}, "
        f"document_field='content')"
    )


def chromadb_client(db: Path) -> Any:
    """A client that reads what the CLI wrote: chromadb shares one system per path within a
    process, which keeps what it read before."""
    chromadb.api.client.SharedSystemClient.clear_system_cache()
    return chromadb.PersistentClient(path=str(db))


def chromadb_records(db: Path, name: str = "docs") -> dict[str, dict[str, Any]] | None:
    """id -> document, metadata and embedding, or ``None`` without the collection."""
    client = chromadb_client(db)
    try:
        collection = client.get_collection(name)
    except Exception:  # chromadb raises its NotFoundError (a ValueError in older versions)
        return None
    if collection.count() == 0:
        return {}  # (reading an empty collection's vectors fails: none are on disk yet)
    found = collection.get(include=["documents", "metadatas", "embeddings"])
    return {
        ident: {"document": doc, "metadata": meta, "embedding": [float(x) for x in emb]}
        for ident, doc, meta, emb in zip(
            found["ids"], found["documents"], found["metadatas"], found["embeddings"], strict=True
        )
    }


def chromadb_equals_source(db: Path, docs: Path) -> None:
    found = chromadb_records(db)
    assert found is not None
    assert_embedded_source({i: (r["document"], r["embedding"]) for i, r in found.items()}, docs)


def chromadb_nearest(db: Path, vector: list[float]) -> str:
    found = chromadb_client(db).get_collection("docs").query(query_embeddings=[vector], n_results=1)
    ((name,),) = found["ids"]
    return str(name)


# -- LanceDB ----------------------------------------------------------------------------------

LANCEDB_IMPORTS = "import cocoindex.targets.lancedb"


def lancedb_spec(db: Path, table: str = "docs") -> str:
    return f"cocoindex.targets.lancedb.LanceDB(db_uri={str(db)!r}, table_name={table!r})"


def lancedb_rows(db: Path, table: str = "docs") -> dict[str, dict[str, Any]] | None:
    """filename -> the other columns, or ``None`` without the table."""
    try:
        found = lancedb.connect(db).open_table(table).to_arrow().to_pylist()
    except ValueError:  # no such table
        return None
    return {r.pop("filename"): r for r in found}


def lancedb_equals_source(db: Path, docs: Path) -> None:
    found = lancedb_rows(db)
    assert found is not None
    assert_embedded_source({n: (r["content"], r["embedding"]) for n, r in found.items()}, docs)


def lancedb_nearest(db: Path, vector: list[float]) -> str:
    table = lancedb.connect(db).open_table("docs")
    (hit,) = table.search(vector).distance_type("cosine").limit(1).to_list()
    return str(hit["filename"])


# -- Qdrant -----------------------------------------------------------------------------------

QDRANT_COLLECTION = "docs"


def qdrant_spec(url: str, collection: str = QDRANT_COLLECTION) -> str:
    return (
        f"cocoindex.targets.Qdrant(collection_name={collection!r}, "
        f"connection=cocoindex.targets.QdrantConnection(grpc_url={url!r}))"
    )


def qdrant_client(url: str) -> QdrantClient:
    if url.startswith("http"):
        return QdrantClient(url=url, prefer_grpc=True, check_compatibility=False)
    return QdrantClient(path=url)


def qdrant_points(url: str, collection: str = QDRANT_COLLECTION) -> dict[str, Any] | None:
    """filename -> {content, id, v} of every point, or ``None`` without the collection. The
    client is closed again: local mode allows one client per directory (the CLI's)."""
    client = qdrant_client(url)
    try:
        if not client.collection_exists(collection):
            return None
        found, _ = client.scroll(collection, limit=1000, with_vectors=True)
        return {
            p.payload["filename"]: {"content": p.payload["content"], "id": p.id, "v": p.vector}
            for p in found
            if p.payload is not None
        }
    finally:
        client.close()


def qdrant_equals_source(url: str, docs: Path) -> None:
    found = qdrant_points(url)
    assert found is not None
    assert_embedded_source(
        {name: (p["content"], p["v"]["embedding"]) for name, p in found.items()}, docs
    )
    for p in found.values():
        uuid.UUID(str(p["id"]))  # keyed by the generated UUID, as v0 keys them


def qdrant_nearest(url: str, vector: list[float]) -> str:
    client = qdrant_client(url)
    try:
        (hit,) = client.query_points(
            QDRANT_COLLECTION, query=vector, using="embedding", limit=1
        ).points
        assert hit.payload is not None
        return str(hit.payload["filename"])
    finally:
        client.close()


# -- the conformance suite's view of them ----------------------------------------------------


@dataclasses.dataclass(frozen=True)
class VectorTargetKind:
    """One vector target on a local store at ``tmp_path / store``."""

    name: str
    store: str
    spec: Callable[[Path], str]
    #: the app's options (see :func:`vector_target_helpers.write_app`) beside its spec
    app: dict[str, Any]
    #: what the store holds (``None`` without the collection or table)
    stored: Callable[[Path], Any]
    #: asserts the store holds exactly the source's files, embedded
    assert_equals_source: Callable[[Path, Path], None]
    #: the filename of the row nearest to a vector
    nearest: Callable[[Path, list[float]], str]
    #: whether a row error names its source row (Qdrant's keys are generated UUIDs)
    error_names_row: bool = True

    def runner(self, tmp_path: Path, files: dict[str, str | None], **app: Any) -> AppRunner:
        spec = self.spec(tmp_path / self.store)
        return make_runner(tmp_path, files, spec=spec, **self.app, **app)


KINDS = [
    VectorTargetKind(
        "chromadb",
        "chroma",
        chromadb_spec,
        {"imports": CHROMADB_IMPORTS},
        chromadb_records,
        chromadb_equals_source,
        chromadb_nearest,
    ),
    VectorTargetKind(
        "lancedb",
        "lance",
        lancedb_spec,
        {"imports": LANCEDB_IMPORTS},
        lancedb_rows,
        lancedb_equals_source,
        lancedb_nearest,
    ),
    VectorTargetKind(
        "qdrant",
        "qdrant",
        lambda path: qdrant_spec(str(path)),
        {"uuid_key": True},
        lambda path: qdrant_points(str(path)),
        lambda path, docs: qdrant_equals_source(str(path), docs),
        lambda path, vector: qdrant_nearest(str(path), vector),
        error_names_row=False,
    ),
]
