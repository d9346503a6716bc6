"""Benchmark of the built-in v0 targets' data path: N rows with a D-dimension vector written
through the connector's ``prepare`` and ``mutate``, as ``cocotui update`` calls them, for several
``mutate`` batch sizes (``cocotui update --batch-rows`` sets that size).

For ``targets.Postgres`` (PostgreSQL with pgvector, the URL in ``--url`` or
``COCOTUI_TEST_PGVECTOR_URL``), each batch size starts from a new table laid out as v0's
``text_embedding`` example lays it (``id`` key, ``text``, ``embedding vector(D)``) and measures,
in wall-clock seconds and rows per second:

* ``insert+hnsw``: every row inserted while the HNSW cosine index exists (v0's default layout);
* ``upsert+hnsw``: every row written again with new vectors;
* ``insert``: every row inserted without a vector index (what an index costs);
* ``delete``: every row deleted.

Usage::

    python benchmarks/bench_targets.py --rows 10000 --dim 384 --batch-sizes 100 1000 10000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from cocotui.auth_registry import add_auth_entry
from cocotui.engine_type import (
    BasicValueType,
    EnrichedValueType,
    FieldSchema,
    VectorTypeSchema,
    basic,
)
from cocotui.index import IndexOptions, VectorIndexDef, VectorSimilarityMetric
from cocotui.setting import DatabaseConnectionSpec
from cocotui_connectors.v0_postgres import Postgres, PostgresConnector


def _vector_field(dim: int) -> FieldSchema:
    vector = VectorTypeSchema(BasicValueType("Float32"), dim)
    return FieldSchema("embedding", EnrichedValueType(BasicValueType("Vector", vector=vector)))


def _batches(rows: dict[int, Any], size: int) -> Iterator[dict[int, Any]]:
    keys = list(rows)
    for start in range(0, len(keys), size):
        yield {k: rows[k] for k in keys[start : start + size]}


class PostgresBench:
    """``targets.Postgres`` on one table, created and dropped around each measurement."""

    def __init__(self, url: str, dim: int) -> None:
        self.spec = Postgres(
            database=add_auth_entry("bench", DatabaseConnectionSpec(url)),
            table_name="bench_targets",
        )
        self.key = PostgresConnector.get_persistent_key(self.spec, "bench")
        self.keys = [FieldSchema("id", basic("Int64"))]
        self.values = [FieldSchema("text", basic("Str")), _vector_field(dim)]

    def _state(self, indexed: bool) -> Any:
        indexes = (
            [VectorIndexDef("embedding", VectorSimilarityMetric.COSINE_SIMILARITY)]
            if indexed
            else []
        )
        return PostgresConnector.get_setup_state(
            self.spec, self.keys, self.values, IndexOptions(["id"], indexes)
        )

    def run(self, indexed: bool, phases: list[tuple[str, dict[int, Any]]], batch: int) -> None:
        state = self._state(indexed)
        PostgresConnector.apply_setup_change(self.key, None, state)
        try:
            prepared = PostgresConnector.prepare(self.spec, state, [], [], self.key)
            for name, rows in phases:
                started = time.perf_counter()
                for chunk in _batches(rows, batch):
                    PostgresConnector.mutate((prepared, chunk))
                _report(name, batch, len(rows), time.perf_counter() - started)
        finally:
            PostgresConnector.apply_setup_change(self.key, state, None)


def _report(phase: str, batch: int, rows: int, seconds: float) -> None:
    print(f"| {phase:<12} | {batch:>6} | {rows:>6} | {seconds:8.2f} | {rows / seconds:9.0f} |")


def _rows(count: int, dim: int, seed: int) -> dict[int, Any]:
    vectors = np.random.default_rng(seed).random((count, dim), dtype=np.float32)
    return {i: {"text": f"row {i}", "embedding": vectors[i].tolist()} for i in range(count)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("COCOTUI_TEST_PGVECTOR_URL"))
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[100, 1000, 10_000])
    args = parser.parse_args(argv)
    if not args.url:
        parser.error("give --url or set COCOTUI_TEST_PGVECTOR_URL (PostgreSQL with pgvector)")
    bench = PostgresBench(args.url, args.dim)
    first, second = _rows(args.rows, args.dim, 1), _rows(args.rows, args.dim, 2)
    deletes: dict[int, Any] = dict.fromkeys(first)
    print(f"targets.Postgres: {args.rows} rows, vector({args.dim})\n")
    print("| phase        |  batch |   rows |  seconds |    rows/s |")
    print("|--------------|-------:|-------:|---------:|----------:|")
    runs: list[Callable[[int], None]] = [
        lambda b: bench.run(True, [("insert+hnsw", first), ("upsert+hnsw", second)], b),
        lambda b: bench.run(False, [("insert", first), ("delete", deletes)], b),
    ]
    for batch in args.batch_sizes:
        for run in runs:
            run(batch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
