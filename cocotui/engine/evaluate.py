"""Evaluating a flow for one source row: run its row scopes, call transforms, gather the rows
each collector collects. Pure computation, safe to run in worker processes."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from cocotui.engine.batching import (
    Arguments,
    BatchRequest,
    Evaluation,
    batched_calls,
    run_alone,
)
from cocotui.flow.model import (
    Assign,
    Call,
    Collect,
    Collector,
    Const,
    Expr,
    FieldRef,
    Flow,
    ForEach,
    Generated,
    Op,
    RowScope,
    Source,
    SubField,
)
from cocotui.op_function import (
    FunctionInfo,
    NoneArguments,
    function_identity,
    function_info,
    invoke,
)
from cocotui.typing import KEY_FIELD_NAME
from cocotui.values.fingerprints import fingerprint_fields
from cocotui.values.shapes import struct_fields

if TYPE_CHECKING:
    from cocotui.engine.call_cache import CallCache

#: Per collector index, the rows collected (field name -> value), in collection order.
Collected = list[list[dict[str, Any]]]


class RowEvaluationError(RuntimeError):
    """A flow could not be evaluated for a row (the message names the field or function)."""


def describe_exception(exc: BaseException) -> str:
    """``Type: message`` of an exception raised by user code; a ``sys.exit()`` says so."""
    if isinstance(exc, SystemExit):
        return f"SystemExit: sys.exit({exc.code!r}) was called"
    return f"{type(exc).__name__}: {exc}"


#: What :meth:`FlowEvaluator._plain` returns for an expression it does not evaluate itself.
_PENDING = object()


class _Env:
    __slots__ = ("fields", "memo")

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields
        self.memo: dict[int, Any] = {}


def _row_fields(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return item
    fields = struct_fields(item)
    if fields is None:
        raise RowEvaluationError(
            f"row() over a list of {type(item).__name__}: elements must be dataclasses, "
            f"NamedTuples or dicts"
        )
    return fields


def _calls(ops: Iterable[Op]) -> Iterable[Call]:
    """Every transform call in ``ops`` and their nested scopes."""

    def in_expr(e: Expr) -> Iterable[Call]:
        if isinstance(e, SubField):
            yield from in_expr(e.base)
        elif isinstance(e, Call):
            yield e
            for arg in (*e.args, *(v for _, v in e.kwargs)):
                yield from in_expr(arg)

    for op in ops:
        if isinstance(op, Assign):
            yield from in_expr(op.expr)
        elif isinstance(op, ForEach):
            yield from in_expr(op.items)
            yield from _calls(op.scope.ops)
        else:
            for _, expr in op.fields:
                yield from in_expr(expr)


def flow_functions(flow: Flow) -> list[FunctionInfo]:
    """The options of every transform the flow calls."""
    return [
        function_info(call.fn)
        for source in flow.sources
        for scope in source.row_scopes
        for call in _calls(scope.ops)
    ]


@functools.cache
def _uuid_module() -> Any:
    """``uuid``, imported only by flows that generate UUIDs (it is slow to import)."""
    import uuid

    return uuid


class _GeneratedUuids:
    """UUIDs for ``GeneratedField.UUID``: the same on every run for a source row collecting the
    same other values (the n-th identical row gets the n-th UUID)."""

    __slots__ = ("_flow", "_row", "_seen", "_source")

    def __init__(self, flow: str, source: Source, row: dict[str, Any]) -> None:
        self._flow = flow
        self._source = source
        self._row = row
        self._seen: dict[tuple[int, bytes], int] = {}

    def _row_id(self) -> str:
        """The source row's key (its whole content for a source that names no key fields)."""
        key_fields = getattr(self._source.spec, "key_fields", None) or tuple(self._row)
        return f"{self._flow}\0{self._source.name}\0{[self._row.get(k) for k in key_fields]!r}"

    def fill(self, collector: Collector, row: dict[str, Any], generated: list[str]) -> None:
        names = tuple(n for n in row if n not in generated)
        fingerprint = fingerprint_fields(names, (row[n] for n in names))
        seen = self._seen.get((collector.index, fingerprint), 0)
        self._seen[(collector.index, fingerprint)] = seen + 1
        base = f"{self._row_id()}\0{collector.index}\0{fingerprint.hex()}\0{seen}"
        uuid = _uuid_module()
        for name in generated:
            row[name] = uuid.uuid5(uuid.NAMESPACE_OID, f"cocotui\0{base}\0{name}")


