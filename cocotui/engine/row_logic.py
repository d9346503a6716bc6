"""What decides whether a tracked row must be evaluated again: the text of its source's logic
(functions with their behavior versions, constants, collected fields) and the fingerprint of
its content."""

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
    ForEach,
    Generated,
    Op,
    Source,
    SubField,
)
from cocotui.op_function import function_identity, function_info


def _describe_ops(ops: Iterable[Op], parts: list[str]) -> None:
    def expr(e: Expr) -> str:
        if isinstance(e, FieldRef):
            return f"field({e.scope.depth},{e.name})"
        if isinstance(e, SubField):
            return f"{expr(e.base)}.{e.name}"
        if isinstance(e, Const):
            return f"const({e.value!r})"
        if isinstance(e, Generated):
            return f"generated({e.field.value})"
        info = function_info(e.fn)
        name = function_identity(e.fn)
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
    """16 bytes that change when a row's content does. (SHA-256 would hash a 2 KB file about
    twice as fast on CPUs with SHA instructions, but every row tracked with a fingerprint of
    before whose stamp changed and content did not would then be evaluated again once.)"""
    if isinstance(content, str):
        data = content.encode("utf-8", "surrogateescape")
    elif isinstance(content, bytes):
        data = content
    else:
        data = repr(content).encode()
    return hashlib.blake2b(data, digest_size=16).digest()
