"""Calls of ``batching=True`` functions made for many rows at once.

A row's evaluation (:class:`cocotui.engine.evaluate.FlowEvaluator`) is a generator that stops at
each batching call it needs, yielding a :class:`BatchRequest`. :func:`run_together` runs the
evaluations of many source rows side by side: when every one of them waits for a batching call
(or is done), each function is called once with the argument lists all of them wait for, in
slices of its ``max_batch_size``, and each evaluation resumes with its own results. An embedding
model thus encodes the chunks of every document of an engine batch in one call instead of one
call per document (or per chunk).

Inside a row, when a row scope runs over the rows of a table (``with doc["chunks"].row() as
chunk``), the batching calls it assigns whose arguments the rows already hold (their own fields,
outer fields, constants) are requested once for all the rows before the scope runs row by row
(:func:`batched_calls`), so that a document's chunks wait together.

A failing call fails only the rows whose arguments made it fail: a slice that raises is split in
halves and called again until the failure is narrowed to the arguments of one row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator
from typing import Any, TypeVar

from cocotui.flow.model import Assign, Call, Const, Expr, FieldRef, ForEach, RowScope, SubField
from cocotui.op_function import FunctionInfo, function_info, invoke_batch

T = TypeVar("T")

#: One call's positional and keyword arguments.
Arguments = tuple[list[Any], dict[str, Any]]


@dataclasses.dataclass(frozen=True)
class BatchRequest:
    """A row's evaluation waits for the results of ``fn`` on each of ``calls`` (all with the
    same keywords); it is resumed with the list of results, in the same order."""

    fn: Callable[..., Any]
    info: FunctionInfo
    calls: list[Arguments]

    def group(self) -> tuple[int, int, tuple[str, ...]]:
        """Requests of the same group are answered by the same calls of the function."""
        args, kwargs = self.calls[0]
        return id(self.fn), len(args), tuple(sorted(kwargs))


#: A row's evaluation: it yields each batching call it waits for and is sent the results.
Evaluation = Generator[BatchRequest, list[Any], T]


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
    """The batching calls of ``scope`` to request for all its rows at once."""
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


class _GroupCall:
    """The calls of one function for the requests of one group: per argument list its result,
    per row (index of its evaluation) the first error its arguments raised."""

    def __init__(self, fn: Callable[..., Any], info: FunctionInfo) -> None:
        self.fn = fn
        self.size = info.max_batch_size
        self.calls: list[Arguments] = []
        self.owners: list[int] = []
        self.results: list[Any] = []
        self.failures: dict[int, BaseException] = {}

    def add(self, owner: int, calls: list[Arguments]) -> None:
        self.calls.extend(calls)
        self.owners.extend([owner] * len(calls))

    def run(self) -> None:
        self.results = [None] * len(self.calls)
        size = self.size or len(self.calls)
        for start in range(0, len(self.calls), size):
            self._call(list(range(start, min(start + size, len(self.calls)))))

    def _call(self, indices: list[int]) -> None:
        live = [i for i in indices if self.owners[i] not in self.failures]
        if not live:
            return
        try:
            results = invoke_batch(self.fn, [self.calls[i] for i in live])
        except (Exception, SystemExit) as exc:  # as for a plain call: the rows fail, not the run
            if len({self.owners[i] for i in live}) == 1:
                self.failures[self.owners[live[0]]] = exc
                return
            half = len(live) // 2
            self._call(live[:half])
            self._call(live[half:])
            return
        for index, result in zip(live, results, strict=True):
            self.results[index] = result


def _answer(waiting: dict[int, BatchRequest]) -> dict[int, tuple[bool, Any]]:
    """Per waiting evaluation, ``(False, its results)`` or ``(True, the error to raise)``."""
    groups: dict[tuple[int, int, tuple[str, ...]], _GroupCall] = {}
    for owner, request in waiting.items():
        group = groups.get(request.group())
        if group is None:
            group = groups[request.group()] = _GroupCall(request.fn, request.info)
        group.add(owner, request.calls)
    answers: dict[int, tuple[bool, Any]] = {}
    for group in groups.values():
        group.run()
        for owner, result in zip(group.owners, group.results, strict=True):
            if owner in group.failures:
                answers[owner] = (True, group.failures[owner])
            else:
                answers.setdefault(owner, (False, []))[1].append(result)
    return answers


def run_together(evaluations: list[Evaluation[T]]) -> list[T | BaseException]:
    """Run ``evaluations`` side by side, answering their batching requests together; per
    evaluation, what it returned or the error it raised (``SystemExit`` included: a function's
    ``sys.exit()`` fails its row, not the run)."""
    outcomes: dict[int, T | BaseException] = {}
    resume: dict[int, tuple[bool, Any]] = dict.fromkeys(range(len(evaluations)), (False, None))
    while resume:
        waiting: dict[int, BatchRequest] = {}
        for index, (failed, value) in resume.items():
            evaluation = evaluations[index]
            try:
                waiting[index] = evaluation.throw(value) if failed else evaluation.send(value)
            except StopIteration as done:
                outcomes[index] = done.value
            except (Exception, SystemExit) as exc:
                outcomes[index] = exc
        resume = _answer(waiting)
    return [outcomes[index] for index in range(len(evaluations))]


def run_alone(evaluation: Evaluation[T]) -> T:
    """The result of one evaluation (its batching requests answered as they come)."""
    (outcome,) = run_together([evaluation])
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome
