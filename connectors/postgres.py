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

import atexit
import dataclasses
import datetime
import functools
import json
import os
import re
import threading
import urllib.parse
import uuid
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypedDict

import cocotui

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


class PostgresTargetError(RuntimeError):
    """A spec, row or server error; its message never contains a password."""


class PostgresSettingError(PostgresTargetError, cocotui.op.TargetConfigurationError):
    """A setting the user must provide (the URL's environment variable) is missing."""


DEFAULT_KEY_TYPE = "text"
DEFAULT_VALUE_TYPE = "jsonb"
_MAX_IDENTIFIER_BYTES = 63  # longer names are silently truncated by PostgreSQL
_TYPE = re.compile(
    r"^[A-Za-z_][A-Za-z0-9_ .]*(\(\s*\d+(\s*,\s*\d+)*\s*\))?(\s*\[\s*\d*\s*\])*$",
)


def _psycopg() -> ModuleType:
    try:
        import psycopg as driver
    except ImportError:  # pragma: no cover - depends on the installation
        raise PostgresTargetError(
            "PostgresTable needs psycopg 3: pip install 'cocotui[postgres]'"
        ) from None
    return driver


# ---------------------------------------------------------------------------------------------
# URLs, passwords and masking

#: Full URLs (with their password) by their password-free form, for the setup calls of this
#: process: the state holds only the password-free form.
_full_urls: dict[str, str] = {}


def mask_password(text: str, url: str | None) -> str:
    """``text`` with the password of ``url`` (as written, and URL-decoded) replaced by ``***``,
    and any ``scheme://user:password@`` or ``password=...`` in it masked too."""
    for secret in _passwords(url):
        text = text.replace(secret, "***")
    text = re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)", r"\1***", text)


