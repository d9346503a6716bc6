"""CocoIndex v0's ``cocoindex.targets.lancedb.LanceDB``: one LanceDB table row per row.

Laid out as v0.3.39 lays it out (``python/cocoindex/targets/lancedb.py``): one column per key
and value field with v0's Arrow type mapping (``connectors.v0_lancedb_schema``), a BTree index on
the single key column, a vector index per ``VectorIndexDef`` named
``__<field>__<cosine|l2|dot>[_ivf_flat]__idx`` (HNSW-PQ by default, IVF-Flat when asked) and an
FTS index per ``FtsIndexDef`` (its parameters passed to LanceDB's ``FTS``), named
``__<field>__fts__idx``.

A change of the fields is ``NOT_COMPATIBLE``: the table is created again (as v0 does) and every
row exported again. A change of indexes only creates and drops indexes. One departure from v0:
a vector index needs rows to train, so LanceDB cannot build it on an empty table (v0 then fails
the setup); here the setup creates it when the table holds enough rows, else ``mutate`` creates
it as soon as it does. Until then queries scan (same results, slower).

Each ``mutate`` call is one LanceDB ``merge_insert`` (upserts and deletes in one commit), so a
killed run leaves the table as before or after that call. ``connect_async`` is v0's query
helper: an ``AsyncConnection`` to the same database.
"""

from __future__ import annotations

import dataclasses
import datetime
import threading
from collections.abc import Mapping
from typing import Any, Literal, TypedDict

import cocotui
from cocotui.engine_type import FieldSchema
from cocotui.index import (
    HnswVectorIndexMethod,
    IndexOptions,
    IvfFlatVectorIndexMethod,
    VectorIndexMethod,
    VectorSimilarityMetric,
)

from .v0_lancedb_schema import (
    LanceDBTargetError,
    arrow_rows,
    arrow_schema,
    check_identifier,
    sql_literal,
)

_METRIC: dict[VectorSimilarityMetric, Literal["cosine", "l2", "dot"]] = {
    VectorSimilarityMetric.COSINE_SIMILARITY: "cosine",
    VectorSimilarityMetric.L2_DISTANCE: "l2",
    VectorSimilarityMetric.INNER_PRODUCT: "dot",
}
#: Rows LanceDB needs to train a vector index (its PQ codebook has 256 entries).
MIN_ROWS_FOR_VECTOR_INDEX = 256


@dataclasses.dataclass
class DatabaseOptions:
    """Options of the LanceDB connection (``storage_options`` for object stores)."""

    storage_options: dict[str, Any] | None = None


class LanceDB(cocotui.op.TargetSpec):
    """A LanceDB table ``table_name`` in the database at ``db_uri``."""

    db_uri: str
    table_name: str
    db_options: DatabaseOptions | None = None
    #: ``mutate`` compacts the table (``optimize``) after this many calls.
    num_transactions_before_optimize: int = 50


class LanceDBKey(TypedDict):
    db_uri: str
    table_name: str


@dataclasses.dataclass
class LanceVectorIndex:
    name: str
    field_name: str
    metric: VectorSimilarityMetric
    method: VectorIndexMethod | None = None


@dataclasses.dataclass
class LanceFtsIndex:
    name: str
    field_name: str
    parameters: dict[str, Any] | None = None


@dataclasses.dataclass
class LanceDBState:
    """The setup state, as v0's: the fields (their types make the table) and the indexes."""

    key_field_schema: FieldSchema
    value_fields_schema: list[FieldSchema]
    vector_indexes: list[LanceVectorIndex] | None = None
    fts_indexes: list[LanceFtsIndex] | None = None
    db_options: DatabaseOptions | None = None


@dataclasses.dataclass
class PreparedLanceDB:
    table: Any  # lancedb.table.Table
    state: LanceDBState
    num_transactions_before_optimize: int
    applied: int = 0


# ---------------------------------------------------------------------------------------------
# Connections


