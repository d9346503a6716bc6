"""The connector of v0's ``targets.Postgres``, written against cocotui's public API."""

from __future__ import annotations

from contextlib import closing
from typing import Any

import cocotui
from cocotui.engine_type import FieldSchema
from cocotui.index import IndexOptions

from ..postgres_common import (
    PostgresTargetError,
    connect,
    location,
    masked_errors,
    shared_connection,
)
from . import columns, data, setup
from .columns import PostgresSetupState
from .data import PreparedPostgres
from .spec import (
    DATABASE_URL_ENV,
    Postgres,
    PostgresTableId,
    column_option,
    conninfo,
    qualified_name,
    table_id,
)

Compatibility = cocotui.op.TargetStateCompatibility


def _database_text(key: PostgresTableId) -> str:
    source = f"auth entry {key['database']!r}" if "database" in key else DATABASE_URL_ENV
    try:
        host, port, dbname = location(conninfo(key.get("database")))
    except PostgresTargetError:
        return source
    return f"{dbname} on {host}:{port}, from {source}"


@cocotui.op.target_connector(spec_cls=Postgres, setup_state_cls=PostgresSetupState)
class PostgresConnector:
    @staticmethod
    def get_persistent_key(
        spec: Postgres, target_name: str, flow_name: str | None = None
    ) -> PostgresTableId:
        return table_id(spec, target_name, flow_name)

    @staticmethod
    def get_setup_state(
        spec: Postgres,
        key_fields_schema: list[FieldSchema],
        value_fields_schema: list[FieldSchema],
        index_options: IndexOptions,
    ) -> PostgresSetupState:
        return columns.setup_state(
            key_fields_schema,
            value_fields_schema,
            index_options,
            lambda field: column_option(spec, field),
        )

    @staticmethod
    def describe(key: PostgresTableId) -> str:
        return f"Postgres table {qualified_name(key)} (database: {_database_text(key)})"

    @staticmethod
    def check_state_compatibility(
        desired: PostgresSetupState, existing: PostgresSetupState
    ) -> cocotui.op.TargetStateCompatibility:
        if list(desired.key_columns.items()) != list(existing.key_columns.items()):
            return Compatibility.NOT_COMPATIBLE  # the table is dropped and created again
        if any(desired.value_columns.get(c) != t for c, t in existing.value_columns.items()):
            return Compatibility.PARTIALLY_COMPATIBLE  # re-created columns are filled again
        return Compatibility.COMPATIBLE

    @staticmethod
    def apply_setup_change(
        key: PostgresTableId,
        previous: PostgresSetupState | None,
        current: PostgresSetupState | None,
    ) -> None:
        if previous is None and current is None:
            return
        info = conninfo(key.get("database"))
        with masked_errors(info), closing(connect(info)) as conn, conn.transaction():
            if current is None:
                setup.drop_table(conn, key)
            else:
                setup.converge(conn, key, previous, current)

    @staticmethod
    def prepare(
        spec: Postgres,
        setup_state: PostgresSetupState,
        key_fields_schema: list[FieldSchema],
        value_fields_schema: list[FieldSchema],
        persistent_key: PostgresTableId,
    ) -> PreparedPostgres:
        info = conninfo(persistent_key.get("database"))
        shared_connection(info)  # connect once per run, and fail early
        return data.prepare(
            qualified_name(persistent_key),
            setup.table_identifier(persistent_key),
            setup_state,
            info,
        )

    @staticmethod
    def mutate(*all_mutations: tuple[PreparedPostgres, dict[Any, dict[str, Any] | None]]) -> None:
        by_database: dict[str, list[tuple[PreparedPostgres, dict[Any, Any]]]] = {}
        for target, rows in all_mutations:
            by_database.setdefault(target.conninfo, []).append((target, rows))
        for info, batches in by_database.items():
            encoded = [_encode(target, rows) for target, rows in batches]  # row errors first
            conn = shared_connection(info)
            data.register_vector_dumper(conn)
            with masked_errors(info), conn.transaction(), conn.cursor() as cursor:
                for (target, _), (upserts, _) in zip(batches, encoded, strict=True):
                    if upserts:
                        cursor.executemany(target.upsert, upserts)
                for (target, _), (_, deletes) in zip(batches, encoded, strict=True):
                    if deletes:
                        cursor.executemany(target.delete, deletes)


def _encode(
    target: PreparedPostgres, rows: dict[Any, dict[str, Any] | None]
) -> tuple[list[list[Any]], list[list[Any]]]:
    upserts: list[list[Any]] = []
    deletes: list[list[Any]] = []
    for key, value in rows.items():
        if value is None:
            deletes.append(target.key_params(key))  # deleting a missing row is a no-op
        else:
            upserts.append(target.row_params(key, value))
    return upserts, deletes
