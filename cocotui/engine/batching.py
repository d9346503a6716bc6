"""Calls of ``batching=True`` functions made for many rows at once.

When a row scope runs over the rows of a table (``with doc["chunks"].row() as chunk``), the
batching calls it assigns whose arguments the rows already hold (their own fields, outer
fields, constants) are made once for all the rows before the scope runs row by row: an
embedding model then encodes every chunk of a document in one call (in slices of the
function's ``max_batch_size``) instead of one call per chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cocotui.flow.model import Assign, Call, Const, Expr, FieldRef, ForEach, RowScope, SubField
from cocotui.op_function import FunctionInfo, function_info, invoke_batch


def _known_at_entry(expr: Expr, scope: RowScope, assigned: set[str]) -> bool:
    """Whether ``expr`` can be evaluated before any op of ``scope`` has run."""
    if isinstance(expr, Const):
        return True
    if isinstance(expr, SubField):
        return _known_at_entry(expr.base, scope, assigned)
    if isinstance(expr, FieldRef):
        return expr.scope is not scope or expr.name not in assigned
    return False


def _root_field(expr: Expr) -> str:
    while isinstance(expr, SubField):
        expr = expr.base
    return expr.name if isinstance(expr, FieldRef) else ""


def batched_calls(scope: RowScope) -> tuple[Call, ...]:
    """The batching calls of ``scope`` to make for all its rows at once."""
    assigned = {op.name for op in scope.ops if isinstance(op, Assign)}
    for op in scope.ops:  # a nested row() writes fields into its table: not known at entry
        if isinstance(op, ForEach) and op.write_back:
            assigned.add(_root_field(op.items))
    calls = []
    for op in scope.ops:
        if not (isinstance(op, Assign) and isinstance(op.expr, Call)):
            continue
        call = op.expr
        if call.scope is not scope or not function_info(call.fn).batching:
            continue
        arguments = (*call.args, *(value for _, value in call.kwargs))
        if all(_known_at_entry(a, scope, assigned) for a in arguments):
            calls.append(call)
    return tuple(calls)


def call_in_batches(
    fn: Callable[..., Any],
    info: FunctionInfo,
    calls: list[tuple[list[Any], dict[str, Any]]],
) -> list[Any]:
    """The results of ``fn`` for each ``(args, kwargs)`` of ``calls`` (all with the same
    keywords), in batches of at most ``info.max_batch_size``."""
    size = info.max_batch_size or len(calls) or 1
    results: list[Any] = []
    for start in range(0, len(calls), size):
        results.extend(invoke_batch(fn, calls[start : start + size]))
    return results
