"""The flow model recorded by the builder: row scopes holding ordered operations over
expressions. The evaluator walks it per source row; nothing here runs user code."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from cocotui.op import TargetSpec


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


Expr = FieldRef | SubField | Const | Call


@dataclasses.dataclass(frozen=True, eq=False)
class Assign:
    name: str
    expr: Expr


@dataclasses.dataclass(frozen=True, eq=False)
class ForEach:
    """Run ``scope`` for every element of the list that ``items`` evaluates to."""

    items: Expr
    scope: RowScope


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


@dataclasses.dataclass(eq=False)
class Collector:
    index: int
    field_names: tuple[str, ...] | None = None


@dataclasses.dataclass(eq=False)
class Source:
    index: int
    name: str
    spec: Any
    refresh_interval: timedelta | None
    row_scopes: list[RowScope] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True, eq=False)
class Export:
    name: str
    spec: TargetSpec
    collector: Collector
    primary_key_fields: tuple[str, ...]
    setup_by_user: bool

    @property
    def value_fields(self) -> tuple[str, ...]:
        names = self.collector.field_names or ()
        return tuple(n for n in names if n not in self.primary_key_fields)


@dataclasses.dataclass(eq=False)
class Flow:
    name: str
    sources: list[Source]
    collectors: list[Collector]
    exports: list[Export]
