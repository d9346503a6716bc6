"""v0's ``cocoindex.targets.lancedb.LanceDB`` through cocotui, on a local LanceDB directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lancedb
import pytest
from connector_helpers import (
    SAMPLE_FILES,
    write_sources,
)
from vector_target_helpers import DIM, basic_field, embedding, make_runner, vector_field
from vector_target_kinds import (
    LANCEDB_IMPORTS,
    lancedb_equals_source,
    lancedb_rows,
    lancedb_spec,
)

from cocotui.index import FtsIndexDef, IndexOptions, VectorIndexDef, VectorSimilarityMetric
from cocotui.op import TargetStateCompatibility
from cocotui.testing import assert_idempotent, assert_unchanged
from cocotui_connectors.v0_lancedb import MIN_ROWS_FOR_VECTOR_INDEX, LanceDB, LanceDBConnector
from cocotui_connectors.v0_lancedb_schema import LanceDBTargetError


def index_names(db: Path, table: str = "docs") -> list[str]:
    return sorted(i.name for i in lancedb.connect(db).open_table(table).list_indices())


def test_lifecycle_through_the_cli(tmp_path: Path) -> None:
    db, docs = tmp_path / "lance", tmp_path / "docs"
    runner = make_runner(tmp_path, SAMPLE_FILES, spec=lancedb_spec(db), imports=LANCEDB_IMPORTS)
    (change,) = runner.plan()["changes"]
    assert (change["action"], change["kind"]) == ("create", "LanceDB")
    assert change["description"] == f"LanceDB table docs@{db}"
    runner.apply()
    assert lancedb_rows(db) == {}
    schema = lancedb.connect(db).open_table("docs").schema
    assert [(f.name, str(f.type)) for f in schema] == [
        ("filename", "string"),
        ("content", "string"),
        ("embedding", f"fixed_size_list<item: float>[{DIM}]"),
    ]
    assert runner.update().ok
    lancedb_equals_source(db, docs)

    assert [c["action"] for c in runner.plan()["changes"]] in ([], ["none"])
    assert runner.update().mutations == 0

    write_sources(docs, {"a.txt": "ALPHA", "b.txt": None})
    assert runner.update().ok
    lancedb_equals_source(db, docs)

    # a spec change (the index metric): the index is replaced, the rows stay
    runner = make_runner(
        tmp_path, {}, spec=lancedb_spec(db), imports=LANCEDB_IMPORTS, metric="L2_DISTANCE"
    )
    (change,) = runner.plan()["changes"]
    assert change["action"] != "create"
    runner.apply()
    lancedb_equals_source(db, docs)
    assert runner.update().mutations == 0

    runner.drop()
    assert lancedb_rows(db) is None


def _state(spec: LanceDB, *, fts: bool = False, extra: bool = False) -> Any:
    values = [basic_field("text"), vector_field("v")] + (
        [basic_field("n", "Int64")] if extra else []
    )
    return LanceDBConnector.get_setup_state(
        spec,
        [basic_field("id")],
        values,
        IndexOptions(
            ["id"],
            [VectorIndexDef("v", VectorSimilarityMetric.COSINE_SIMILARITY)],
            [FtsIndexDef("text")] if fts else [],
        ),
    )


def test_every_method_is_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "lance"
    spec = LanceDB(db_uri=str(db), table_name="t")
    key = LanceDBConnector.get_persistent_key(spec, "t")
    plain, with_fts, wider = _state(spec), _state(spec, fts=True), _state(spec, extra=True)

    def snapshot() -> Any:
        try:
            table = lancedb.connect(db).open_table("t")
        except ValueError:  # no such table
            return None
        found = sorted(table.to_arrow().to_pylist(), key=lambda r: r["id"])
        names = sorted(i.name for i in table.list_indices() if i.name.startswith("__"))
        return [f.name for f in table.schema], names, found

    def mutate(state: Any, changes: dict[Any, Any]) -> None:
        LanceDBConnector.mutate((LanceDBConnector.prepare(spec, state), changes))

    create = lambda: LanceDBConnector.apply_setup_change(key, None, plain)  # noqa: E731
    assert assert_idempotent(create, snapshot, label="create") == (["id", "text", "v"], [], [])
    one = {"a": {"text": "one", "v": embedding("one")}, "b": {"text": "two", "v": embedding("b")}}
    assert_idempotent(lambda: mutate(plain, one), snapshot, label="upsert")
    assert_unchanged(create, snapshot, label="create over the existing table")
    assert_unchanged(lambda: mutate(plain, {"zz": None}), snapshot, label="delete a missing row")
    after = assert_idempotent(lambda: mutate(plain, {"a": None}), snapshot, label="delete a row")
    assert [r["id"] for r in after[2]] == ["b"]

    add_fts = lambda: LanceDBConnector.apply_setup_change(key, plain, with_fts)  # noqa: E731
    assert assert_idempotent(add_fts, snapshot, label="add an FTS index")[1] == ["__text__fts__idx"]
    assert LanceDBConnector.check_state_compatibility(wider, with_fts) is (
        TargetStateCompatibility.NOT_COMPATIBLE
    )
    widen = lambda: LanceDBConnector.apply_setup_change(key, with_fts, wider)  # noqa: E731
    assert assert_idempotent(widen, snapshot, label="new field") == (
        ["id", "text", "v", "n"],
        [],
        [],
    )
    drop = lambda: LanceDBConnector.apply_setup_change(key, wider, None)  # noqa: E731
    assert assert_idempotent(drop, snapshot, label="drop") is None


def test_the_vector_index_is_built_once_the_table_has_rows_to_train_it(tmp_path: Path) -> None:
    db = tmp_path / "lance"
    spec = LanceDB(db_uri=str(db), table_name="t")
    key = LanceDBConnector.get_persistent_key(spec, "t")
    state = _state(spec)
    LanceDBConnector.apply_setup_change(key, None, state)
    prepared = LanceDBConnector.prepare(spec, state)
    LanceDBConnector.mutate((prepared, {"a": {"text": "a", "v": embedding("a")}}))
    assert "__v__cosine__idx" not in index_names(db, "t")
    many = {
        f"k{i}": {"text": str(i), "v": embedding(str(i))} for i in range(MIN_ROWS_FOR_VECTOR_INDEX)
    }
    LanceDBConnector.mutate((prepared, many))
    assert "__v__cosine__idx" in index_names(db, "t")


def test_what_v0_refuses_is_refused() -> None:
    spec = LanceDB(db_uri="x", table_name="t")
    with pytest.raises(LanceDBTargetError, match="single key field"):
        LanceDBConnector.get_setup_state(
            spec, [basic_field("a"), basic_field("b")], [], IndexOptions(["a", "b"])
        )
    with pytest.raises(LanceDBTargetError, match="Invalid identifier"):
        LanceDBConnector.get_setup_state(spec, [basic_field("a b")], [], IndexOptions(["a b"]))


def test_an_unreachable_database_is_a_clear_setup_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    runner = make_runner(
        tmp_path, SAMPLE_FILES, spec=lancedb_spec(blocker / "lance"), imports=LANCEDB_IMPORTS
    )
    result = runner.command("apply", "--yes")
    assert result.returncode != 0
    assert "LanceDB" in result.stderr or str(blocker) in result.stderr, result.stderr
    assert runner.plan()["changes"][0]["action"] == "create"
