"""The spec of v0's ``targets.Postgres``, its persistent key, and where its table lives: the table
name (given, or derived from the flow and target names as v0 derives it) and the connection (an
auth entry holding a :class:`~cocotui.setting.DatabaseConnectionSpec`, else the URL in
``COCOINDEX_DATABASE_URL``)."""

from __future__ import annotations

import dataclasses
import os
import re
from typing import Any, Literal, NotRequired, TypedDict

import cocotui
from cocotui.auth_registry import AuthEntryError, AuthEntryReference, get_auth_entry
from cocotui.setting import DatabaseConnectionSpec, get_app_namespace

from ..postgres_common import PostgresTargetError, check_identifier, psycopg_driver

DATABASE_URL_ENV = "COCOINDEX_DATABASE_URL"
DATABASE_USER_ENV = "COCOINDEX_DATABASE_USER"
DATABASE_PASSWORD_ENV = "COCOINDEX_DATABASE_PASSWORD"

ColumnTypeOption = Literal["vector", "halfvec"]


@dataclasses.dataclass
class PostgresColumnOptions:
    """Options for one column: ``type`` stores a vector field as ``vector`` (the default) or
    ``halfvec`` (half precision, half the size)."""

    type: ColumnTypeOption | None = None


class Postgres(cocotui.op.TargetSpec):
    """A PostgreSQL table (with pgvector for vector fields), laid out as CocoIndex v0 lays it."""

    #: The database; without it, the URL in ``COCOINDEX_DATABASE_URL``.
    database: AuthEntryReference[DatabaseConnectionSpec] | None = None
    #: The table; by default ``<flow name>__<target name>`` (folded to lower case).
    table_name: str | None = None
    #: The table's schema (created when missing); by default the search path's first.
    schema: str | None = None
    #: Options per field name.
    column_options: dict[str, PostgresColumnOptions] | None = None


class PostgresTableId(TypedDict):
    """The persistent key, as v0's: the auth entry key of the database (absent for the
    environment's URL), the schema (absent for the default) and the table name."""

    database: NotRequired[str]
    schema: NotRequired[str]
    table_name: str


_V0_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NOT_IN_NAME = re.compile(r"[^\w]")


def _check_v0_identifier(what: str, name: str) -> None:
    if not isinstance(name, str) or not _V0_IDENTIFIER.match(name):
        raise PostgresTargetError(
            f"targets.Postgres {what} {name!r} must be letters, digits and underscores, not "
            f"starting with a digit"
        )
    check_identifier(f"targets.Postgres {what}", name)


def default_table_name(flow_name: str, target_name: str) -> str:
    """v0's default: the flow's full name (``namespace.flow``) and the target name joined by
    ``__``, each character that is not a letter, digit or underscore replaced by ``__``."""
    full_flow_name = get_app_namespace(trailing_delimiter=".") + flow_name
    return _NOT_IN_NAME.sub("__", f"{full_flow_name}__{target_name}")


def table_id(spec: Postgres, target_name: str, flow_name: str | None) -> PostgresTableId:
    if spec.table_name is not None:
        _check_v0_identifier("table_name", spec.table_name)
        table_name = spec.table_name
    elif spec.schema is not None:
        raise PostgresTargetError(
            f"targets.Postgres target '{target_name}': when 'schema' is given, 'table_name' "
            f"must be given too (v0 derives no table name in a custom schema)"
        )
    elif flow_name is None:
        raise PostgresTargetError(
            "targets.Postgres without table_name needs the flow name to derive one"
        )
    else:
        table_name = default_table_name(flow_name, target_name)
        check_identifier("targets.Postgres default table name", table_name)
    key: PostgresTableId = {"table_name": table_name}
    if spec.schema is not None:
        _check_v0_identifier("schema", spec.schema)
        key["schema"] = spec.schema
    if spec.database is not None:
        key["database"] = spec.database.key
    return key


def pg_table_name(key: PostgresTableId) -> str:
    """The table's name in the catalog: v0 writes it unquoted, so PostgreSQL folds it to lower
    case."""
    return fold_case(key["table_name"])


def fold_case(name: str) -> str:
    """An unquoted identifier as PostgreSQL stores it (ASCII letters lower-cased)."""
    return name.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def qualified_name(key: PostgresTableId) -> str:
    table = pg_table_name(key)
    return f"{key['schema']}.{table}" if "schema" in key else table


def connection_spec(database_key: str | None) -> DatabaseConnectionSpec:
    """The connection spec of the auth entry, or the one the environment gives."""
    if database_key is not None:
        try:
            return get_auth_entry(DatabaseConnectionSpec, AuthEntryReference(database_key))
        except AuthEntryError as exc:
            raise PostgresTargetError(f"targets.Postgres database: {exc}") from None
    url = os.environ.get(DATABASE_URL_ENV)
    if not url:
        raise PostgresTargetError(
            f"targets.Postgres has no database: give database=cocoindex.add_auth_entry(key, "
            f"cocoindex.DatabaseConnectionSpec(url=...)) or set {DATABASE_URL_ENV}"
        )
    return DatabaseConnectionSpec(
        url, os.environ.get(DATABASE_USER_ENV), os.environ.get(DATABASE_PASSWORD_ENV)
    )


def conninfo(database_key: str | None) -> str:
    """The libpq connection string (it may hold the password: never store or show it)."""
    spec = connection_spec(database_key)
    overrides: dict[str, Any] = {}
    if spec.user is not None:
        overrides["user"] = spec.user
    if spec.password is not None:
        overrides["password"] = spec.password
    if not overrides:
        return spec.url
    return str(psycopg_driver().conninfo.make_conninfo(spec.url, **overrides))


def column_option(spec: Postgres, field: str) -> ColumnTypeOption | None:
    """The ``type`` option of ``field``, whether the app gave a PostgresColumnOptions or a dict."""
    option: Any = (spec.column_options or {}).get(field)
    if option is None:
        return None
    chosen = option.get("type") if isinstance(option, dict) else option.type
    if chosen not in (None, "vector", "halfvec"):
        raise PostgresTargetError(
            f"targets.Postgres column_options[{field!r}].type must be 'vector' or 'halfvec', "
            f"got {chosen!r}"
        )
    typed: ColumnTypeOption | None = chosen
    return typed
