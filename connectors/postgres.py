"""Rows in a PostgreSQL table, over psycopg 3: one table row per target row, one column per key
and value field. Install the driver with ``pip install 'cocotui[postgres]'``.

Setup **creates** the schema (when missing) and the table, with the primary key fields as its
primary key. Key columns are ``text`` and value columns ``jsonb`` unless ``column_types`` names
another SQL type for a field. A **change** of the value fields is an ``~ update``: a new value
field adds its column (every row is then sent again to fill it), a removed one drops its column,
a new type for a value column empties it (``ALTER COLUMN ... TYPE ... USING NULL``) and its rows
are sent again. A change of the primary key fields or their types is ``NOT_COMPATIBLE``: the
table is dropped and created again, and every row is exported again. A **drop** removes the
table (never the schema).

Every setup change runs in one transaction and converges on the desired table whatever state
it finds (it reads the catalog), so it is idempotent: creating a table that exists with the
right primary key keeps it and its rows, dropping a missing table does nothing, and a change
interrupted half-way is rolled back by PostgreSQL and done again by the next call. Each
``mutate`` call is one transaction per server (``INSERT ... ON CONFLICT ... DO UPDATE`` and
``DELETE``, sent with ``executemany``); deleting a missing row is a no-op.

The connection comes from ``url`` or, better, from the environment variable ``url_env`` names,
so that no password has to be written in the app or stored in the state file. A password in
``url`` is never stored: the state keeps the URL without it, the persistent key is
host/port/database/schema/table, and every message this connector produces masks it. (Setup
calls made in a process that did not load the spec - dropping an export that was removed from
the app - then need the password from ``url_env``, ``PGPASSWORD`` or ``~/.pgpass``.)

Keys are a single field's value, or a tuple for several fields. Values for ``json``/``jsonb``
columns may be anything JSON can hold (dicts, lists, numbers, strings, dataclasses); values for
other columns are passed to psycopg as they are (``bytes`` for ``bytea``, lists for arrays, ...).

Example::

    collector.export(
        "documents",
        PostgresTable(url_env="DATABASE_URL", table="documents",
                      column_types={"content": "text", "length": "integer"}),
        primary_key_fields=["filename"],
    )
"""

from __future__ import annotations

import dataclasses
import os
import re
from contextlib import closing
from typing import TYPE_CHECKING, Any, TypedDict

import cocotui

from .postgres_common import (
    PostgresTargetError,
    canonical_types,
    catalog_columns,
    check_identifier,
    column_list,
    connect,
    json_dumps,
    location,
    mask_password,
    masked_errors,
    shared_connection,
    table_identifier,
    without_password,
)

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql


class PostgresTable(cocotui.op.TargetSpec):
    """Writes each row to ``schema.table`` in the PostgreSQL database at ``url``/``url_env``."""

    #: Name of the table; it belongs to the target (a drop removes it).
    table: str
    #: A connection URL (``postgresql://user@host:port/dbname``) or conninfo string.
    url: str | None = None
    #: Name of an environment variable holding the URL (keeps the password out of the app).
    url_env: str | None = None
    #: The table's schema; created when missing, never dropped.
    schema: str = "public"
    #: SQL type per field, e.g. ``{"id": "bigint", "embedding": "vector(384)"}``; key columns
    #: default to ``text``, value columns to ``jsonb``.
    column_types: dict[str, str] | None = None


class PostgresTableKey(TypedDict):
    """The persistent key: where the table is, without credentials."""

    host: str
    port: str
    dbname: str
    schema: str
    table: str


@dataclasses.dataclass(frozen=True)
class PostgresTableState:
    """The setup state: how to connect (never with a password), where the table is, and its
    columns (name -> SQL type). A new value field shows in a plan as a changed
    ``value_columns``; a new primary key as a changed ``key_columns``."""

    url: str | None
    url_env: str | None
    schema: str
    table: str
    key_columns: dict[str, str]
    value_columns: dict[str, str]


@dataclasses.dataclass(frozen=True)
class PreparedPostgresTable:
    """What ``mutate`` receives: the table's statements, built once per run, and where to send
    them (the URL, which may hold a password, is kept out of ``repr``)."""

    schema: str
    table: str
    key_columns: dict[str, str]
    value_columns: dict[str, str]
    upsert: sql.Composed = dataclasses.field(repr=False)
    delete: sql.Composed = dataclasses.field(repr=False)
    url: str = dataclasses.field(repr=False)


