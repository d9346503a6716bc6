"""Rows in a SQLite table: one table row per target row, one column per key and value field.

Setup **creates** the table (and the database file and its directory when missing), with the
primary key fields as its primary key. A **change** of the value fields is an ``~ update``: a new
value field adds its column (``ALTER TABLE ... ADD COLUMN``; every row is then sent again to fill
it), a removed one drops its column. A change of the primary key fields is ``NOT_COMPATIBLE``:
the table is dropped and created again, and every row is exported again. A **drop** removes the
table; the database file stays (it may hold other tables).

Setup converges on the desired table whatever state it finds, so every call is idempotent:
creating a table that exists (with the right primary key) keeps it and its rows, dropping a
table that is gone does nothing, and a change interrupted half-way is completed by calling it
again. Each setup change and each ``mutate`` call runs in one transaction per database file.

Keys are a single field's value, or a tuple for several fields. Values of type ``str``, ``int``,
``float``, ``bytes`` and ``None`` are stored as they are (``bool`` as ``0``/``1``); anything else
(dicts, lists, dataclasses, dates) is stored as JSON text. Columns are declared without a type,
so SQLite keeps each value's own type.

Table and column names are user-controlled; they are always quoted as identifiers, never
interpolated as SQL.

Example::

    collector.export(
        "documents",
        SqliteTable(database="out/index.db", table="documents"),
        primary_key_fields=["filename"],
    )
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, TypedDict

import cocotui

from .json_values import json_default


class SqliteTable(cocotui.op.TargetSpec):
    """Writes each row to ``table`` in the SQLite database file ``database``."""

    #: Path of the database file; created with its directory when missing.
    database: str
    #: Name of the table; it belongs to the target (a drop removes it).
    table: str


class SqliteTableKey(TypedDict):
    """The persistent key: the absolute database path and the table name."""

    database: str
    table: str


@dataclasses.dataclass(frozen=True)
class SqliteTableState:
    """The setup state: where the table is and its columns. A new value field shows in a plan
    as a changed ``value_columns``; a new primary key as a changed ``key_columns``."""

    database: str
    table: str
    key_columns: list[str]
    value_columns: list[str]


@dataclasses.dataclass(frozen=True)
class PreparedSqliteTable:
    """What ``mutate`` receives: the table and its statements, built once per run."""

    database: str
    table: str
    key_columns: tuple[str, ...]
    value_columns: tuple[str, ...]
    upsert_sql: str
    delete_sql: str


class SqliteTargetError(ValueError):
    """A spec, field name or row that the SQLite table cannot hold."""


# ---------------------------------------------------------------------------------------------
# Names and values


def quote_identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier (``"`` doubled), refusing what SQLite cannot name."""
    if not isinstance(name, str) or not name:
        raise SqliteTargetError(f"identifier {name!r} must be a non-empty string")
    if "\x00" in name:
        raise SqliteTargetError(f"identifier {name!r} contains a NUL character")
    return '"' + name.replace('"', '""') + '"'


def _database_path(database: str) -> str:
    if not isinstance(database, str) or not database or database == ":memory:":
        raise SqliteTargetError(
            f"SqliteTable.database must be the path of a database file, got {database!r}"
        )
    if database.startswith("file:"):
        raise SqliteTargetError(
            f"SqliteTable.database must be a plain file path, not a URI: {database!r}"
        )
    return str(Path(database).expanduser().absolute())


def _check_table(table: str) -> None:
    quote_identifier(table)
    if table.lower().startswith("sqlite_"):
        raise SqliteTargetError(
            f"SqliteTable.table {table!r}: names starting with 'sqlite_' are reserved by SQLite"
        )


