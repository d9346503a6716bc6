"""How v0's ``targets.Postgres`` maps field types to column types and index options to pgvector
indexes, and the setup state built from them (column -> SQL type, index name -> definition)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from cocotui.engine_type import BasicValueType, FieldSchema, VectorTypeSchema
from cocotui.index import (
    HnswVectorIndexMethod,
    IndexOptions,
    IvfFlatVectorIndexMethod,
    VectorIndexDef,
    VectorSimilarityMetric,
)

from ..postgres_common import PostgresTargetError, check_identifier
from .spec import ColumnTypeOption, fold_case

_BASIC_TYPES = {
    "Bytes": "bytea",
    "Str": "text",
    "Bool": "boolean",
    "Int64": "bigint",
    "Float32": "real",
    "Float64": "double precision",
    "Range": "int8range",
    "Uuid": "uuid",
    "Date": "date",
    "Time": "time",
    "LocalDateTime": "timestamp",
    "OffsetDateTime": "timestamp with time zone",
    "TimeDelta": "interval",
    "Json": "jsonb",
    "Union": "jsonb",
}
_PGVECTOR_ELEMENTS = ("Float32", "Float64", "Int64")
_OPCLASS_SUFFIX = {
    VectorSimilarityMetric.COSINE_SIMILARITY: "cosine_ops",
    VectorSimilarityMetric.L2_DISTANCE: "l2_ops",
    VectorSimilarityMetric.INNER_PRODUCT: "ip_ops",
}


@dataclasses.dataclass(frozen=True)
class PostgresSetupState:
    """What the table must look like: columns in order (name -> SQL type; the key columns are
    the primary key) and the vector indexes (name after ``<table>__`` -> ``USING ...``
    definition). A plan shows a change of any of them as a diff."""

    key_columns: dict[str, str]
    value_columns: dict[str, str]
    vector_indexes: dict[str, str]

    def uses_pgvector(self) -> bool:
        return any(is_pgvector_type(t) for t in self.value_columns.values())


def is_pgvector_type(sql_type: str) -> bool:
    return sql_type.startswith(("vector(", "halfvec("))


def pgvector_schema(basic: BasicValueType) -> VectorTypeSchema | None:
    """The vector schema when pgvector can store it: numbers, with a fixed dimension."""
    vector = basic.vector
    if basic.kind != "Vector" or vector is None or vector.dimension is None:
        return None
    return vector if vector.element_type.kind in _PGVECTOR_ELEMENTS else None


def column_type(field: FieldSchema, option: ColumnTypeOption | None) -> str:
    """v0's column type of a field: its basic kind's SQL type, ``vector(N)`` (or ``halfvec(N)``)
    for a vector of numbers of fixed size, ``jsonb`` for anything else (structs, tables, other
    vectors)."""
    base = field.value_type.type
    vector = pgvector_schema(base) if isinstance(base, BasicValueType) else None
    if option is not None:
        if vector is None:
            raise PostgresTargetError(
                f"targets.Postgres column_options[{field.name!r}].type = {option!r} needs a "
                f"vector of numbers with a fixed dimension, but field '{field.name}' is "
                f"{field.value_type}"
            )
        return f"{option}({vector.dimension})"
    if vector is not None:
        return f"vector({vector.dimension})"
    if isinstance(base, BasicValueType):
        return _BASIC_TYPES.get(base.kind, "jsonb")
    return "jsonb"


def _opclass(metric: VectorSimilarityMetric, sql_type: str) -> str:
    prefix = "halfvec" if sql_type.startswith("halfvec(") else "vector"
    return f"{prefix}_{_OPCLASS_SUFFIX[metric]}"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def index_definition(index: VectorIndexDef, sql_type: str) -> str:
    """``USING hnsw ("field" vector_cosine_ops) WITH (m = 16)``, as v0 writes it (HNSW when
    the index names no method)."""
    options: list[str] = []
    method = index.method
    if isinstance(method, IvfFlatVectorIndexMethod):
        kind = "ivfflat"
        if method.lists is not None:
            options.append(f"lists = {int(method.lists)}")
    else:
        kind = "hnsw"
        if isinstance(method, HnswVectorIndexMethod):
            if method.m is not None:
                options.append(f"m = {int(method.m)}")
            if method.ef_construction is not None:
                options.append(f"ef_construction = {int(method.ef_construction)}")
    with_clause = f" WITH ({', '.join(options)})" if options else ""
    opclass = _opclass(index.metric, sql_type)
    return f"USING {kind} ({_quoted(index.field_name)} {opclass}){with_clause}"


def index_suffix(index: VectorIndexDef, sql_type: str) -> str:
    """v0's index name after ``<table>__``: ``<field>__<opclass>[__<method>]``."""
    name = f"{index.field_name}__{_opclass(index.metric, sql_type)}"
    if index.method is not None:
        name += f"__{index.method.kind.lower()}"
    return name


def catalog_index_name(table_name: str, suffix: str) -> str:
    """The index name as the catalog holds it: ``<table>__<suffix>`` folded (v0 writes it
    unquoted) and cut to 63 bytes, as PostgreSQL cuts longer names."""
    name = fold_case(f"{table_name}__{suffix}")
    return name.encode("utf-8")[:63].decode("utf-8", errors="ignore")


def setup_state(
    key_fields: list[FieldSchema],
    value_fields: list[FieldSchema],
    index_options: IndexOptions,
    option_of: Callable[[str], ColumnTypeOption | None],
) -> PostgresSetupState:
    if not key_fields:
        raise PostgresTargetError("targets.Postgres needs at least one primary key field")
    if index_options.fts_indexes:
        raise PostgresTargetError(
            "targets.Postgres does not support full-text-search indexes (fts_indexes), as in "
            "v0; create such an index in SQL yourself"
        )
    for field in (*key_fields, *value_fields):
        check_identifier("targets.Postgres field name", field.name)
    key_columns = {f.name: column_type(f, option_of(f.name)) for f in key_fields}
    value_columns = {f.name: column_type(f, option_of(f.name)) for f in value_fields}
    columns = {**key_columns, **value_columns}
    indexes: dict[str, str] = {}
    for index in index_options.vector_indexes:
        sql_type = columns[index.field_name]
        if not is_pgvector_type(sql_type):
            raise PostgresTargetError(
                f"targets.Postgres vector index on '{index.field_name}': the field is stored "
                f"as {sql_type}, not as a pgvector vector (it must be a Vector of numbers with "
                f"a fixed dimension, e.g. Vector[Float32, 384])"
            )
        indexes[index_suffix(index, sql_type)] = index_definition(index, sql_type)
    return PostgresSetupState(key_columns, value_columns, indexes)