class PostgresSettingError(PostgresTargetError, cocotui.op.TargetConfigurationError):
    """A setting the user must provide (the URL's environment variable) is missing."""


DEFAULT_KEY_TYPE = "text"
DEFAULT_VALUE_TYPE = "jsonb"
_TYPE = re.compile(
    r"^[A-Za-z_][A-Za-z0-9_ .]*(\(\s*\d+(\s*,\s*\d+)*\s*\))?(\s*\[\s*\d*\s*\])*$",
)


# ---------------------------------------------------------------------------------------------
# URLs, passwords and masking

#: Full URLs (with their password) by their password-free form, for the setup calls of this
#: process: the state holds only the password-free form.
_full_urls: dict[str, str] = {}


def _spec_url(spec: PostgresTable) -> str:
    """The URL the spec names (reading ``url_env``), remembered for this process's setup calls."""
    if (spec.url is None) == (spec.url_env is None):
        raise PostgresTargetError("PostgresTable needs exactly one of url= and url_env=")
    if spec.url_env is not None:
        return _env_url(spec.url_env)
    assert spec.url is not None
    _full_urls[without_password(spec.url)] = spec.url
    return spec.url


def _env_url(name: str) -> str:
    url = os.environ.get(name)
    if not url:
        raise PostgresSettingError(
            f"environment variable {name} (PostgresTable.url_env) is not set; it must hold "
            f"the database URL, e.g. export {name}=postgresql://user@host:5432/dbname"
        )
    return url


def _state_url(state: PostgresTableState) -> str:
    if state.url_env is not None:
        return _env_url(state.url_env)
    if state.url is None:
        raise PostgresTargetError("the stored setup state has neither url nor url_env")
    return _full_urls.get(state.url, state.url)


# ---------------------------------------------------------------------------------------------
# Names, types and values


def _check_type(field: str, sql_type: str) -> str:
    if not isinstance(sql_type, str) or not _TYPE.match(sql_type.strip()):
        raise PostgresTargetError(
            f"column_types[{field!r}] = {sql_type!r} is not an SQL type name such as 'text', "
            f"'bigint', 'numeric(10, 2)', 'text[]' or 'vector(384)'"
        )
    return " ".join(sql_type.split())


def _is_json_type(sql_type: str) -> bool:
    return sql_type.lower() in ("json", "jsonb")


def _param(value: Any, column: str, sql_type: str) -> Any:
    """A value as a query parameter for a column of ``sql_type``."""
    if value is None:
        return None
    if _is_json_type(sql_type):
        if isinstance(value, bytes | bytearray | memoryview):
            raise PostgresTargetError(
                f"field '{column}': bytes cannot be stored in a {sql_type} column; declare it "
                f"as 'bytea' in PostgresTable.column_types"
            )
        from psycopg.types.json import Json, Jsonb

        wrapper = Jsonb if sql_type.lower() == "jsonb" else Json
        return wrapper(value, dumps=json_dumps)
    if isinstance(value, dict) or (dataclasses.is_dataclass(value) and not isinstance(value, type)):
        return json_dumps(value)  # as JSON text, castable to json by the server
    return value


def _key_params(target: PreparedPostgresTable, key: Any) -> list[Any]:
    columns = list(target.key_columns.items())
    parts = (key,) if len(columns) == 1 else key
    if not isinstance(parts, tuple) or len(parts) != len(columns):
        raise PostgresTargetError(
            f"key {key!r} must be a tuple of {len(columns)} values "
            f"({', '.join(name for name, _ in columns)})"
        )
    params = []
    for part, (name, sql_type) in zip(parts, columns, strict=True):
        if sql_type.lower() == "text" and not isinstance(part, str):
            raise PostgresTargetError(
                f"key field '{name}' is {type(part).__name__} ({part!r}) but its column is "
                f"text; declare its type in PostgresTable.column_types (e.g. 'bigint')"
            )
        params.append(_param(part, name, sql_type))
    return params


def _value_params(target: PreparedPostgresTable, key: Any, value: dict[str, Any]) -> list[Any]:
    try:
        return [_param(value[c], c, t) for c, t in target.value_columns.items()]
    except KeyError as exc:
        raise PostgresTargetError(
            f"row {key!r} has no value field {exc.args[0]!r} (it has: {', '.join(value)})"
        ) from None


