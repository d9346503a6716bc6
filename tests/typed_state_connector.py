"""A connector shaped like CocoIndex v0's LanceDB one, without LanceDB: a dataclass persistent key
(``_TableKey``), a dataclass setup state (``_State``) with nested field schemas, enums, lists,
dicts, optional fields, a union told apart by ``kind`` and an ``AuthEntryReference``; a spec with
nested dataclass fields. Every call is logged (as the ``repr`` of its arguments, which names
their classes at every depth) to ``typed_calls.jsonl`` beside this file."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
from pathlib import Path
from typing import Any, NamedTuple

import cocotui as cocoindex
from cocotui.auth_registry import AuthEntryReference
from cocotui.op import FieldSchema, IndexOptions, TargetStateCompatibility

LOG = Path(__file__).with_name("typed_calls.jsonl")


def log(method: str, *args: Any) -> None:
    with LOG.open("a", encoding="utf-8") as f:
        f.write(json.dumps({"method": method, "args": [repr(a) for a in args]}) + "\n")


class Metric(enum.Enum):
    COSINE = "CosineSimilarity"
    L2 = "L2Distance"


@dataclasses.dataclass
class Hnsw:
    kind: str = "Hnsw"
    m: int | None = None


@dataclasses.dataclass
class IvfFlat:
    kind: str = "IvfFlat"
    lists: int | None = None


@dataclasses.dataclass
class IndexSpec:
    field_name: str
    metric: Metric
    method: Hnsw | IvfFlat | None = None


@dataclasses.dataclass
class Credentials:
    user: str
    password: str


@dataclasses.dataclass
class DbOptions:
    storage: dict[str, str] | None = None
    timeout: datetime.timedelta | None = None


class TypedTable(cocoindex.op.TargetSpec):
    db_uri: str
    table_name: str
    indexes: list[IndexSpec] | None = None
    options: DbOptions | None = None
    auth: AuthEntryReference[Credentials] | None = None


@dataclasses.dataclass
class _TableKey:
    db_uri: str
    table_name: str


class _ColumnType(NamedTuple):
    kind: str
    dimension: int | None = None


@dataclasses.dataclass(frozen=True)
class _Field:
    name: str
    type: _ColumnType
    nullable: bool = False


@dataclasses.dataclass
class _VectorIndex:
    name: str
    field_name: str
    metric: Metric
    method: Hnsw | IvfFlat | None = None


@dataclasses.dataclass
class _State:
    key_field_schema: _Field
    value_fields_schema: list[_Field]
    vector_indexes: list[_VectorIndex] | None = None
    options: DbOptions | None = None
    auth: AuthEntryReference[Credentials] | None = None
    columns: dict[str, _Field] = dataclasses.field(default_factory=dict)


def expected_state(spec: TypedTable, key_field: str, value_fields: list[str]) -> _State:
    """What ``get_setup_state`` returns for ``spec`` (tests compare against it)."""
    values = [_Field(name, _ColumnType("Str"), nullable=True) for name in value_fields]
    return _State(
        key_field_schema=_Field(key_field, _ColumnType("Str")),
        value_fields_schema=values,
        vector_indexes=[
            _VectorIndex(f"{spec.table_name}__{i.field_name}", i.field_name, i.metric, i.method)
            for i in spec.indexes or []
        ]
        or None,
        options=spec.options,
        auth=spec.auth,
        columns={f.name: f for f in values},
    )


@cocoindex.op.target_connector(
    spec_cls=TypedTable, persistent_key_type=_TableKey, setup_state_cls=_State
)
class _Connector:
    @staticmethod
    def get_persistent_key(spec: TypedTable, target_name: str) -> _TableKey:
        return _TableKey(spec.db_uri, spec.table_name)

    @staticmethod
    def get_setup_state(
        spec: TypedTable,
        key_fields_schema: list[FieldSchema],
        value_fields_schema: list[FieldSchema],
        index_options: IndexOptions,
    ) -> _State:
        [key_field] = key_fields_schema
        return expected_state(spec, key_field.name, [f.name for f in value_fields_schema])

    @staticmethod
    def describe(key: _TableKey) -> str:
        log("describe", key)
        return f"Typed table {key.table_name} in {key.db_uri}"

    @staticmethod
    def check_state_compatibility(desired: _State, existing: _State) -> TargetStateCompatibility:
        log("check_state_compatibility", desired, existing)
        if desired.key_field_schema != existing.key_field_schema:
            return TargetStateCompatibility.NOT_COMPATIBLE
        return TargetStateCompatibility.COMPATIBLE

    @staticmethod
    def apply_setup_change(key: _TableKey, previous: _State | None, current: _State | None) -> None:
        log("apply_setup_change", key, previous, current)

    @staticmethod
    def mutate(*all_mutations: tuple[TypedTable, dict[str, dict[str, Any] | None]]) -> None:
        pass


class _SpecKey(NamedTuple):
    bucket: str
    prefix: str


class SpecStateTable(cocoindex.op.TargetSpec):
    """A spec that is its own setup state (no ``get_setup_state``), with nested fields."""

    bucket: str
    prefix: str
    index: IndexSpec
    default_metric: Metric = Metric.COSINE
    options: DbOptions | None = None
    auth: AuthEntryReference[Credentials] | None = None


@cocoindex.op.target_connector(spec_cls=SpecStateTable, persistent_key_type=_SpecKey)
class _SpecStateConnector:
    @staticmethod
    def get_persistent_key(spec: SpecStateTable, target_name: str) -> _SpecKey:
        return _SpecKey(spec.bucket, spec.prefix)

    @staticmethod
    def describe(key: _SpecKey) -> str:
        log("describe", key)
        return f"Bucket {key.bucket}/{key.prefix}"

    @staticmethod
    def apply_setup_change(
        key: _SpecKey, previous: SpecStateTable | None, current: SpecStateTable | None
    ) -> None:
        log("apply_setup_change", key, previous, current)

    @staticmethod
    def mutate(*all_mutations: tuple[SpecStateTable, dict[str, dict[str, Any] | None]]) -> None:
        pass
