"""The SQLite table connector: its lifecycle through the CLI, idempotency of every method,
roll-forward after a SIGKILL inside ``mutate``, value storage and identifier quoting."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from connector_helpers import (
    SAMPLE_FILES,
    assert_rolls_forward,
    expected_rows,
    update_killed_inside_mutate,
    write_app,
    write_sources,
)

from cocotui.op import TargetStateCompatibility
from cocotui.testing import (
    AppRunner,
    ConnectorHarness,
    IdempotencyError,
    assert_idempotent,
    assert_unchanged,
    check_idempotency,
)
from cocotui_connectors.sqlite import SqliteTable, SqliteTargetError, quote_identifier

IMPORTS = "from cocotui_connectors.sqlite import SqliteTable"


def dump(database: Path, table: str) -> tuple[list[tuple[str, int]], list[tuple[Any, ...]]] | None:
    """(columns with their primary key position, rows sorted), or ``None`` without a table."""
    if not database.exists():
        return None
    with sqlite3.connect(database) as conn:
        columns = conn.execute("SELECT name, pk FROM pragma_table_info(?)", (table,)).fetchall()
        if not columns:
            return None
        rows = conn.execute(f"SELECT * FROM {quote_identifier(table)}").fetchall()
    return [(str(n), int(pk)) for n, pk in columns], sorted(rows, key=repr)


def table_rows(database: Path, table: str) -> dict[Any, dict[str, Any]]:
    """The table as key -> value fields (keys of several columns as tuples)."""
    found = dump(database, table)
    assert found is not None, f"no table {table} in {database}"
    columns, rows = found
    keys = [i for i, (_, pk) in sorted(enumerate(columns), key=lambda c: c[1][1]) if pk]
    result: dict[Any, dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[i] for i in keys)
        value = {name: row[i] for i, (name, pk) in enumerate(columns) if not pk}
        result[key[0] if len(key) == 1 else key] = value
    return result


@pytest.fixture
def setup(tmp_path: Path) -> tuple[AppRunner, Path, Path]:
    """An app over ``source/`` exporting to ``out/index.db``; returns (runner, source, db)."""
    source = tmp_path / "source"
    write_sources(source, SAMPLE_FILES)
    database = tmp_path / "out" / "index.db"
    app = tmp_path / "app.py"
    write_app(
        app,
        imports=IMPORTS,
        spec=f"SqliteTable(database={str(database)!r}, table='docs')",
        source=source,
    )
    return AppRunner(app, tmp_path / "state"), source, database


def _write(
    runner: AppRunner, source: Path, database: Path, version: str, table: str = "docs"
) -> None:
    write_app(
        Path(runner.app),
        imports=IMPORTS,
        spec=f"SqliteTable(database={str(database)!r}, table={table!r})",
        source=source,
        version=version,
    )


def test_lifecycle_through_the_cli(setup: tuple[AppRunner, Path, Path]) -> None:
    runner, source, database = setup

    # create
    plan = runner.plan()
    (change,) = plan["changes"]
    assert (change["action"], change["kind"]) == ("create", "SqliteTable")
    assert change["key"] == {"database": str(database), "table": "docs"}
    assert change["current"]["value_columns"] == ["content"]
    assert change["description"] == f"SQLite table docs in {database}"
    runner.apply()
    assert dump(database, "docs") == ([("filename", 1), ("content", 0)], [])
    assert runner.update().ok
    assert table_rows(database, "docs") == expected_rows(source)

    # a new value field: a visible `~ update` that adds the column, then every row is re-sent
    _write(runner, source, database, "v2")
    text = runner.command("plan").expect()
    assert "~ update Docs.docs" in text.stdout
    assert '~ value_columns: ["content"] → ["content", "length"]' in text.stdout
    (change,) = runner.plan()["changes"]
    assert (change["action"], change["compatibility"]) == ("update", "partially_compatible")
    assert change["current"]["value_columns"] == ["content", "length"]
    runner.apply()
    columns = dump(database, "docs")
    assert columns is not None and columns[0] == [("filename", 1), ("content", 0), ("length", 0)]
    assert runner.update().ok
    assert table_rows(database, "docs") == expected_rows(source, "v2")

    # a new primary key: NOT_COMPATIBLE, the table is recreated and every row exported again
    _write(runner, source, database, "v3")
    (change,) = runner.plan()["changes"]
    assert (change["action"], change["compatibility"]) == ("update", "not_compatible")
    runner.apply()
    assert dump(database, "docs") == ([("folder", 1), ("name", 2), ("content", 0)], [])
    assert runner.update().ok
    assert table_rows(database, "docs") == expected_rows(source, "v3")

    # source changes reach the table
    write_sources(source, {"a.txt": "ALPHA", "docs/e.txt": None, "new.txt": "november"})
    assert runner.update().ok
    assert table_rows(database, "docs") == expected_rows(source, "v3")

    # drop removes the table, not the database file
    dropped = runner.drop()
    assert [c["action"] for c in dropped["applied"]] == ["drop"]
    assert dump(database, "docs") is None
    assert database.exists()
    assert runner.plan()["changes"][0]["action"] == "create"


def test_renaming_the_table_drops_the_old_one_and_creates_the_new_one(
    setup: tuple[AppRunner, Path, Path],
) -> None:
    runner, source, database = setup
    runner.apply()
    assert runner.update().ok
    _write(runner, source, database, "v1", table="documents")
    actions = sorted(c["action"] for c in runner.plan()["changes"])
    assert actions == ["create", "drop"]
    runner.apply()
    assert dump(database, "docs") is None
    assert runner.update().ok
    assert table_rows(database, "documents") == expected_rows(source)


def _harness_target(database: Path, table: str = "t", values: tuple[str, ...] = ("text",)) -> Any:
    return ConnectorHarness(SqliteTable).target(
        SqliteTable(database=str(database), table=table), ["id"], list(values)
    )


def test_every_method_is_idempotent(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite"
    target = _harness_target(database)

    def snapshot() -> Any:
        return dump(database, "t")

    check_idempotency(
        target, {"a": {"text": "one"}, "b": {"text": "two"}}, snapshot, missing_key="missing"
    )

    # Setup changes called twice: add a column, drop it again, change the primary key.
    target.create()
    target.upsert({"a": {"text": "one"}})
    wider = target.changed(value_fields=["text", "extra"])
    assert target.compatibility_of(wider) is TargetStateCompatibility.PARTIALLY_COMPATIBLE
    after = assert_idempotent(lambda: target.change_to(wider), snapshot, label="add a column")
    assert after == ([("id", 1), ("text", 0), ("extra", 0)], [("a", "one", None)])
    assert wider.compatibility_of(target) is TargetStateCompatibility.COMPATIBLE
    after = assert_idempotent(lambda: wider.change_to(target), snapshot, label="drop a column")
    assert after == ([("id", 1), ("text", 0)], [("a", "one")])
    rekeyed = target.changed(key_fields=["id", "part"])
    assert target.compatibility_of(rekeyed) is TargetStateCompatibility.NOT_COMPATIBLE
    after = assert_idempotent(lambda: target.change_to(rekeyed), snapshot, label="new key")
    assert after == ([("id", 1), ("part", 2), ("text", 0)], [])

    # Roll-forward from an older version straight to the newest one converges too.
    rekeyed.upsert({("a", 1): {"text": "x"}})
    assert_idempotent(lambda: wider.change_to(rekeyed), snapshot, label="roll forward")


def test_creating_over_an_existing_table_keeps_its_rows_and_dropping_a_missing_one_is_a_no_op(
    tmp_path: Path,
) -> None:
    database = tmp_path / "db.sqlite"
    target = _harness_target(database)
    target.create()
    target.upsert({"a": {"text": "one"}})
    assert_unchanged(target.create, lambda: dump(database, "t"))
    target.drop()
    target.drop()
    assert dump(database, "t") is None
    # Dropping where the database file does not exist creates no file.
    elsewhere = _harness_target(tmp_path / "missing" / "db.sqlite")
    elsewhere.drop()
    assert not (tmp_path / "missing").exists()


def test_the_harness_detects_a_connector_that_is_not_idempotent() -> None:
    state = {"n": 0}

    def bump() -> None:
        state["n"] += 1

    with pytest.raises(IdempotencyError, match="not idempotent"):
        assert_idempotent(bump, lambda: state["n"])


def test_values_are_stored_natively_or_as_json(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite"
    target = _harness_target(database, values=("v",))
    target.create()
    target.upsert(
        {
            "str": {"v": "text"},
            "int": {"v": 7},
            "float": {"v": 1.5},
            "bytes": {"v": b"\x00\xff"},
            "none": {"v": None},
            "dict": {"v": {"b": [1, 2], "a": "x"}},
            "list": {"v": ["x", 1]},
        }
    )
    with sqlite3.connect(database) as conn:
        found = dict(conn.execute('SELECT id, v FROM "t"').fetchall())
        types = dict(conn.execute('SELECT id, typeof(v) FROM "t"').fetchall())
    assert found == {
        "str": "text",
        "int": 7,
        "float": 1.5,
        "bytes": b"\x00\xff",
        "none": None,
        "dict": '{"a": "x", "b": [1, 2]}',
        "list": '["x", 1]',
    }
    assert types["int"] == "integer" and types["bytes"] == "blob" and types["float"] == "real"


def test_a_row_that_cannot_be_stored_fails_the_whole_mutate_call(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite"
    target = _harness_target(database)
    target.create()
    with pytest.raises(SqliteTargetError, match="field 'text'"):
        target.upsert({"a": {"text": "fine"}, "b": {"text": object()}})
    # One transaction per call: the good row was rolled back with the bad one.
    assert dump(database, "t") == ([("id", 1), ("text", 0)], [])


def test_hostile_table_and_column_names_are_quoted(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite"
    table = 'x"; DROP TABLE victims; --'
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE victims (a)")
    harness = ConnectorHarness(SqliteTable)
    target = harness.target(
        SqliteTable(database=str(database), table=table), ['k"ey'], ["va lue", "select"]
    )
    check_idempotency(
        target,
        {"a": {"va lue": 1, "select": 2}},
        lambda: dump(database, table),
        missing_key="zz",
    )
    target.create()
    target.upsert({"a": {"va lue": 1, "select": 2}})
    assert dump(database, table) == (
        [('k"ey', 1), ("va lue", 0), ("select", 0)],
        [("a", 1, 2)],
    )
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM victims").fetchone() == (0,)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("SqliteTable(database=DB, table='sqlite_master')", "reserved by SQLite"),
        ("SqliteTable(database=':memory:', table='t')", "path of a database file"),
        ("SqliteTable(database=DB, table='')", "non-empty"),
    ],
)
def test_invalid_specs_are_reported_at_plan_time(tmp_path: Path, spec: str, message: str) -> None:
    source = tmp_path / "source"
    write_sources(source, {"a.txt": "alpha"})
    app = write_app(
        tmp_path / "app.py",
        imports=IMPORTS,
        spec=spec.replace("DB", repr(str(tmp_path / "db.sqlite"))),
        source=source,
    )
    result = AppRunner(app, tmp_path / "state").command("plan")
    assert result.returncode == 1
    assert message in result.stderr


@pytest.mark.parametrize("kill", ["mutate:rows=3", "mutate:before", "mutate:after"])
def test_a_run_killed_inside_mutate_rolls_forward(
    setup: tuple[AppRunner, Path, Path], kill: str, tmp_path: Path
) -> None:
    runner, source, database = setup
    runner.apply()
    assert runner.update().ok
    update_killed_inside_mutate(runner, source, kill, tmp_path / "calls.jsonl")
    assert table_rows(database, "docs") != expected_rows(source)

    def assert_equal_to_source() -> None:
        assert table_rows(database, "docs") == expected_rows(source)

    assert_rolls_forward(runner, assert_equal_to_source)