def _ktable_rows(table: dict[Any, Any]) -> Iterator[dict[str, Any]]:
    """The rows of a ``dict[K, Struct]`` (a KTable): the key's fields first, as its type says
    (``_key`` for a basic key), then the value's."""
    for key, value in table.items():
        key_fields = struct_fields(key)
        fields = {KEY_FIELD_NAME: key} if key_fields is None else dict(key_fields)
        fields.update(_row_fields(value))
        yield fields


def _with_new_fields(table: Any, rows: list[dict[str, Any]]) -> Any:
    """A table rebuilt from its evaluated rows: a list of field dicts, or for a ``dict``
    (KTable) the same keys mapping to the rows' value fields."""
    if not isinstance(table, dict):
        return rows
    rebuilt: dict[Any, Any] = {}
    for key, row in zip(table, rows, strict=True):
        key_fields = struct_fields(key)
        key_names = {KEY_FIELD_NAME} if key_fields is None else set(key_fields)
        rebuilt[key] = {k: v for k, v in row.items() if k not in key_names}
    return rebuilt


class _Row:
    """One source row's evaluation state: the environment of each row scope being run, the
    row's cached function results and its generated UUIDs."""

    __slots__ = ("cache", "envs", "uuids")

    def __init__(self, cache: CallCache | None, uuids: _GeneratedUuids) -> None:
        self.envs: dict[int, _Env] = {}
        self.cache = cache
        self.uuids = uuids


