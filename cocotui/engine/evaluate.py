"""Evaluating a flow for one source row: run its row scopes, call transforms, gather the rows
each collector collects. Pure computation, safe to run in worker processes."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from typing import Any

from cocotui.flow.model import (
    Assign,
    Collect,
    Const,
    Expr,
    FieldRef,
    Flow,
    ForEach,
    Op,
    RowScope,
    Source,
    SubField,
)
from cocotui.op import function_info
from cocotui.values import struct_fields

#: Per collector index, the rows collected (field name -> value), in collection order.
Collected = list[list[dict[str, Any]]]


class RowEvaluationError(RuntimeError):
    """A flow could not be evaluated for a row (the message names the field or function)."""


def describe_exception(exc: BaseException) -> str:
    """``Type: message`` of an exception raised by user code; a ``sys.exit()`` says so."""
    if isinstance(exc, SystemExit):
        return f"SystemExit: sys.exit({exc.code!r}) was called"
    return f"{type(exc).__name__}: {exc}"


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


class FlowEvaluator:
    def __init__(self, flow: Flow) -> None:
        self.flow = flow

    def _eval(self, expr: Expr, envs: dict[int, _Env]) -> Any:
        if isinstance(expr, FieldRef):
            env = envs[id(expr.scope)]
            try:
                return env.fields[expr.name]
            except KeyError:
                raise RowEvaluationError(
                    f"field '{expr.name}' does not exist in this row (fields: "
                    f"{', '.join(env.fields)})"
                ) from None
        if isinstance(expr, Const):
            return expr.value
        if isinstance(expr, SubField):
            base = self._eval(expr.base, envs)
            if isinstance(base, dict):
                return base[expr.name]
            return getattr(base, expr.name)
        env = envs[id(expr.scope)]
        key = id(expr)
        if key not in env.memo:
            args = [self._eval(a, envs) for a in expr.args]
            kwargs = {k: self._eval(v, envs) for k, v in expr.kwargs}
            env.memo[key] = expr.fn(*args, **kwargs)
        return env.memo[key]

    def _run(
        self, scope: RowScope, fields: dict[str, Any], envs: dict[int, _Env], out: Collected
    ) -> None:
        env = _Env(dict(fields))
        envs[id(scope)] = env
        for op in scope.ops:
            if isinstance(op, Assign):
                env.fields[op.name] = self._eval(op.expr, envs)
            elif isinstance(op, ForEach):
                items = self._eval(op.items, envs)
                if items is None:
                    continue
                if isinstance(items, dict):
                    items = list(items.values())
                for item in items:
                    self._run(op.scope, _row_fields(item), envs, out)
            else:
                out[op.collector.index].append(
                    {name: self._eval(expr, envs) for name, expr in op.fields}
                )
        del envs[id(scope)]

    def evaluate(self, source: Source, row: dict[str, Any]) -> Collected:
        """Everything collected from one source row."""
        out: Collected = [[] for _ in self.flow.collectors]
        for scope in source.row_scopes:
            self._run(scope, row, {}, out)
        return out


def _describe_ops(ops: Iterable[Op], parts: list[str]) -> None:
    def expr(e: Expr) -> str:
        if isinstance(e, FieldRef):
            return f"field({e.scope.depth},{e.name})"
        if isinstance(e, SubField):
            return f"{expr(e.base)}.{e.name}"
        if isinstance(e, Const):
            return f"const({e.value!r})"
        info = function_info(e.fn)
        name = f"{getattr(e.fn, '__module__', '?')}.{getattr(e.fn, '__qualname__', repr(e.fn))}"
        args = ",".join(expr(a) for a in e.args)
        kwargs = ",".join(f"{k}={expr(v)}" for k, v in e.kwargs)
        return f"call({name}@{info.behavior_version!r};{args};{kwargs})"

    for op in ops:
        if isinstance(op, Assign):
            parts.append(f"assign {op.name}={expr(op.expr)}")
        elif isinstance(op, ForEach):
            parts.append(f"foreach {expr(op.items)} {{")
            _describe_ops(op.scope.ops, parts)
            parts.append("}")
        elif isinstance(op, Collect):
            fields = ",".join(f"{n}={expr(v)}" for n, v in op.fields)
            parts.append(f"collect#{op.collector.index}({fields})")


def source_logic(source: Source) -> str:
    """A text of what a source's rows go through: functions with their behavior versions,
    constants and collected fields, and the source's own settings (a dataclass spec such as
    ``LocalFile(binary=...)`` decides what a row holds). A change in it re-evaluates the
    source's rows."""
    spec = source.spec
    settings = repr(spec) if dataclasses.is_dataclass(spec) else type(spec).__name__
    parts: list[str] = [f"source {settings}"]
    for scope in source.row_scopes:
        parts.append("rows {")
        _describe_ops(scope.ops, parts)
        parts.append("}")
    return "\n".join(parts)


def content_fingerprint(content: Any) -> bytes:
    if isinstance(content, str):
        data = content.encode("utf-8", "surrogateescape")
    elif isinstance(content, bytes):
        data = content
    else:
        data = repr(content).encode()
    return hashlib.blake2b(data, digest_size=16).digest()