#: libpq parameters that are secrets: the password, the client key's passphrase, an OAuth
#: client secret. None is stored in the state; this process keeps them in ``_full_urls``.
_SECRET_PARAMS = frozenset({"password", "sslpassword", "oauth_client_secret"})
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<netloc>[^/?#]*)(?P<rest>.*)$", re.S)
_PASSWORD_PARAM = re.compile(r"password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&]+)")


def _passwords(url: str | None) -> list[str]:
    """Every spelling of the password(s) in ``url``, longest first."""
    if not url:
        return []
    found = set()
    match = _URL.match(url)
    if match and "@" in match["netloc"]:
        userinfo = match["netloc"].rpartition("@")[0]
        if ":" in userinfo:
            found.add(userinfo.partition(":")[2])
    for param in _PASSWORD_PARAM.finditer(url):
        found.add(param.group(1).strip("'"))
    found |= {urllib.parse.unquote(p) for p in found}
    return sorted((p for p in found if p), key=len, reverse=True)


def _parse(url: str) -> dict[str, str]:
    """The connection parameters of ``url`` (checked by libpq), errors masked."""
    driver = _psycopg()
    try:
        params: dict[str, Any] = driver.conninfo.conninfo_to_dict(url)
    except driver.Error as exc:
        raise PostgresTargetError(
            f"invalid PostgreSQL URL {mask_password(url, url)}: {mask_password(str(exc), url)}"
        ) from None
    if _URL.match(url) and "@" in str(params.get("host") or ""):
        # libpq ends the password at its first '@' and takes the rest for the host name:
        # the tail of the password would become part of the persistent key and of messages.
        raise PostgresTargetError(
            "invalid PostgreSQL URL: its user name or password contains an '@'; write it as "
            "%40 (the URL is not shown: it holds a password)"
        )
    return {k: str(v) for k, v in params.items() if v is not None}


def without_password(url: str) -> str:
    """``url`` without its secrets (``password``, ``sslpassword``...); user, host, options and
    the form are kept."""
    params = _parse(url)
    if not _SECRET_PARAMS & params.keys():
        return url
    match = _URL.match(url)
    if match is not None:
        netloc = match["netloc"]
        if "@" in netloc:
            userinfo, _, hosts = netloc.rpartition("@")
            user = userinfo.partition(":")[0]
            netloc = f"{user}@{hosts}" if user else hosts
        path, _, query = match["rest"].partition("?")
        kept = [
            item
            for item in query.split("&")
            if item and urllib.parse.unquote(item.partition("=")[0]) not in _SECRET_PARAMS
        ]
        query = "&".join(kept)
        return f"{match['scheme']}{netloc}{path}{'?' if query else ''}{query}"
    return str(
        _psycopg().conninfo.make_conninfo(
            **{k: v for k, v in params.items() if k not in _SECRET_PARAMS}
        )
    )


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


def _location(url: str) -> tuple[str, str, str]:
    """(host, port, dbname) as libpq resolves them, defaults included."""
    params = _parse(url)
    host = params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST") or "localhost"
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    user = params.get("user") or os.environ.get("PGUSER") or ""
    dbname = params.get("dbname") or os.environ.get("PGDATABASE") or user
    return host, port, dbname


# ---------------------------------------------------------------------------------------------
# Names, types and values


def _check_identifier(what: str, name: str) -> None:
    if not isinstance(name, str) or not name:
        raise PostgresTargetError(f"{what} must be a non-empty string, got {name!r}")
    if "\x00" in name:
        raise PostgresTargetError(f"{what} {name!r} contains a NUL character")
    if len(name.encode("utf-8")) > _MAX_IDENTIFIER_BYTES:
        raise PostgresTargetError(
            f"{what} {name!r} is longer than {_MAX_IDENTIFIER_BYTES} bytes; PostgreSQL would "
            f"truncate it"
        )


def _check_type(field: str, sql_type: str) -> str:
    if not isinstance(sql_type, str) or not _TYPE.match(sql_type.strip()):
        raise PostgresTargetError(
            f"column_types[{field!r}] = {sql_type!r} is not an SQL type name such as 'text', "
            f"'bigint', 'numeric(10, 2)', 'text[]' or 'vector(384)'"
        )
    return " ".join(sql_type.split())


def _is_json_type(sql_type: str) -> bool:
    return sql_type.lower() in ("json", "jsonb")


def _json_default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    raise TypeError(f"a value of type {type(value).__name__} cannot be stored as JSON")


_dumps = functools.partial(json.dumps, default=_json_default, ensure_ascii=False)


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
        return wrapper(value, dumps=_dumps)
    if isinstance(value, dict) or (dataclasses.is_dataclass(value) and not isinstance(value, type)):
        return _dumps(value)  # as JSON text, castable to json by the server
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


@contextmanager
def _masked(url: str) -> Iterator[None]:
    """Re-raise driver errors with any password masked (and without the original chained)."""
    driver = _psycopg()
    try:
        yield
    except driver.Error as exc:
        message = mask_password(f"{type(exc).__name__}: {exc}".strip(), url)
        raise PostgresTargetError(message) from None


def _connect(url: str) -> psycopg.Connection[Any]:
    driver = _psycopg()
    with _masked(url):
        conn: psycopg.Connection[Any] = driver.connect(url, autocommit=True)
    return conn


_connections: dict[str, psycopg.Connection[Any]] = {}
_connections_lock = threading.Lock()


def _shared_connection(url: str) -> psycopg.Connection[Any]:
    """One connection per URL for the process's runs, opened again if it was lost."""
    with _connections_lock:
        conn = _connections.get(url)
        if conn is None or conn.closed or conn.broken:
            conn = _connections[url] = _connect(url)
        return conn


@atexit.register
def _close_connections() -> None:
    with _connections_lock:
        for conn in _connections.values():
            conn.close()
        _connections.clear()


# ---------------------------------------------------------------------------------------------
# DDL


def _table_name(schema: str, table: str) -> sql.Identifier:
    from psycopg import sql

    return sql.Identifier(schema, table)


def _column_list(columns: Iterable[str]) -> sql.Composed:
    from psycopg import sql

    return sql.SQL(", ").join(sql.Identifier(c) for c in columns)


def _catalog_columns(
    conn: psycopg.Connection[Any], schema: str, table: str
) -> tuple[dict[str, str], list[str]] | None:
    """(column -> type as PostgreSQL spells it, primary key columns in order), or ``None``."""
    found = conn.execute(
        "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')",
        (schema, table),
    ).fetchone()
    if found is None:
        return None
    oid = found[0]
    columns = conn.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        (oid,),
    ).fetchall()
    primary_key = conn.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
        "ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) "
        "WHERE i.indrelid = %s AND i.indisprimary "
        "ORDER BY array_position(i.indkey::int2[], a.attnum)",
        (oid,),
    ).fetchall()
    return {str(n): str(t) for n, t in columns}, [str(n) for (n,) in primary_key]