def _lancedb() -> Any:
    try:
        import lancedb
    except ImportError:
        raise LanceDBTargetError(
            "the LanceDB target needs lancedb: pip install 'cocotui[lancedb]'"
        ) from None
    return lancedb


_connections: dict[str, Any] = {}
_lock = threading.Lock()


def _connect(db_uri: str, options: DatabaseOptions | None) -> Any:
    with _lock:
        conn = _connections.get(db_uri)
        if conn is None:
            storage = options.storage_options if options else None
            conn = _connections[db_uri] = _lancedb().connect(db_uri, storage_options=storage)
        return conn


async def connect_async(
    db_uri: str,
    *,
    db_options: DatabaseOptions | None = None,
    read_consistency_interval: datetime.timedelta | None = None,
) -> Any:
    """v0's query helper: an ``AsyncConnection`` to the database at ``db_uri``."""
    storage = db_options.storage_options if db_options else None
    return await _lancedb().connect_async(
        db_uri, storage_options=storage, read_consistency_interval=read_consistency_interval
    )


# ---------------------------------------------------------------------------------------------
# Indexes


def _vector_index_name(field: str, metric: VectorSimilarityMetric, method: Any) -> str:
    suffix = "_ivf_flat" if isinstance(method, IvfFlatVectorIndexMethod) else ""
    return f"__{field}__{_METRIC[metric]}{suffix}__idx"


def _vector_index_config(index: LanceVectorIndex) -> Any:
    from lancedb.index import HnswPq, IvfFlat

    distance = _METRIC[index.metric]
    method = index.method
    if isinstance(method, IvfFlatVectorIndexMethod):
        return IvfFlat(distance_type=distance, num_partitions=method.lists)
    config = HnswPq(distance_type=distance)
    if isinstance(method, HnswVectorIndexMethod):  # unset parameters keep LanceDB's defaults
        if method.m is not None:
            config.m = method.m
        if method.ef_construction is not None:
            config.ef_construction = method.ef_construction
    return config


def _sync_indexes(table: Any, state: LanceDBState) -> None:
    """Create the indexes ``state`` wants and drop ``__…__idx`` indexes it does not (vector
    indexes only once the table has rows enough to train them)."""
    from lancedb.index import FTS

    existing = {index.name for index in table.list_indices()}
    wanted = {i.name for i in state.vector_indexes or []} | {
        i.name for i in state.fts_indexes or []
    }
    for name in existing:
        if name.startswith("__") and name.endswith("__idx") and name not in wanted:
            table.drop_index(name)
    for fts in state.fts_indexes or []:
        if fts.name not in existing:
            try:
                table.create_index(
                    fts.field_name, config=FTS(**(fts.parameters or {})), name=fts.name
                )
            except (TypeError, ValueError, RuntimeError) as exc:
                raise LanceDBTargetError(f"FTS index on '{fts.field_name}': {exc}") from exc
    missing = [v for v in state.vector_indexes or [] if v.name not in existing]
    if missing and table.count_rows() >= MIN_ROWS_FOR_VECTOR_INDEX:
        for vector in missing:
            table.create_index(
                vector.field_name, config=_vector_index_config(vector), name=vector.name
            )


def _same_fields(a: LanceDBState, b: LanceDBState) -> bool:
    return (
        a.key_field_schema == b.key_field_schema and a.value_fields_schema == b.value_fields_schema
    )


def _open_or_create(conn: Any, name: str, state: LanceDBState, recreate: bool) -> Any:
    """The table with ``state``'s columns: kept when it exists with them, else created anew."""
    from lancedb.index import BTree

    schema = arrow_schema(state.key_field_schema, state.value_fields_schema)
    if not recreate:
        table = _open_table(conn, name)
        if table is not None and table.schema == schema:
            return table
    table = conn.create_table(name, schema=schema, mode="overwrite")
    table.create_index(state.key_field_schema.name, config=BTree())
    return table


def _open_table(conn: Any, name: str) -> Any:
    """The table, or ``None`` when the database has none of that name."""
    try:
        return conn.open_table(name)
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# The connector