# ---------------------------------------------------------------------------------------------
# Connections


# ---------------------------------------------------------------------------------------------
# DDL


def _create_table(conn: psycopg.Connection[Any], state: PostgresTableState) -> None:
    from psycopg import sql

    columns = {**state.key_columns, **state.value_columns}
    conn.execute(
        sql.SQL("CREATE TABLE {} ({}, PRIMARY KEY ({}))").format(
            table_identifier(state.schema, state.table),
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in columns.items()
            ),
            column_list(state.key_columns),
        )
    )


def _converge(
    conn: psycopg.Connection[Any],
    previous: PostgresTableState | None,
    current: PostgresTableState,
) -> None:
    """Bring the table to ``current`` from whatever an earlier (possibly interrupted) call
    left, inside the caller's transaction."""
    from psycopg import sql

    table = table_identifier(current.schema, current.table)
    has_schema = conn.execute(
        "SELECT 1 FROM pg_namespace WHERE nspname = %s", (current.schema,)
    ).fetchone()
    if has_schema is None:
        conn.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(current.schema))
        )
    catalog = catalog_columns(conn, current.schema, current.table)
    if catalog is None:
        _create_table(conn, current)
        return
    existing, primary_key = catalog
    wanted = canonical_types(conn, {**current.key_columns, **current.value_columns})
    if primary_key != list(current.key_columns) or any(
        existing.get(c) != wanted[c] for c in current.key_columns
    ):
        # Rows keyed differently cannot be kept: the engine exports every row again.
        conn.execute(sql.SQL("DROP TABLE {}").format(table))
        _create_table(conn, current)
        return
    for column, sql_type in current.value_columns.items():
        if column not in existing:
            conn.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                    table, sql.Identifier(column), sql.SQL(sql_type)
                )
            )
        elif existing[column] != wanted[column]:
            # Its values are sent again (PARTIALLY_COMPATIBLE): no conversion is attempted.
            conn.execute(
                sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {} USING NULL").format(
                    table, sql.Identifier(column), sql.SQL(sql_type)
                )
            )
    if previous is not None:
        for column in previous.value_columns:
            if column in existing and column not in wanted:
                conn.execute(
                    sql.SQL("ALTER TABLE {} DROP COLUMN {}").format(table, sql.Identifier(column))
                )


def _check_location(key: PostgresTableKey, url: str) -> None:
    """Refuse to touch a table on another server than the key names (``url_env`` changed)."""
    host, port, dbname = location(url)
    if (host, port, dbname) != (key["host"], key["port"], key["dbname"]):
        raise PostgresTargetError(
            f"the URL now points at {host}:{port}/{dbname}, but this target's table is on "
            f"{key['host']}:{key['port']}/{key['dbname']}; point the URL back to change it"
        )


# ---------------------------------------------------------------------------------------------