class FlowEvaluator:
    """Evaluates a flow for source rows. Evaluating a row is a generator (an
    :data:`~cocotui.engine.batching.Evaluation`) stopping at each batching call, so that the
    rows of a batch share those calls (:func:`~cocotui.engine.batching.run_together`)."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        infos = flow_functions(flow)
        #: Whether some function keeps results across runs (``cache=True``).
        self.caches = any(info.cache for info in infos)
        #: Whether some function runs on a GPU (rows are then evaluated in this process only).
        self.uses_gpu = any(info.gpu for info in infos)
        self._call_info: dict[int, tuple[str, FunctionInfo, NoneArguments]] = {}
        #: Per row scope (by id), its batching calls requested for all the rows of a table.
        self._batched: dict[int, tuple[Call, ...]] = {}

    def _known(self, expr: Call) -> tuple[str, FunctionInfo, NoneArguments]:
        known = self._call_info.get(id(expr))
        if known is None:
            fn = expr.fn
            known = (function_identity(fn), function_info(fn), NoneArguments.of(fn))
            self._call_info[id(expr)] = known
        return known

    def _call(
        self, expr: Call, args: list[Any], kwargs: dict[str, Any], row: _Row
    ) -> Evaluation[Any]:
        _, info, nones = self._known(expr)
        if info.batching:
            if nones.skips(args, kwargs):
                return None
            (result,) = yield from self._call_many(expr, [(args, kwargs)], row)
            return result
        return self._call_now(expr, args, kwargs, row)

    def _call_now(self, expr: Call, args: list[Any], kwargs: dict[str, Any], row: _Row) -> Any:
        """A call of a function that is not ``batching=True``, made at once."""
        identity, info, nones = self._known(expr)
        if nones.skips(args, kwargs):
            return None
        if info.cache and row.cache is not None:
            return row.cache.call(
                identity,
                info.behavior_version,
                args,
                kwargs,
                lambda: invoke(expr.fn, args, kwargs),
            )
        return invoke(expr.fn, args, kwargs)

    def _call_many(self, expr: Call, calls: list[Arguments], row: _Row) -> Evaluation[list[Any]]:
        """The results of a batching function for many argument lists: skipped and cached
        calls as in :meth:`_call`, the others requested together."""
        identity, info, nones = self._known(expr)
        results: list[Any] = [None] * len(calls)
        pending: list[tuple[int, bytes | None]] = []
        cache = row.cache if info.cache else None
        for index, (args, kwargs) in enumerate(calls):
            if nones.skips(args, kwargs):
                continue
            key = None
            if cache is not None:
                key, found, result = cache.lookup(identity, info.behavior_version, args, kwargs)
                if found:
                    results[index] = result
                    continue
            pending.append((index, key))
        if not pending:
            return results
        computed = yield BatchRequest(expr.fn, info, [calls[i] for i, _ in pending])
        for (index, key), result in zip(pending, computed, strict=True):
            results[index] = result
            if cache is not None:
                cache.store(key, result)
        return results

    @staticmethod
    def _field(expr: FieldRef, row: _Row) -> Any:
        env = row.envs[id(expr.scope)]
        try:
            return env.fields[expr.name]
        except KeyError:
            raise RowEvaluationError(
                f"field '{expr.name}' does not exist in this row (fields: {', '.join(env.fields)})"
            ) from None

    def _plain(self, expr: Expr, row: _Row) -> Any:
        """``expr``'s value when it is a field, a constant or a call that needs no batching
        call, else :data:`_PENDING`: callers evaluate the others with :meth:`_eval`. No
        generator is made for these (this runs for every expression of every row)."""
        if type(expr) is FieldRef:
            return self._field(expr, row)
        if type(expr) is Const:
            return expr.value
        if type(expr) is Call:
            return self._plain_call(expr, row)
        return _PENDING

    def _plain_call(self, expr: Call, row: _Row) -> Any:
        """The result of a call that needs no batching call (neither itself nor for its
        arguments), made at once; else :data:`_PENDING` (what it computed on the way is kept
        in the row's memo, and found there when :meth:`_eval` evaluates it)."""
        memo = row.envs[id(expr.scope)].memo
        key = id(expr)
        if key in memo:
            return memo[key]
        if self._known(expr)[1].batching:
            return _PENDING
        args = []
        for arg in expr.args:
            value = self._plain(arg, row)
            if value is _PENDING:
                return _PENDING
            args.append(value)
        kwargs = {}
        for name, argument in expr.kwargs:
            value = self._plain(argument, row)
            if value is _PENDING:
                return _PENDING
            kwargs[name] = value
        result = memo[key] = self._call_now(expr, args, kwargs, row)
        return result

    def _eval(self, expr: Expr, row: _Row) -> Evaluation[Any]:
        if isinstance(expr, FieldRef):
            return self._field(expr, row)
        if isinstance(expr, Const):
            return expr.value
        if isinstance(expr, Generated):
            raise RowEvaluationError(f"{expr.field} is only generated as a collected field")
        if isinstance(expr, SubField):
            base = yield from self._eval(expr.base, row)
            if isinstance(base, dict):
                return base[expr.name]
            return getattr(base, expr.name)
        env = row.envs[id(expr.scope)]
        key = id(expr)
        if key not in env.memo:
            args, kwargs = yield from self._arguments(expr, row)
            env.memo[key] = yield from self._call(expr, args, kwargs, row)
        return env.memo[key]

    def _arguments(self, expr: Call, row: _Row) -> Evaluation[Arguments]:
        args = []
        for arg in expr.args:
            value = self._plain(arg, row)
            if value is _PENDING:
                value = yield from self._eval(arg, row)
            args.append(value)
        kwargs = {}
        for name, argument in expr.kwargs:
            value = self._plain(argument, row)
            if value is _PENDING:
                value = yield from self._eval(argument, row)
            kwargs[name] = value
        return args, kwargs

    def _collect(self, op: Collect, row: _Row) -> Evaluation[dict[str, Any]]:
        collected: dict[str, Any] = {}
        generated: list[str] = []
        for name, expr in op.fields:
            if isinstance(expr, Generated):
                generated.append(name)
                collected[name] = None
            else:
                value = self._plain(expr, row)
                if value is _PENDING:
                    value = yield from self._eval(expr, row)
                collected[name] = value
        if generated:
            row.uuids.fill(op.collector, collected, generated)
        return collected

    def _run(
        self,
        scope: RowScope,
        fields: dict[str, Any],
        row: _Row,
        out: Collected,
        memo: dict[int, Any] | None = None,
    ) -> Evaluation[dict[str, Any]]:
        """Run ``scope`` for one row; returns the row's fields, assigned ones included.
        ``memo`` holds results already computed for the row (see :meth:`_prefetch`)."""
        env = _Env(dict(fields))
        if memo:
            env.memo.update(memo)
        row.envs[id(scope)] = env
        for op in scope.ops:
            if isinstance(op, Assign):
                value = self._plain(op.expr, row)
                if value is _PENDING:
                    value = yield from self._eval(op.expr, row)
                env.fields[op.name] = value
            elif isinstance(op, ForEach):
                yield from self._for_each(op, row, out)
            else:
                out[op.collector.index].append((yield from self._collect(op, row)))
        del row.envs[id(scope)]
        return env.fields

    def _for_each(self, op: ForEach, row: _Row, out: Collected) -> Evaluation[None]:
        items = yield from self._eval(op.items, row)
        if items is None:
            return
        rows = list(_ktable_rows(items) if isinstance(items, dict) else map(_row_fields, items))
        memos = yield from self._prefetch(op.scope, rows, row)
        done = []
        for fields, memo in zip(rows, memos, strict=True):
            done.append((yield from self._run(op.scope, fields, row, out, memo)))
        if op.write_back:
            yield from self._write_back(op.items, _with_new_fields(items, done), row)

    def _prefetch(
        self, scope: RowScope, rows: list[dict[str, Any]], row: _Row
    ) -> Evaluation[list[dict[int, Any]]]:
        """Per row of a table, the results of ``scope``'s batching calls, requested at once
        for all the rows (see :mod:`cocotui.engine.batching`)."""
        memos: list[dict[int, Any]] = [{} for _ in rows]
        calls = self._batched.get(id(scope))
        if calls is None:
            calls = self._batched[id(scope)] = batched_calls(scope)
        for call in calls if len(rows) > 1 else ():
            arguments = []
            for fields in rows:
                row.envs[id(scope)] = _Env(fields)
                arguments.append((yield from self._arguments(call, row)))
            del row.envs[id(scope)]
            results = yield from self._call_many(call, arguments, row)
            for memo, result in zip(memos, results, strict=True):
                memo[id(call)] = result
        return memos

    def _write_back(self, expr: Expr, value: Any, row: _Row) -> Evaluation[None]:
        """Make ``expr`` read ``value`` for the rest of the row (a table whose rows gained
        fields, or a struct holding it)."""
        if isinstance(expr, FieldRef):
            row.envs[id(expr.scope)].fields[expr.name] = value
        elif isinstance(expr, SubField):
            base = yield from self._eval(expr.base, row)
            fields = dict(base) if isinstance(base, dict) else struct_fields(base)
            if fields is None:
                raise RowEvaluationError(f"field '{expr.name}' of a {type(base).__name__}")
            fields[expr.name] = value
            yield from self._write_back(expr.base, fields, row)
        elif isinstance(expr, Call):
            row.envs[id(expr.scope)].memo[id(expr)] = value

    def evaluation(
        self, source: Source, fields: dict[str, Any], cache: CallCache | None = None
    ) -> Evaluation[Collected]:
        """Everything collected from one source row, as an evaluation to run with others
        (:func:`~cocotui.engine.batching.run_together`); ``cache=True`` functions go through
        ``cache`` (the row's cached results) when given."""
        out: Collected = [[] for _ in self.flow.collectors]
        row = _Row(cache, _GeneratedUuids(self.flow.name, source, fields))
        for scope in source.row_scopes:
            yield from self._run(scope, fields, row, out)
        return out

    def evaluate(
        self, source: Source, fields: dict[str, Any], cache: CallCache | None = None
    ) -> Collected:
        """:meth:`evaluation` of one row, run alone."""
        return run_alone(self.evaluation(source, fields, cache))
