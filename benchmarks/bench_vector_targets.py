"""Rows per second of the vector database targets' ``mutate`` (issue 13's benchmark).

Writes ``--rows`` rows (a key, a ~200-character text and a ``--dim``-dimension float32 vector,
all deterministic) into a fresh local collection or table, ``--batch`` rows per ``mutate`` call
(the engine's ``--batch-rows``), calling the connector's methods directly as the engine calls
them (``get_setup_state``, ``apply_setup_change``, ``prepare``, ``mutate``): the time is that of
the connector and its client library alone. Qdrant runs in qdrant-client's local mode (a
directory); LanceDB and ChromaDB in a local directory too. Prints one line per (target, batch
size): rows/s and seconds, median of ``--runs`` runs.

Usage::

    python benchmarks/bench_vector_targets.py --targets qdrant --batch 100 1000 10000
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cocotui.engine_type import BasicValueType, EnrichedValueType, FieldSchema, VectorTypeSchema
from cocotui.index import IndexOptions, VectorIndexDef, VectorSimilarityMetric


def fields(dim: int, key_kind: str) -> tuple[list[FieldSchema], list[FieldSchema]]:
    vector = VectorTypeSchema(BasicValueType("Float32"), dim)
    return (
        [FieldSchema("id", EnrichedValueType(BasicValueType(key_kind)))],  # type: ignore[arg-type]
        [
            FieldSchema("text", EnrichedValueType(BasicValueType("Str"))),
            FieldSchema("embedding", EnrichedValueType(BasicValueType("Vector", vector=vector))),
        ],
    )


def make_rows(count: int, dim: int, key: Callable[[int], Any]) -> dict[Any, dict[str, Any]]:
    rng = random.Random(13)
    return {
        key(i): {
            "text": f"row {i} " + "lorem ipsum " * 16,
            "embedding": [rng.random() for _ in range(dim)],
        }
        for i in range(count)
    }


def connector_for(target: str, where: Path) -> tuple[Any, Any, str]:
    """(connector class, spec, key field kind)."""
    if target == "qdrant":
        from cocotui_connectors.v0_qdrant import Qdrant, QdrantConnection, QdrantConnector

        spec = Qdrant(collection_name="bench", connection=QdrantConnection(str(where)))
        return QdrantConnector, spec, "Uuid"
    if target == "lancedb":
        from cocotui_connectors.v0_lancedb import LanceDB, LanceDBConnector

        return LanceDBConnector, LanceDB(db_uri=str(where), table_name="bench"), "Str"
    from cocotui_connectors.v0_chromadb import ChromaDB, ChromaDBConnector

    return ChromaDBConnector, ChromaDB(collection_name="bench", path=str(where)), "Str"


def run_once(target: str, rows: int, dim: int, batch: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        connector, spec, key_kind = connector_for(target, Path(tmp) / "db")
        keys, values = fields(dim, key_kind)
        options = IndexOptions(
            ["id"], [VectorIndexDef("embedding", VectorSimilarityMetric.COSINE_SIMILARITY)]
        )
        state = connector.get_setup_state(spec, keys, values, options)
        key = connector.get_persistent_key(spec, "bench")
        connector.apply_setup_change(key, None, state)
        prepared = connector.prepare(spec, state)
        make_key = (lambda i: uuid.UUID(int=i + 1)) if key_kind == "Uuid" else str
        data = list(make_rows(rows, dim, make_key).items())
        start = time.perf_counter()
        for offset in range(0, rows, batch):
            connector.mutate((prepared, dict(data[offset : offset + batch])))
        elapsed = time.perf_counter() - start
        if target == "qdrant":
            from cocotui_connectors.v0_qdrant import close_clients

            close_clients()
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", nargs="+", default=["qdrant"])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--batch", type=int, nargs="+", default=[100, 1000, 10_000])
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    for target in args.targets:
        for batch in args.batch:
            times = [run_once(target, args.rows, args.dim, batch) for _ in range(args.runs)]
            seconds = statistics.median(times)
            print(
                f"{target:8} rows={args.rows} dim={args.dim} batch={batch:6}: "
                f"{args.rows / seconds:9.0f} rows/s ({seconds:.2f} s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