@cocotui.op.target_connector(spec_cls=PostgresTable, setup_state_cls=PostgresTableState)
class PostgresTableConnector:
    @staticmethod
    def get_persistent_key(spec: PostgresTable, target_name: str) -> PostgresTableKey:
        check_identifier("PostgresTable.schema", spec.schema)
        check_identifier("PostgresTable.table", spec.table)
        host, port, dbname = location(_spec_url(spec))
        return {
            "host": host,
            "port": port,
            "dbname": dbname,
            "schema": spec.schema,
            "table": spec.table,
        }

    @staticmethod
    def get_setup_state(
        spec: PostgresTable,
        key_fields_schema: list[cocotui.FieldSchema],
        value_fields_schema: list[cocotui.FieldSchema],
    ) -> PostgresTableState:
        if not key_fields_schema:
            raise PostgresTargetError("a PostgreSQL table needs at least one primary key field")
        types = dict(spec.column_types or {})
        fields = [f.name for f in (*key_fields_schema, *value_fields_schema)]
        unknown = sorted(set(types) - set(fields))
        if unknown:
            raise PostgresTargetError(
                f"PostgresTable.column_types names fields that are not exported: "
                f"{', '.join(unknown)} (fields: {', '.join(fields)})"
            )
        for name in fields:
            check_identifier("field name", name)

        def column_types(schema: list[cocotui.FieldSchema], default: str) -> dict[str, str]:
            return {f.name: _check_type(f.name, types.get(f.name, default)) for f in schema}

        url = _spec_url(spec)
        return PostgresTableState(
            url=None if spec.url_env is not None else without_password(url),
            url_env=spec.url_env,
            schema=spec.schema,
            table=spec.table,
            key_columns=column_types(key_fields_schema, DEFAULT_KEY_TYPE),
            value_columns=column_types(value_fields_schema, DEFAULT_VALUE_TYPE),
        )

    @staticmethod
    def describe(key: PostgresTableKey) -> str:
        return (
            f"PostgreSQL table {key['schema']}.{key['table']} in database {key['dbname']} on "
            f"{key['host']}:{key['port']}"
        )

    @staticmethod
    def check_state_compatibility(
        desired: PostgresTableState, existing: PostgresTableState
    ) -> cocotui.op.TargetStateCompatibility:
        def lowered(columns: dict[str, str]) -> list[tuple[str, str]]:
            return [(name, sql_type.lower()) for name, sql_type in columns.items()]

        if lowered(desired.key_columns) != lowered(existing.key_columns):
            return cocotui.op.TargetStateCompatibility.NOT_COMPATIBLE  # the table is recreated
        if set(lowered(desired.value_columns)) - set(lowered(existing.value_columns)):
            return cocotui.op.TargetStateCompatibility.PARTIALLY_COMPATIBLE  # fill new columns
        return cocotui.op.TargetStateCompatibility.COMPATIBLE

    @staticmethod
    def apply_setup_change(
        key: PostgresTableKey,
        previous: PostgresTableState | None,
        current: PostgresTableState | None,
    ) -> None:
        from psycopg import sql

        state = current if current is not None else previous
        if state is None:
            return
        url = _state_url(state)
        _check_location(key, url)
        with masked_errors(url), closing(connect(url)) as conn, conn.transaction():
            if current is None:
                table = table_identifier(key["schema"], key["table"])
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
            else:
                _converge(conn, previous, current)

    @staticmethod
    def prepare(spec: PostgresTable, setup_state: PostgresTableState) -> PreparedPostgresTable:
        from psycopg import sql

        url = _spec_url(spec)
        shared_connection(url)  # connect once per run, and fail early
        keys = list(setup_state.key_columns)
        values = list(setup_state.value_columns)
        table = table_identifier(setup_state.schema, setup_state.table)
        on_conflict: sql.Composable
        if values:
            on_conflict = sql.SQL("DO UPDATE SET {}").format(
                sql.SQL(", ").join(
                    sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(v)) for v in values
                )
            )
        else:
            on_conflict = sql.SQL("DO NOTHING")
        upsert = sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) {}").format(
            table,
            column_list([*keys, *values]),
            sql.SQL(", ").join(sql.Placeholder() for _ in (*keys, *values)),
            column_list(keys),
            on_conflict,
        )
        delete = sql.SQL("DELETE FROM {} WHERE {}").format(
            table,
            sql.SQL(" AND ").join(
                sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder()) for k in keys
            ),
        )
        return PreparedPostgresTable(
            schema=setup_state.schema,
            table=setup_state.table,
            key_columns=dict(setup_state.key_columns),
            value_columns=dict(setup_state.value_columns),
            upsert=upsert,
            delete=delete,
            url=url,
        )

    @staticmethod
    def mutate(
        *all_mutations: tuple[PreparedPostgresTable, dict[Any, dict[str, Any] | None]],
    ) -> None:
        by_server: dict[str, list[tuple[PreparedPostgresTable, dict[Any, Any]]]] = {}
        for target, rows in all_mutations:
            by_server.setdefault(target.url, []).append((target, rows))
        for url, batches in by_server.items():
            conn = shared_connection(url)
            with masked_errors(url), conn.transaction(), conn.cursor() as cursor:
                for target, rows in batches:
                    upserts: list[list[Any]] = []
                    deletes: list[list[Any]] = []
                    for key, value in rows.items():
                        params = _key_params(target, key)
                        if value is None:
                            deletes.append(params)  # deleting a missing row is a no-op
                        else:
                            upserts.append(params + _value_params(target, key, value))
                    if upserts:
                        cursor.executemany(target.upsert, upserts)
                    if deletes:
                        cursor.executemany(target.delete, deletes)


__all__ = [
    "PostgresTable",
    "PostgresTableConnector",
    "PostgresTableKey",
    "PostgresTableState",
    "PostgresTargetError",
    "PreparedPostgresTable",
    "mask_password",
    "without_password",
]
