"""The flow DSL users write (CocoIndex v0 style): ``flow_def``, ``FlowBuilder``, ``DataScope``,
``DataSlice`` and ``DataCollector``. Building a flow only records a :mod:`cocotui.flow.model`."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from cocotui.engine_type import EnrichedValueType
from cocotui.flow.field_types import (
    UNKNOWN,
    UUID,
    call_type,
    row_field_types,
    source_field_types,
    sub_field_type,
)
from cocotui.flow.flow_runtime import FlowRuntimeMethods
from cocotui.flow.model import (
    Assign,
    Call,
    Collect,
    Collector,
    Const,
    Export,
    Expr,
    FieldRef,
    Flow,
    ForEach,
    Generated,
    GeneratedField,
    RowScope,
    Source,
    SubField,
)
from cocotui.op import DeclarationSpec, TargetSpec
from cocotui.op_function import resolve_transform
from cocotui.value_types import constant_type

if TYPE_CHECKING:
    from cocotui.index import FtsIndexDef, VectorIndexDef, VectorSimilarityMetric


class FlowDefinitionError(ValueError):
    """A flow that cannot be built as written, with the culprit named."""


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_name(what: str, name: Any) -> str:
    """Flow and target names: letters, digits and underscores (as CocoIndex requires)."""
    if not isinstance(name, str) or not name:
        raise FlowDefinitionError(f"{what} name must be a non-empty string, got {name!r}")
    if len(name) > 64:
        raise FlowDefinitionError(f"{what} name {name!r} is longer than 64 characters")
    if name.startswith("__"):
        raise FlowDefinitionError(f"{what} name {name!r} must not start with '__'")
    if not _NAME.match(name):
        raise FlowDefinitionError(
            f"{what} name {name!r} must start with a letter or underscore and contain only "
            f"letters, digits and underscores"
        )
    return name


def _expr_of(value: Any) -> Expr:
    if isinstance(value, DataSlice):
        if value._table is not None:
            raise FlowDefinitionError(
                f"the table {value._table.name!r} cannot be used as a value; open its rows with "
                f"`with data_scope[{value._table.name!r}].row() as row:`"
            )
        assert value._expr is not None
        return value._expr
    if isinstance(value, DataScope | DataCollector | FlowBuilder):
        raise FlowDefinitionError(f"{type(value).__name__} cannot be used as a value")
    if isinstance(value, GeneratedField):
        raise FlowDefinitionError(f"{value} can only be a field of collect()")
    return Const(value)


def _path(expr: Expr) -> tuple[Any, ...] | None:
    """Where a value lives (a field of a scope, maybe a struct's field in it, or a call's
    result), to tell whether one value holds another."""
    if isinstance(expr, FieldRef):
        return (id(expr.scope), expr.name)
    if isinstance(expr, SubField):
        base = _path(expr.base)
        return None if base is None else (*base, expr.name)
    if isinstance(expr, Call):
        return (id(expr),)
    return None


def _type_of(value: Any) -> EnrichedValueType:
    return value._type if isinstance(value, DataSlice) else constant_type(value)


def _scope_of(expr: Expr) -> RowScope | None:
    """The innermost row scope an expression reads from (``None`` for constants)."""
    if isinstance(expr, FieldRef):
        return expr.scope
    if isinstance(expr, SubField):
        return _scope_of(expr.base)
    if isinstance(expr, Call):
        return expr.scope
    return None


T = TypeVar("T")
S = TypeVar("S")


def _checked_indexes(
    name: str,
    vector_indexes: Sequence[VectorIndexDef],
    fts_indexes: Sequence[FtsIndexDef],
    vector_index: Sequence[tuple[str, VectorSimilarityMetric]],
) -> Sequence[VectorIndexDef]:
    """The export's vector indexes (from v0's older ``vector_index`` when only it is given),
    after checking that every index given is an index definition."""
    from cocotui.index import FtsIndexDef, VectorIndexDef  # only exports with indexes need it

    if not vector_indexes and vector_index:
        vector_indexes = [VectorIndexDef(field, metric) for field, metric in vector_index]
    given: Sequence[object]
    for given, cls in ((vector_indexes, VectorIndexDef), (fts_indexes, FtsIndexDef)):
        for index in given:
            if not isinstance(index, cls):
                raise FlowDefinitionError(
                    f"export({name!r}, ...): each index must be a {cls.__name__}, got {index!r}"
                )
    return vector_indexes


class SliceFunction:
    """Base of the callables that take and return slices (a transform flow): they are called on
    a slice, never row by row. Declared here so that ``transform()`` can refuse one without
    importing the module that defines transform flows."""


class DataSlice(Generic[T]):
    """A value in a flow: a source table, a row field, or a transform's output.
    ``DataSlice[T]`` annotates a slice of values of type ``T`` (transform flows read it)."""

    def __init__(
        self,
        builder: FlowBuilder,
        expr: Expr | None = None,
        table: Source | None = None,
        value_type: EnrichedValueType = UNKNOWN,
    ) -> None:
        self._builder = builder
        self._expr = expr
        self._table = table
        self._type = value_type

    @property
    def value_type(self) -> EnrichedValueType:
        """The value's type, as connectors see it in a ``FieldSchema``."""
        return self._type

    def __getitem__(self, field: str) -> DataSlice[Any]:
        expr = _expr_of(self)
        return DataSlice(
            self._builder, SubField(expr, field), value_type=sub_field_type(self._type, field)
        )

    def transform(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> DataSlice[Any]:
        """``fn(this value, *args, **kwargs)``, run once per row."""
        return self._builder._call(fn, (self, *args), kwargs)

    def call(self, fn: Callable[..., S], /, *args: Any, **kwargs: Any) -> S:
        """``fn(self, *args, **kwargs)``, called once, now, while the flow is defined (as in
        v0): ``fn`` builds on this slice, e.g. a ``@transform_flow`` or a helper that calls
        ``.transform()``. Use :meth:`transform` to run a function on every row."""
        return fn(self, *args, **kwargs)

    @contextmanager
    def row(
        self, *, max_inflight_rows: int | None = None, max_inflight_bytes: int | None = None
    ) -> Iterator[DataScope]:
        """Open a scope run once per row of this table or list value. The v0 concurrency
        bounds are accepted; the engine bounds concurrency by its worker count."""
        child: RowScope
        for_each: ForEach | None = None
        if self._table is not None:
            child = RowScope(depth=1, field_types=source_field_types(self._table.spec))
            self._table.row_scopes.append(child)
        else:
            items = self._builder._use(self)
            parent = _scope_of(items)
            if parent is None:
                raise FlowDefinitionError("row() needs a table or a list computed per row")
            child = RowScope(parent.depth + 1, field_types=row_field_types(self._type))
            for_each = ForEach(items, child)
            parent.ops.append(for_each)
        self._builder._scopes.append(child)
        try:
            yield DataScope(self._builder, child)
        finally:
            self._builder._scopes.pop()
        if for_each is not None and any(isinstance(op, Assign) for op in child.ops):
            self._builder._tables_with_new_fields.append(for_each)

    def for_each(
        self,
        fn: Callable[[DataScope], None],
        /,
        *,
        max_inflight_rows: int | None = None,
        max_inflight_bytes: int | None = None,
    ) -> None:
        bounds = {"max_inflight_rows": max_inflight_rows, "max_inflight_bytes": max_inflight_bytes}
        with self.row(**bounds) as row:
            fn(row)


class DataCollector:
    """Gathers rows (``collect``) and sends them to a target (``export``)."""

    def __init__(self, builder: FlowBuilder, collector: Collector) -> None:
        self._builder = builder
        self._collector = collector

    def collect(self, **fields: Any) -> None:
        scope = self._builder._current_scope("collect()")
        names = tuple(fields)
        if not names:
            raise FlowDefinitionError("collect() needs at least one field")
        if self._collector.field_names is None:
            self._collector.field_names = names
            self._collector.field_types = {
                name: UUID if isinstance(v, GeneratedField) else _type_of(v)
                for name, v in fields.items()
            }
        elif set(self._collector.field_names) != set(names):
            raise FlowDefinitionError(
                f"collect() called with fields {', '.join(names)} but this collector already "
                f"collects {', '.join(self._collector.field_names)}"
            )
        if sum(isinstance(v, GeneratedField) for v in fields.values()) > 1:
            raise FlowDefinitionError("collect() takes at most one GeneratedField.UUID field")
        exprs = tuple(
            (name, Generated(v) if isinstance(v, GeneratedField) else self._builder._use(v))
            for name, v in fields.items()
        )
        scope.ops.append(Collect(self._collector, exprs))

    def export(
        self,
        name: str,
        target_spec: TargetSpec,
        /,
        *,
        primary_key_fields: list[str] | tuple[str, ...],
        vector_indexes: Sequence[VectorIndexDef] = (),
        fts_indexes: Sequence[FtsIndexDef] = (),
        vector_index: Sequence[tuple[str, VectorSimilarityMetric]] = (),
        setup_by_user: bool = False,
        **_ignored: Any,
    ) -> None:
        """Send the collected rows to a target, keyed by ``primary_key_fields``, with the
        vector and full-text-search indexes the target should have (``vector_index`` is v0's
        older spelling of ``vector_indexes``)."""
        check_name("Target", name)
        if not isinstance(target_spec, TargetSpec):
            raise FlowDefinitionError(
                f"export({name!r}, ...) needs a cocotui.op.TargetSpec instance, got "
                f"{type(target_spec).__name__}"
            )
        if not primary_key_fields:
            raise FlowDefinitionError(f"export({name!r}, ...): primary_key_fields must be given")
        flow = self._builder._flow
        if any(e.name == name for e in flow.exports):
            raise FlowDefinitionError(f"flow {flow.name!r} exports twice under the name {name!r}")
        if vector_indexes or fts_indexes or vector_index:
            vector_indexes = _checked_indexes(name, vector_indexes, fts_indexes, vector_index)
        flow.exports.append(
            Export(
                name,
                target_spec,
                self._collector,
                tuple(primary_key_fields),
                setup_by_user,
                tuple(vector_indexes),
                tuple(fts_indexes),
            )
        )


class DataScope:
    """The flow's top-level scope (tables by name) or one row's scope (fields by name)."""

    def __init__(self, builder: FlowBuilder, scope: RowScope | None) -> None:
        self._builder = builder
        self._scope = scope

    def __getitem__(self, name: str) -> DataSlice[Any]:
        if self._scope is None:
            for source in self._builder._flow.sources:
                if source.name == name:
                    return DataSlice(self._builder, table=source)
            raise FlowDefinitionError(f"no table named {name!r} in this flow's scope")
        value_type = self._scope.field_types.get(name, UNKNOWN)
        return DataSlice(self._builder, FieldRef(self._scope, name), value_type=value_type)

    def __setitem__(self, name: str, value: DataSlice[Any]) -> None:
        if self._scope is None:
            if not (isinstance(value, DataSlice) and value._table is not None):
                raise FlowDefinitionError(
                    f"data_scope[{name!r}] at the top level takes a source from "
                    f"flow_builder.add_source(...)"
                )
            source = value._table
            if any(s.name == name for s in self._builder._flow.sources if s is not source):
                raise FlowDefinitionError(f"two sources are named {name!r}")
            source.name = name
            return
        self._scope.ops.append(Assign(name, self._builder._use(value)))
        self._scope.field_types[name] = _type_of(value)

    def add_collector(self, name: str | None = None) -> DataCollector:
        flow = self._builder._flow
        collector = Collector(len(flow.collectors))
        flow.collectors.append(collector)
        return DataCollector(self._builder, collector)


class FlowBuilder:
    """Passed to a ``@flow_def`` function to declare its sources."""

    def __init__(self, flow_name: str) -> None:
        self._flow = Flow(check_name("Flow", flow_name), [], [], [])
        self._scopes: list[RowScope] = []
        #: Row scopes over nested tables that add fields to the table's rows.
        self._tables_with_new_fields: list[ForEach] = []

    def add_source(
        self,
        spec: Any,
        /,
        *,
        name: str | None = None,
        refresh_interval: timedelta | None = None,
        max_inflight_rows: int | None = None,
        max_inflight_bytes: int | None = None,
    ) -> DataSlice[Any]:
        """Add a source (e.g. ``sources.LocalFile``, or an ``op.SourceSpec`` with a registered
        ``@op.source_connector``); assign it to ``data_scope["name"]``."""
        # A custom source (an op.SourceSpec) is wrapped for the engine; there is none unless the
        # app imported cocotui.source_connector, which most apps never load.
        source_connector = sys.modules.get("cocotui.source_connector")
        if source_connector is not None:
            spec = source_connector.as_source(spec)
        if not hasattr(spec, "list_rows"):
            raise FlowDefinitionError(
                f"add_source() needs a source spec such as cocotui.sources.LocalFile, got "
                f"{type(spec).__name__}"
            )
        if refresh_interval is not None and not isinstance(refresh_interval, timedelta):
            raise FlowDefinitionError("refresh_interval must be a datetime.timedelta")
        index = len(self._flow.sources)
        source = Source(
            index,
            name or f"source{index}",
            spec,
            refresh_interval,
            max_inflight_rows=max_inflight_rows,
            max_inflight_bytes=max_inflight_bytes,
        )
        self._flow.sources.append(source)
        return DataSlice(self, table=source)

    def transform(self, fn: Any, /, *args: Any, **kwargs: Any) -> DataSlice[Any]:
        """``fn(*args, **kwargs)`` run once per row of the innermost scope its inputs read."""
        if not args and not kwargs:
            raise FlowDefinitionError("flow_builder.transform() needs at least one input")
        return self._call(fn, args, kwargs)

    def declare(self, spec: Any, /) -> None:
        """Add a declaration (an ``op.DeclarationSpec``, e.g. v0's ``Neo4jDeclaration``): it
        goes to the connector of the target kind its ``kind`` names, as in v0."""
        if not isinstance(spec, DeclarationSpec):
            raise FlowDefinitionError(
                f"declare() needs a cocotui.op.DeclarationSpec instance, got {type(spec).__name__}"
            )
        self._flow.declarations.append(spec)

    def _use(self, value: Any) -> Expr:
        """The expression of ``value`` where the flow reads it: a table read again after a
        row scope added fields to its rows is read with those fields."""
        expr = _expr_of(value)
        read = _path(expr)
        if read is not None:
            for for_each in self._tables_with_new_fields:
                table = _path(for_each.items)
                if table is not None and table[: len(read)] == read:
                    for_each.write_back = True
        return expr

    def _current_scope(self, what: str) -> RowScope:
        if not self._scopes:
            raise FlowDefinitionError(
                f"{what} must be called inside a row scope (`with data_scope[...].row() as row:`)"
            )
        return self._scopes[-1]

    def _call(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> DataSlice[Any]:
        if isinstance(fn, SliceFunction):
            raise FlowDefinitionError(
                f"{fn!r} builds slices: call it on a slice, `text.call(flow)`, not per row "
                f"with transform()"
            )
        fn = resolve_transform(fn)  # an op.FunctionSpec instance: its executor
        if not callable(fn):
            raise FlowDefinitionError(f"transform() needs a function, got {fn!r}")
        arg_exprs = tuple(self._use(a) for a in args)
        kwarg_exprs = tuple((k, self._use(v)) for k, v in kwargs.items())
        scopes = [s for e in (*arg_exprs, *(v for _, v in kwarg_exprs)) if (s := _scope_of(e))]
        scope = max(scopes, key=lambda s: s.depth) if scopes else self._current_scope("transform()")
        value_type = call_type(
            fn, [_type_of(a) for a in args], {k: _type_of(v) for k, v in kwargs.items()}
        )
        return DataSlice(self, Call(fn, arg_exprs, kwarg_exprs, scope), value_type=value_type)


FlowFunction = Callable[[FlowBuilder, DataScope], None]


class FlowDef(FlowRuntimeMethods):
    """What ``@flow_def`` returns: a named flow function, built when its app is loaded. Its
    runtime methods (``setup()``, ``update()``, ``query_handler()``...) are v0's."""

    def __init__(self, name: str, fn: FlowFunction) -> None:
        super().__init__()
        self.name = name
        self.fn = fn

    def build(self) -> Flow:
        builder = FlowBuilder(self.name)
        self.fn(builder, DataScope(builder, None))
        builder._flow.query_handlers = self.query_handlers
        return builder._flow

    def __repr__(self) -> str:
        return f"<flow {self.name}>"


_defined: dict[str, list[FlowDef]] = {}


def flow_def(name: str | None = None) -> Callable[[FlowFunction], FlowDef]:
    """Declare a flow: ``@flow_def(name="MyFlow") def my_flow(flow_builder, data_scope): ...``."""

    def register(fn: FlowFunction) -> FlowDef:
        flow = FlowDef(check_name("Flow", name or fn.__name__), fn)
        flows = _defined.setdefault(fn.__module__, [])
        flows[:] = [f for f in flows if f.name != flow.name]  # a re-import redefines it
        flows.append(flow)
        return flow

    return register


def flows_defined_in(module: str) -> list[FlowDef]:
    return list(_defined.get(module, []))


def all_flows_defined() -> list[FlowDef]:
    """Every flow defined in this process, module by module."""
    return [flow for flows in list(_defined.values()) for flow in flows]


def forget_flow(flow: FlowDef) -> None:
    """Remove ``flow`` from its module's flows (v0's ``Flow.close()``)."""
    flows = _defined.get(flow.fn.__module__, [])
    flows[:] = [f for f in flows if f is not flow]
