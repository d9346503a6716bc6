"""A v0-style vector-table connector that uses the typed half of the contract the way
CocoIndex v0's own LanceDB and ChromaDB connectors do: written against ``cocoindex`` (which
resolves to cocotui inside a loaded app), it builds its table's columns from the field types,
keeps ``FieldSchema`` objects and index definitions in its setup state, and decides on
compatibility from them. Everything it sees is recorded in module globals for the tests."""

from __future__ import annotations

import dataclasses
from typing import Any

from cocoindex import op
from cocoindex.engine_type import (
    BasicValueType,
    EnrichedValueType,
    FieldSchema,
    StructType,
    TableType,
)
from cocoindex.index import (
    HnswVectorIndexMethod,
    IndexOptions,
    IvfFlatVectorIndexMethod,
    VectorIndexMethod,
    VectorSimilarityMetric,
)


class VecTable(op.TargetSpec):
    table: str


@dataclasses.dataclass
class _VectorIndex:
    name: str
    field_name: str
    metric: VectorSimilarityMetric
    method: VectorIndexMethod | None = None


@dataclasses.dataclass
class _FtsIndex:
    name: str
    field_name: str
    parameters: dict[str, Any] | None = None


@dataclasses.dataclass
class _State:
    key_field_schema: FieldSchema
    value_fields_schema: list[FieldSchema]
    vector_indexes: list[_VectorIndex] | None = None
    fts_indexes: list[_FtsIndex] | None = None


#: Each get_setup_state call: (key fields, value fields, index options).
SETUP_CALLS: list[tuple[list[FieldSchema], list[FieldSchema], IndexOptions]] = []
#: Each apply_setup_change call: (key, previous, current).
APPLIED: list[tuple[Any, Any, Any]] = []
#: Each check_state_compatibility call: (desired, existing).
COMPATIBILITY_CALLS: list[tuple[Any, Any]] = []
#: The "database": table name -> {"columns", "vector_indexes", "fts_indexes", "rows"}.
TABLES: dict[str, dict[str, Any]] = {}


def column_type(value_type: EnrichedValueType) -> str:
    """A column type, as a vector database would derive it from a field type."""
    base = value_type.type
    if isinstance(base, StructType):
        text = "struct<" + ", ".join(f"{f.name}: {column_type(f.value_type)}" for f in base.fields)
        text += ">"
    elif isinstance(base, TableType):
        row = ", ".join(f"{f.name}: {column_type(f.value_type)}" for f in base.row.fields)
        text = f"list<struct<{row}>>"
    elif isinstance(base, BasicValueType) and base.kind == "Vector":
        assert base.vector is not None
        element = base.vector.element_type.kind.lower()
        size = "" if base.vector.dimension is None else f", {base.vector.dimension}"
        text = f"fixed_list<{element}{size}>"
    else:
        assert isinstance(base, BasicValueType)
        text = base.kind.lower()
    return text + (" null" if value_type.nullable else "")


def _method_text(method: VectorIndexMethod | None) -> str:
    if isinstance(method, HnswVectorIndexMethod):
        return f"hnsw(m={method.m}, ef_construction={method.ef_construction})"
    if isinstance(method, IvfFlatVectorIndexMethod):
        return f"ivfflat(lists={method.lists})"
    return "default"


@op.target_connector(spec_cls=VecTable, persistent_key_type=str, setup_state_cls=_State)
class _Connector:
    @staticmethod
    def get_persistent_key(spec: VecTable) -> str:
        return spec.table

    @staticmethod
    def get_setup_state(
        spec: VecTable,
        key_fields_schema: list[FieldSchema],
        value_fields_schema: list[FieldSchema],
        index_options: IndexOptions,
    ) -> _State:
        SETUP_CALLS.append((key_fields_schema, value_fields_schema, index_options))
        if len(key_fields_schema) != 1:
            raise ValueError("VecTable supports a single key field")
        return _State(
            key_field_schema=key_fields_schema[0],
            value_fields_schema=value_fields_schema,
            vector_indexes=[
                _VectorIndex(
                    f"__{i.field_name}__{i.metric.value}__idx", i.field_name, i.metric, i.method
                )
                for i in index_options.vector_indexes
            ]
            or None,
            fts_indexes=[
                _FtsIndex(f"__{i.field_name}__fts__idx", i.field_name, i.parameters)
                for i in index_options.fts_indexes
            ]
            or None,
        )

    @staticmethod
    def describe(key: str) -> str:
        return f"vector table {key}"

    @staticmethod
    def check_state_compatibility(desired: _State, existing: _State) -> op.TargetStateCompatibility:
        COMPATIBILITY_CALLS.append((desired, existing))
        if desired.key_field_schema != existing.key_field_schema:
            return op.TargetStateCompatibility.NOT_COMPATIBLE
        old = {f.name: f.value_type for f in existing.value_fields_schema}
        for field in desired.value_fields_schema:
            if field.name in old and old[field.name] != field.value_type:
                return op.TargetStateCompatibility.NOT_COMPATIBLE  # the column is rebuilt
        return op.TargetStateCompatibility.COMPATIBLE  # indexes change in place

    @staticmethod
    def apply_setup_change(key: str, previous: _State | None, current: _State | None) -> None:
        APPLIED.append((key, previous, current))
        if current is None:
            TABLES.pop(key, None)
            return
        fields = [current.key_field_schema, *current.value_fields_schema]
        table = TABLES.setdefault(key, {"rows": {}})
        table["columns"] = {f.name: column_type(f.value_type) for f in fields}
        table["vector_indexes"] = {
            i.name: f"{i.field_name} {i.metric.name} {_method_text(i.method)}"
            for i in current.vector_indexes or []
        }
        table["fts_indexes"] = {
            i.name: f"{i.field_name} {i.parameters or {}}" for i in current.fts_indexes or []
        }

    @staticmethod
    def mutate(*all_mutations: tuple[VecTable, dict[Any, dict[str, Any] | None]]) -> None:
        for spec, mutations in all_mutations:
            rows = TABLES[spec.table]["rows"]
            for key, value in mutations.items():
                if value is None:
                    rows.pop(key, None)
                else:
                    rows[key] = value


def reset() -> None:
    for log in (SETUP_CALLS, APPLIED, COMPATIBILITY_CALLS):
        log.clear()
    TABLES.clear()