def _canonical_types(conn: psycopg.Connection[Any], types: dict[str, str]) -> dict[str, str]:
    """The declared types as PostgreSQL spells them (``int8`` -> ``bigint``), read from a
    temporary table inside the current transaction."""
    from psycopg import sql

    names = list(types)
    conn.execute(
        sql.SQL("CREATE TEMPORARY TABLE pg_temp.cocotui_types ({}) ON COMMIT DROP").format(
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(f"c{i}"), sql.SQL(types[name]))
                for i, name in enumerate(names)
            )
        )
    )
    rows = conn.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'pg_temp.cocotui_types'::regclass AND attnum > 0 ORDER BY attnum"
    ).fetchall()
    conn.execute("DROP TABLE pg_temp.cocotui_types")
    return {name: str(t) for name, (t,) in zip(names, rows, strict=True)}


def _create_table(conn: psycopg.Connection[Any], state: PostgresTableState) -> None:
    from psycopg import sql

    columns = {**state.key_columns, **state.value_columns}
    conn.execute(
        sql.SQL("CREATE TABLE {} ({}, PRIMARY KEY ({}))").format(
            _table_name(state.schema, state.table),
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in columns.items()
            ),
            _column_list(state.key_columns),
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

    table = _table_name(current.schema, current.table)
    has_schema = conn.execute(
        "SELECT 1 FROM pg_namespace WHERE nspname = %s", (current.schema,)
    ).fetchone()
    if has_schema is None:
        conn.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(current.schema))
        )
    catalog = _catalog_columns(conn, current.schema, current.table)
    if catalog is None:
        _create_table(conn, current)
        return
    existing, primary_key = catalog
    wanted = _canonical_types(conn, {**current.key_columns, **current.value_columns})
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
    host, port, dbname = _location(url)
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
        _check_identifier("PostgresTable.schema", spec.schema)
        _check_identifier("PostgresTable.table", spec.table)
        host, port, dbname = _location(_spec_url(spec))
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
            _check_identifier("field name", name)

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
        with _masked(url), closing(_connect(url)) as conn, conn.transaction():
            if current is None:
                table = _table_name(key["schema"], key["table"])
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
            else:
                _converge(conn, previous, current)

    @staticmethod
    def prepare(spec: PostgresTable, setup_state: PostgresTableState) -> PreparedPostgresTable:
        from psycopg import sql

        url = _spec_url(spec)
        _shared_connection(url)  # connect once per run, and fail early
        keys = list(setup_state.key_columns)
        values = list(setup_state.value_columns)
        table = _table_name(setup_state.schema, setup_state.table)
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
            _column_list([*keys, *values]),
            sql.SQL(", ").join(sql.Placeholder() for _ in (*keys, *values)),
            _column_list(keys),
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
            conn = _shared_connection(url)
            with _masked(url), conn.transaction(), conn.cursor() as cursor:
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