@cocotui.op.target_connector(spec_cls=LanceDB, setup_state_cls=LanceDBState)
class LanceDBConnector:
    @staticmethod
    def get_persistent_key(spec: LanceDB, target_name: str) -> LanceDBKey:
        return {"db_uri": spec.db_uri, "table_name": spec.table_name}

    @staticmethod
    def get_setup_state(
        spec: LanceDB,
        key_fields_schema: list[FieldSchema],
        value_fields_schema: list[FieldSchema],
        index_options: IndexOptions,
    ) -> LanceDBState:
        if len(key_fields_schema) != 1:
            raise LanceDBTargetError("LanceDB only supports a single key field")
        check_identifier(key_fields_schema[0].name)
        arrow_schema(key_fields_schema[0], value_fields_schema)  # every type must map
        return LanceDBState(
            key_field_schema=key_fields_schema[0],
            value_fields_schema=list(value_fields_schema),
            db_options=spec.db_options,
            vector_indexes=[
                LanceVectorIndex(
                    _vector_index_name(i.field_name, i.metric, i.method),
                    i.field_name,
                    i.metric,
                    i.method,
                )
                for i in index_options.vector_indexes
            ],
            fts_indexes=[
                LanceFtsIndex(f"__{i.field_name}__fts__idx", i.field_name, i.parameters)
                for i in index_options.fts_indexes
            ],
        )

    @staticmethod
    def describe(key: LanceDBKey) -> str:
        return f"LanceDB table {key['table_name']}@{key['db_uri']}"

    @staticmethod
    def check_state_compatibility(
        desired: LanceDBState, existing: LanceDBState
    ) -> cocotui.op.TargetStateCompatibility:
        if _same_fields(desired, existing):
            return cocotui.op.TargetStateCompatibility.COMPATIBLE
        return cocotui.op.TargetStateCompatibility.NOT_COMPATIBLE

    @staticmethod
    def apply_setup_change(
        key: LanceDBKey, previous: LanceDBState | None, current: LanceDBState | None
    ) -> None:
        latest = current or previous
        if latest is None:
            return
        conn = _connect(key["db_uri"], latest.db_options)
        if current is None:
            conn.drop_table(key["table_name"], ignore_missing=True)
            return
        recreate = previous is not None and not _same_fields(previous, current)
        table = _open_or_create(conn, key["table_name"], current, recreate)
        _sync_indexes(table, current)

    @staticmethod
    def prepare(spec: LanceDB, setup_state: LanceDBState) -> PreparedLanceDB:
        table = _connect(spec.db_uri, spec.db_options).open_table(spec.table_name)
        return PreparedLanceDB(table, setup_state, spec.num_transactions_before_optimize)

    @staticmethod
    def mutate(*all_mutations: tuple[PreparedLanceDB, dict[Any, dict[str, Any] | None]]) -> None:
        import pyarrow as pa

        for target, rows in all_mutations:
            state = target.state
            upserts: Mapping[Any, dict[str, Any]] = {k: v for k, v in rows.items() if v is not None}
            schema = arrow_schema(state.key_field_schema, state.value_fields_schema)
            # Converted (and checked) before anything is written: a bad row loses nothing.
            batch = pa.Table.from_pylist(
                arrow_rows(state.key_field_schema, state.value_fields_schema, upserts), schema
            )
            key_name = state.key_field_schema.name
            deleted = [sql_literal(k) for k, v in rows.items() if v is None]
            merge = (
                target.table.merge_insert(key_name)
                .when_matched_update_all()
                .when_not_matched_insert_all()
            )
            if deleted:
                merge = merge.when_not_matched_by_source_delete(
                    f"{key_name} IN ({', '.join(deleted)})"
                )
            merge.execute(batch)
            target.applied += 1
            if target.applied >= target.num_transactions_before_optimize:
                target.table.optimize()
                target.applied = 0
            _sync_indexes(target.table, state)
