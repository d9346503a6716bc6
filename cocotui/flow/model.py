"""The flow model recorded by the builder: row scopes holding ordered operations over
expressions. The evaluator walks it per source row; nothing here runs user code."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from cocotui.engine_type import EnrichedValueType, FieldSchema

if TYPE_CHECKING:
    from cocotui.index import FtsIndexDef, IndexOptions, VectorIndexDef
    from cocotui.op import TargetSpec
    from cocotui.query_handler import QueryHandler


class GeneratedField(enum.Enum):
    """A collected field whose value the engine makes: ``collect(id=GeneratedField.UUID)``."""

    UUID = "Uuid"


@dataclasses.dataclass(frozen=True, eq=False)
class FieldRef:
    """Field ``name`` of the current row of scope ``scope``."""

    scope: RowScope
    name: str


@dataclasses.dataclass(frozen=True, eq=False)
class SubField:
    """Field ``name`` of a struct-valued expression (dataclass attribute or dict key)."""

    base: Expr
    name: str


@dataclasses.dataclass(frozen=True, eq=False)
class Const:
    value: Any


@dataclasses.dataclass(frozen=True, eq=False)
class Call:
    """A transform: ``fn(*args, **kwargs)``, evaluated at most once per row of ``scope``."""

    fn: Callable[..., Any]
    args: tuple[Expr, ...]
    kwargs: tuple[tuple[str, Expr], ...]
    scope: RowScope


@dataclasses.dataclass(frozen=True, eq=False)
class Generated:
    """A value the engine generates when a row is collected (a UUID that stays the same while
    the row's other collected values do)."""

    field: GeneratedField


Expr = FieldRef | SubField | Const | Call | Generated


@dataclasses.dataclass(frozen=True, eq=False)
class Assign:
    name: str
    expr: Expr


@dataclasses.dataclass(eq=False)
class ForEach:
    """Run ``scope`` for every element of the list that ``items`` evaluates to.

    As in v0, fields assigned in ``scope`` become fields of the table's rows: when the flow
    reads the table (or a value holding it) again afterwards, ``write_back`` is set and the
    evaluator replaces the table by its rows with those fields added."""

    items: Expr
    scope: RowScope
    write_back: bool = False


@dataclasses.dataclass(frozen=True, eq=False)
class Collect:
    collector: Collector
    fields: tuple[tuple[str, Expr], ...]


Op = Assign | ForEach | Collect


@dataclasses.dataclass(eq=False)
class RowScope:
    """The operations run for each row of a table (a source or a nested list)."""

    depth: int
    ops: list[Op] = dataclasses.field(default_factory=list)
    #: The type of each field known in the row: the source's or table's fields, then the
    #: fields assigned in this scope.
    field_types: dict[str, EnrichedValueType] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(eq=False)
class Collector:
    index: int
    field_names: tuple[str, ...] | None = None
    field_types: dict[str, EnrichedValueType] = dataclasses.field(default_factory=dict)

    def schema(self, names: tuple[str, ...]) -> list[FieldSchema]:
        return [FieldSchema(name, self.field_types[name]) for name in names]


@dataclasses.dataclass(eq=False)
class Source:
    index: int
    name: str
    spec: Any
    refresh_interval: timedelta | None
    row_scopes: list[RowScope] = dataclasses.field(default_factory=list)
    #: v0's ``max_inflight_rows`` / ``max_inflight_bytes`` (accepted; the engine bounds its
    #: own concurrency by ``--workers``).
    max_inflight_rows: int | None = None
    max_inflight_bytes: int | None = None


@dataclasses.dataclass(frozen=True, eq=False)
class Export:
    name: str
    spec: TargetSpec
    collector: Collector
    primary_key_fields: tuple[str, ...]
    setup_by_user: bool
    vector_indexes: tuple[VectorIndexDef, ...] = ()
    fts_indexes: tuple[FtsIndexDef, ...] = ()

    @property
    def value_fields(self) -> tuple[str, ...]:
        names = self.collector.field_names or ()
        return tuple(n for n in names if n not in self.primary_key_fields)

    def key_fields_schema(self) -> list[FieldSchema]:
        return self.collector.schema(self.primary_key_fields)

    def value_fields_schema(self) -> list[FieldSchema]:
        return self.collector.schema(self.value_fields)

    def index_options(self) -> IndexOptions:
        from cocotui.index import IndexOptions  # only connectors with get_setup_state need it

        return IndexOptions(
            list(self.primary_key_fields), list(self.vector_indexes), list(self.fts_indexes)
        )


@dataclasses.dataclass(eq=False)
class Flow:
    name: str
    sources: list[Source]
    collectors: list[Collector]
    exports: list[Export]
    #: ``flow_builder.declare(spec)`` calls, in order: v0 hands each to the target connector
    #: of the kind ``spec.kind`` names (e.g. Neo4j node labels), with that kind's exports.
    declarations: list[Any] = dataclasses.field(default_factory=list)
    #: The flow's query handlers by name (``@flow.query_handler()``), in registration order.
    query_handlers: dict[str, QueryHandler] = dataclasses.field(default_factory=dict)