def sql_value(value: Any, field: str) -> Any:
    """A value as SQLite stores it: ``str``/``int``/``float``/``bytes``/``None`` as they are,
    anything else as JSON text."""
    if value is None or isinstance(value, str | int | float | bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    try:
        return json.dumps(value, default=json_default, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise SqliteTargetError(f"field '{field}': {exc}") from None


# ---------------------------------------------------------------------------------------------
# Connections and DDL


def _connect(database: str, *, create: bool) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit); ``create=False`` fails
    instead of creating a missing file."""
    if create:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(database, timeout=30, isolation_level=None)
    else:
        uri = Path(database).as_uri() + "?mode=rw"
        conn = sqlite3.connect(uri, timeout=30, isolation_level=None, uri=True)
    return conn


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back if anything fails (a killed process leaves
    the journal, which SQLite rolls back on the next open)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _table_columns(conn: sqlite3.Connection, table: str) -> list[tuple[str, int]] | None:
    """``(name, position in the primary key or 0)`` per column, or ``None`` without a table."""
    rows = conn.execute("SELECT name, pk FROM pragma_table_info(?)", (table,)).fetchall()
    return [(str(name), int(pk)) for name, pk in rows] or None


def _create_table(conn: sqlite3.Connection, state: SqliteTableState) -> None:
    columns = [quote_identifier(c) for c in (*state.key_columns, *state.value_columns)]
    key = ", ".join(quote_identifier(c) for c in state.key_columns)
    conn.execute(
        f"CREATE TABLE {quote_identifier(state.table)} ({', '.join(columns)}, PRIMARY KEY ({key}))"
    )


def _converge(
    conn: sqlite3.Connection, previous: SqliteTableState | None, current: SqliteTableState
) -> None:
    """Bring the table to ``current``, whatever state an earlier (possibly interrupted) call
    left it in."""
    table = quote_identifier(current.table)
    existing = _table_columns(conn, current.table)
    if existing is None:
        _create_table(conn, current)
        return
    primary_key = [name.lower() for name, pk in sorted(existing, key=lambda c: c[1]) if pk]
    if primary_key != [c.lower() for c in current.key_columns]:
        # Rows keyed differently cannot be kept: the engine exports every row again.
        conn.execute(f"DROP TABLE {table}")
        _create_table(conn, current)
        return
    present = {name.lower() for name, _ in existing}
    for column in current.value_columns:
        if column.lower() not in present:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {quote_identifier(column)}")
    if previous is not None:
        wanted = {c.lower() for c in (*current.key_columns, *current.value_columns)}
        for column in previous.value_columns:
            if column.lower() in present and column.lower() not in wanted:
                conn.execute(f"ALTER TABLE {table} DROP COLUMN {quote_identifier(column)}")


def _drop_table(key: SqliteTableKey) -> None:
    if not Path(key["database"]).exists():
        return  # nothing to drop; never create an empty database file for it
    with closing(_connect(key["database"], create=False)) as conn, _transaction(conn):
        conn.execute(f"DROP TABLE IF EXISTS {quote_identifier(key['table'])}")


def _check_columns(key_fields: Sequence[str], value_fields: Sequence[str]) -> None:
    if not key_fields:
        raise SqliteTargetError("a SQLite table needs at least one primary key field")
    seen: dict[str, str] = {}
    for name in (*key_fields, *value_fields):
        quote_identifier(name)
        other = seen.setdefault(name.lower(), name)
        if other != name:
            raise SqliteTargetError(
                f"fields '{other}' and '{name}' differ only in case; SQLite column names "
                f"are case-insensitive"
            )


# ---------------------------------------------------------------------------------------------
# Rows


def _key_parts(target: PreparedSqliteTable, key: Any) -> list[Any]:
    if len(target.key_columns) == 1:
        return [sql_value(key, target.key_columns[0])]
    if not isinstance(key, tuple) or len(key) != len(target.key_columns):
        raise SqliteTargetError(
            f"key {key!r} must be a tuple of {len(target.key_columns)} values "
            f"({', '.join(target.key_columns)})"
        )
    return [sql_value(part, name) for part, name in zip(key, target.key_columns, strict=True)]


def _value_parts(target: PreparedSqliteTable, key: Any, value: dict[str, Any]) -> list[Any]:
    try:
        return [sql_value(value[column], column) for column in target.value_columns]
    except KeyError as exc:
        raise SqliteTargetError(
            f"row {key!r} has no value field {exc.args[0]!r} (it has: {', '.join(value)})"
        ) from None


@cocotui.op.target_connector(spec_cls=SqliteTable, setup_state_cls=SqliteTableState)
class SqliteTableConnector:
    @staticmethod
    def get_persistent_key(spec: SqliteTable, target_name: str) -> SqliteTableKey:
        _check_table(spec.table)
        return {"database": _database_path(spec.database), "table": spec.table}

    @staticmethod
    def get_setup_state(
        spec: SqliteTable,
        key_fields_schema: list[cocotui.FieldSchema],
        value_fields_schema: list[cocotui.FieldSchema],
    ) -> SqliteTableState:
        key_columns = [f.name for f in key_fields_schema]
        value_columns = [f.name for f in value_fields_schema]
        _check_columns(key_columns, value_columns)
        return SqliteTableState(
            database=_database_path(spec.database),
            table=spec.table,
            key_columns=key_columns,
            value_columns=value_columns,
        )

    @staticmethod
    def describe(key: SqliteTableKey) -> str:
        return f"SQLite table {key['table']} in {key['database']}"

    @staticmethod
    def check_state_compatibility(
        desired: SqliteTableState, existing: SqliteTableState
    ) -> cocotui.op.TargetStateCompatibility:
        def lowered(columns: list[str]) -> list[str]:
            return [c.lower() for c in columns]

        if lowered(desired.key_columns) != lowered(existing.key_columns):
            return cocotui.op.TargetStateCompatibility.NOT_COMPATIBLE  # the table is recreated
        if set(lowered(desired.value_columns)) - set(lowered(existing.value_columns)):
            return cocotui.op.TargetStateCompatibility.PARTIALLY_COMPATIBLE  # fill new columns
        return cocotui.op.TargetStateCompatibility.COMPATIBLE

    @staticmethod
    def apply_setup_change(
        key: SqliteTableKey,
        previous: SqliteTableState | None,
        current: SqliteTableState | None,
    ) -> None:
        if current is None:
            _drop_table(key)
            return
        with closing(_connect(key["database"], create=True)) as conn, _transaction(conn):
            _converge(conn, previous, current)

    @staticmethod
    def prepare(spec: SqliteTable, setup_state: SqliteTableState) -> PreparedSqliteTable:
        keys = [quote_identifier(c) for c in setup_state.key_columns]
        values = [quote_identifier(c) for c in setup_state.value_columns]
        table = quote_identifier(setup_state.table)
        placeholders = ", ".join("?" for _ in (*keys, *values))
        if values:
            assignments = ", ".join(f"{v} = excluded.{v}" for v in values)
            on_conflict = f"DO UPDATE SET {assignments}"
        else:
            on_conflict = "DO NOTHING"
        upsert = (
            f"INSERT INTO {table} ({', '.join((*keys, *values))}) VALUES ({placeholders}) "
            f"ON CONFLICT ({', '.join(keys)}) {on_conflict}"
        )
        delete = f"DELETE FROM {table} WHERE " + " AND ".join(f"{k} = ?" for k in keys)
        return PreparedSqliteTable(
            database=setup_state.database,
            table=setup_state.table,
            key_columns=tuple(setup_state.key_columns),
            value_columns=tuple(setup_state.value_columns),
            upsert_sql=upsert,
            delete_sql=delete,
        )

    @staticmethod
    def mutate(
        *all_mutations: tuple[PreparedSqliteTable, dict[Any, dict[str, Any] | None]],
    ) -> None:
        by_database: dict[str, list[tuple[PreparedSqliteTable, dict[Any, Any]]]] = {}
        for target, rows in all_mutations:
            by_database.setdefault(target.database, []).append((target, rows))
        for database, batches in by_database.items():
            with closing(_connect(database, create=False)) as conn, _transaction(conn):
                for target, rows in batches:
                    for key, value in rows.items():
                        parts = _key_parts(target, key)
                        if value is None:
                            conn.execute(target.delete_sql, parts)  # no-op when missing
                        else:
                            parts += _value_parts(target, key, value)
                            conn.execute(target.upsert_sql, parts)
