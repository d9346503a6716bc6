"""v0's ``cocoindex.targets.chromadb.ChromaDB`` through cocotui, on a local persistent client
(a directory, no server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from connector_helpers import (
    SAMPLE_FILES,
    write_sources,
)
from vector_target_helpers import basic_field, embedding, make_runner, vector_field
from vector_target_kinds import (
    CHROMADB_IMPORTS,
    chromadb_client,
    chromadb_equals_source,
    chromadb_records,
    chromadb_spec,
)

from cocotui.index import IndexOptions, VectorIndexDef, VectorSimilarityMetric
from cocotui.op import TargetStateCompatibility
from cocotui.testing import assert_idempotent, assert_unchanged
from cocotui_connectors.v0_chromadb import ChromaDB, ChromaDBConnector, ChromaDBTargetError


def space(db: Path, name: str = "docs") -> str:
    metadata = chromadb_client(db).get_collection(name).metadata
    return str((metadata or {}).get("hnsw:space"))


def test_lifecycle_through_the_cli(tmp_path: Path) -> None:
    db, docs = tmp_path / "chroma", tmp_path / "docs"
    runner = make_runner(tmp_path, SAMPLE_FILES, spec=chromadb_spec(db), imports=CHROMADB_IMPORTS)
    (change,) = runner.plan()["changes"]
    assert (change["action"], change["kind"]) == ("create", "ChromaDB")
    assert change["description"] == f"ChromaDB collection docs@{db}"
    runner.apply()
    assert chromadb_records(db) == {}
    assert space(db) == "cosine"
    assert runner.update().ok
    chromadb_equals_source(db, docs)

    assert [c["action"] for c in runner.plan()["changes"]] in ([], ["none"])
    assert runner.update().mutations == 0

    write_sources(docs, {"a.txt": "ALPHA", "b.txt": None})
    assert runner.update().ok
    chromadb_equals_source(db, docs)

    # a spec change (the metric): the collection is created again, every row re-exported
    runner = make_runner(
        tmp_path, {}, spec=chromadb_spec(db), imports=CHROMADB_IMPORTS, metric="L2_DISTANCE"
    )
    (change,) = runner.plan()["changes"]
    assert change["action"] != "create"
    runner.apply()
    assert space(db) == "l2"
    assert runner.update().ok
    chromadb_equals_source(db, docs)

    runner.drop()
    assert chromadb_records(db) is None


def _state(spec: ChromaDB, metric: VectorSimilarityMetric, extra: bool = False) -> Any:
    values = [basic_field("text"), vector_field("v")] + (
        [basic_field("n", "Int64")] if extra else []
    )
    return ChromaDBConnector.get_setup_state(
        spec, [basic_field("id")], values, IndexOptions(["id"], [VectorIndexDef("v", metric)])
    )


def test_every_method_is_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "chroma"
    spec = ChromaDB(collection_name="tab", path=str(db))
    key = ChromaDBConnector.get_persistent_key(spec, "tab")
    cosine = _state(spec, VectorSimilarityMetric.COSINE_SIMILARITY)
    l2 = _state(spec, VectorSimilarityMetric.L2_DISTANCE)

    def snapshot() -> Any:
        found = chromadb_records(db, "tab")
        return None if found is None else (space(db, "tab"), found)

    def mutate(state: Any, changes: dict[Any, Any]) -> None:
        ChromaDBConnector.mutate((ChromaDBConnector.prepare(spec, state), changes))

    create = lambda: ChromaDBConnector.apply_setup_change(key, None, cosine)  # noqa: E731
    assert assert_idempotent(create, snapshot, label="create") == ("cosine", {})
    rows = {"a": {"text": "one", "v": embedding("one")}, "b": {"text": "two", "v": embedding("b")}}
    assert_idempotent(lambda: mutate(cosine, rows), snapshot, label="upsert")
    assert_unchanged(create, snapshot, label="create over the existing collection")
    assert_unchanged(lambda: mutate(cosine, {"zz": None}), snapshot, label="delete a missing row")
    after = assert_idempotent(lambda: mutate(cosine, {"a": None}), snapshot, label="delete a row")
    assert list(after[1]) == ["b"]
    assert ChromaDBConnector.check_state_compatibility(l2, cosine) is (
        TargetStateCompatibility.NOT_COMPATIBLE
    )
    wider = _state(spec, VectorSimilarityMetric.COSINE_SIMILARITY, extra=True)
    assert ChromaDBConnector.check_state_compatibility(wider, cosine) is (
        TargetStateCompatibility.PARTIALLY_COMPATIBLE
    )
    change = lambda: ChromaDBConnector.apply_setup_change(key, cosine, l2)  # noqa: E731
    assert assert_idempotent(change, snapshot, label="change the metric") == ("l2", {})
    drop = lambda: ChromaDBConnector.apply_setup_change(key, l2, None)  # noqa: E731
    assert assert_idempotent(drop, snapshot, label="drop") is None


def test_what_v0_refuses_is_refused() -> None:
    spec = ChromaDB(collection_name="tab")
    key, text = [basic_field("id")], basic_field("text")
    for values, message in [
        ([text], "requires a vector field"),
        ([vector_field("a"), vector_field("b")], "single vector field"),
    ]:
        with pytest.raises(ChromaDBTargetError, match=message):
            ChromaDBConnector.get_setup_state(spec, key, values, IndexOptions(["id"]))


def test_a_server_that_is_down_is_a_clear_setup_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    spec = (
        "cocoindex.targets.chromadb.ChromaDB(collection_name='docs', "
        f"client_type=cocoindex.targets.chromadb.ClientType.HTTP, host='127.0.0.1', port={port})"
    )
    runner = make_runner(tmp_path, SAMPLE_FILES, spec=spec, imports=CHROMADB_IMPORTS)
    result = runner.command("apply", "--yes")
    assert result.returncode != 0
    assert f"ChromaDB at 127.0.0.1:{port}" in result.stderr, result.stderr
    assert runner.plan()["changes"][0]["action"] == "create"
