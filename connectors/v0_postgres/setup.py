"""Setup of v0's ``targets.Postgres``: one transaction that brings the table to the desired
state from whatever it finds in the catalog, so that every call is idempotent and a call
interrupted half-way is rolled back and done again by the next.

As v0 applies changes: the pgvector extension is created when a vector column needs it, the
schema when missing; a new or re-typed value column is dropped and added again (its values are
exported again), a value column the previous state had and the desired one lacks is dropped; a
change of the primary key columns or their types drops and creates the table; indexes no longer
wanted or defined differently are dropped, missing ones created."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..postgres_common import canonical_types, catalog_columns, column_list
from .columns import PostgresSetupState, catalog_index_name
from .spec import PostgresTableId, pg_table_name

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql


def table_identifier(key: PostgresTableId) -> sql.Identifier:
    from psycopg import sql

    if "schema" in key:
        return sql.Identifier(key["schema"], pg_table_name(key))
    return sql.Identifier(pg_table_name(key))


def _index_name(key: PostgresTableId, suffix: str) -> str:
    return catalog_index_name(key["table_name"], suffix)


def _index_identifier(key: PostgresTableId, suffix: str) -> sql.Identifier:
    from psycopg import sql

    if "schema" in key:
        return sql.Identifier(key["schema"], _index_name(key, suffix))
    return sql.Identifier(_index_name(key, suffix))


def _schema_of_table(conn: psycopg.Connection[Any], key: PostgresTableId) -> str:
    """The schema the table is (or would be created) in: the given one, else the first schema
    of the search path that exists."""
    if "schema" in key:
        return key["schema"]
    row = conn.execute("SELECT current_schema()").fetchone()
    return str(row[0]) if row is not None and row[0] is not None else "public"


def drop_table(conn: psycopg.Connection[Any], key: PostgresTableId) -> None:
    from psycopg import sql

    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table_identifier(key)))


def _create_table(
    conn: psycopg.Connection[Any], key: PostgresTableId, state: PostgresSetupState
) -> None:
    from psycopg import sql

    columns = [
        sql.SQL("{} {} NOT NULL").format(sql.Identifier(c), sql.SQL(t))
        for c, t in state.key_columns.items()
    ] + [
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t))
        for c, t in state.value_columns.items()
    ]
    conn.execute(
        sql.SQL("CREATE TABLE {} ({}, PRIMARY KEY ({}))").format(
            table_identifier(key), sql.SQL(", ").join(columns), column_list(state.key_columns)
        )
    )


def _converge_columns(
    conn: psycopg.Connection[Any],
    key: PostgresTableId,
    previous: PostgresSetupState | None,
    current: PostgresSetupState,
    existing: dict[str, str],
) -> None:
    from psycopg import sql

    table = table_identifier(key)
    wanted = canonical_types(conn, current.value_columns) if current.value_columns else {}
    for column, sql_type in current.value_columns.items():
        if existing.get(column) == wanted[column]:
            continue
        # v0 re-creates the column: its values are sent again (a PARTIALLY_COMPATIBLE change).
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP COLUMN IF EXISTS {}, ADD COLUMN {} {}").format(
                table, sql.Identifier(column), sql.Identifier(column), sql.SQL(sql_type)
            )
        )
    if previous is not None:
        for column in previous.value_columns:
            if column in existing and column not in wanted and column not in current.key_columns:
                conn.execute(
                    sql.SQL("ALTER TABLE {} DROP COLUMN {}").format(table, sql.Identifier(column))
                )


def _existing_indexes(conn: psycopg.Connection[Any], schema: str, table: str) -> set[str]:
    rows = conn.execute(
        "SELECT ic.relname FROM pg_index i "
        "JOIN pg_class ic ON ic.oid = i.indexrelid "
        "JOIN pg_class tc ON tc.oid = i.indrelid "
        "JOIN pg_namespace n ON n.oid = tc.relnamespace "
        "WHERE n.nspname = %s AND tc.relname = %s",
        (schema, table),
    ).fetchall()
    return {str(name) for (name,) in rows}


def _converge_indexes(
    conn: psycopg.Connection[Any],
    key: PostgresTableId,
    previous: PostgresSetupState | None,
    current: PostgresSetupState,
) -> None:
    from psycopg import sql

    before = previous.vector_indexes if previous is not None else {}
    found = _existing_indexes(conn, _schema_of_table(conn, key), pg_table_name(key))
    for name, definition in before.items():
        if current.vector_indexes.get(name) != definition:
            conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(_index_identifier(key, name)))
            found.discard(_index_name(key, name))
    for name, definition in current.vector_indexes.items():
        if _index_name(key, name) not in found:
            conn.execute(
                sql.SQL("CREATE INDEX {} ON {} {}").format(
                    sql.Identifier(_index_name(key, name)),
                    table_identifier(key),
                    sql.SQL(definition),
                )
            )


def converge(
    conn: psycopg.Connection[Any],
    key: PostgresTableId,
    previous: PostgresSetupState | None,
    current: PostgresSetupState,
) -> None:
    """Bring the table to ``current`` inside the caller's transaction."""
    from psycopg import sql

    if current.uses_pgvector():
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    if "schema" in key:
        conn.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(key["schema"]))
        )
    schema = _schema_of_table(conn, key)
    catalog = catalog_columns(conn, schema, pg_table_name(key))
    if catalog is not None:
        existing, primary_key = catalog
        wanted_keys = canonical_types(conn, current.key_columns)
        if primary_key != list(current.key_columns) or any(
            existing.get(c) != t for c, t in wanted_keys.items()
        ):
            drop_table(conn, key)  # rows keyed differently cannot be kept: all are sent again
            catalog = None
    if catalog is None:
        _create_table(conn, key, current)
        _converge_indexes(conn, key, None, current)
        return
    _converge_columns(conn, key, previous, current, catalog[0])
    _converge_indexes(conn, key, previous, current)
