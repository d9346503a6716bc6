"""Recording the calls connectors receive (in memory, and as JSON lines in a file fsynced
before each method runs) and injecting the faults a test asks for."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from cocotui import registry
from cocotui.asyncbridge import await_if_needed
from cocotui.op import BoundMethod, ConnectorKind
from cocotui.testing.env import FAIL_ENV, KILL_ENV, KINDS_ENV, RECORD_ENV
from cocotui.testing.faults import InjectedFailure, KillingRows, KillPoint, RowBudget, kill_process
from cocotui.testing.kinds import kind_names


def jsonable(value: Any) -> Any:
    """A JSON value for anything the engine hands a connector: dataclasses and NamedTuples as
    dicts, tuples as lists, dicts with non-string keys as ``[key, value]`` pairs, bytes as
    text, anything else as its ``repr``."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {name: jsonable(v) for name, v in zip(value._fields, value, strict=True)}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: jsonable(v) for k, v in value.items()}
        return [[jsonable(k), jsonable(v)] for k, v in value.items()]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return repr(value)


@dataclasses.dataclass
class Call:
    """One call a connector received: its arguments, and what it returned or raised."""

    kind: str
    method: str
    args: tuple[Any, ...]
    result: Any = None
    error: BaseException | None = None

    @property
    def rows(self) -> dict[Any, Any]:
        """For a ``mutate`` call: every ``key -> value | None`` it carried, across targets."""
        merged: dict[Any, Any] = {}
        if self.method == "mutate":
            for _, rows in self.args:
                merged.update(rows)
        return merged


class CallRecorder:
    """Records the calls of instrumented connector kinds; optionally logs them to a file as
    JSON lines and injects failures or a SIGKILL."""

    def __init__(
        self,
        *,
        log: str | os.PathLike[str] | None = None,
        fail: Iterable[str] = (),
        kill: str | KillPoint | None = None,
    ) -> None:
        self.calls: list[Call] = []
        self.log = Path(log) if log is not None else None
        self.fail = frozenset(fail)
        self.kill = KillPoint.parse(kill) if isinstance(kill, str) else kill
        self._budget = RowBudget(self.kill.rows) if self.kill and self.kill.when == "rows" else None

    def of(self, *methods: str) -> list[Call]:
        """The calls of ``methods`` (every call when none is given), oldest first."""
        return [c for c in self.calls if not methods or c.method in methods]

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]

    def mutated_rows(self) -> list[dict[Any, Any]]:
        """The rows of every ``mutate`` call, one dict per call."""
        return [c.rows for c in self.of("mutate")]

    def clear(self) -> None:
        self.calls.clear()

    def _write(self, call: Call) -> None:
        if self.log is None:
            return
        line = json.dumps(
            {"kind": call.kind, "method": call.method, "args": jsonable(list(call.args))}
        )
        with open(self.log, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())

    def wrap(self, kind: str, method: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """``function`` recording each call (and failing or dying when asked to)."""

        def recorded(*args: Any) -> Any:
            if method == "mutate":
                args = tuple((prepared, dict(rows)) for prepared, rows in args)
            call = Call(kind, method, args)
            self.calls.append(call)
            self._write(call)
            if method in self.fail:
                call.error = InjectedFailure(f"{kind}.{method} failed on purpose")
                raise call.error
            kill = self.kill
            if kill is not None and kill.method == method and kill.when == "before":
                kill_process()
            passed = args
            if self._budget is not None and method == "mutate":
                passed = tuple(
                    (prepared, KillingRows(rows, self._budget)) for prepared, rows in args
                )
            try:
                call.result = await_if_needed(function(*passed))
            except BaseException as exc:
                call.error = exc
                raise
            if kill is not None and kill.method == method and kill.when == "after":
                kill_process()
            return call.result

        recorded.__name__ = getattr(function, "__name__", method)
        recorded.__qualname__ = getattr(function, "__qualname__", method)
        return recorded


class _Instrumentation:
    """Wraps the methods of registered kinds (and of kinds registered later) for a recorder."""

    def __init__(self, recorder: CallRecorder, kinds: set[str] | None) -> None:
        self.recorder = recorder
        self.kinds = kinds
        self.originals: dict[str, tuple[ConnectorKind, dict[str, BoundMethod]]] = {}
        self._register: Callable[[ConnectorKind], None] | None = None

    def _instrument(self, kind: ConnectorKind) -> None:
        if (self.kinds is not None and kind.kind not in self.kinds) or (
            kind.kind in self.originals and self.originals[kind.kind][0] is kind
        ):
            return
        self.originals[kind.kind] = (kind, dict(kind.methods))
        for name, bound in list(kind.methods.items()):
            wrapped = self.recorder.wrap(kind.kind, name, bound.function)
            kind.methods[name] = BoundMethod(wrapped, bound.arity)

    def install(self) -> None:
        for kind in registry.all_kinds():
            self._instrument(kind)
        original = registry.register
        self._register = original

        def register(kind: ConnectorKind) -> None:
            original(kind)
            self._instrument(kind)

        setattr(registry, "register", register)  # noqa: B010 (a module attribute)

    def uninstall(self) -> None:
        if self._register is not None:
            setattr(registry, "register", self._register)  # noqa: B010
            self._register = None
        for kind, methods in self.originals.values():
            kind.methods.clear()
            kind.methods.update(methods)
        self.originals.clear()


@contextlib.contextmanager
def record_calls(
    *connectors: str | type,
    log: str | os.PathLike[str] | None = None,
    fail: Iterable[str] = (),
    kill: str | KillPoint | None = None,
) -> Iterator[CallRecorder]:
    """Record every call the given connector kinds (spec classes, connector classes or kind
    names; all kinds when none is given) receive in this process, including kinds registered
    inside the block (an app loaded there). Methods are restored on exit."""
    recorder = CallRecorder(log=log, fail=fail, kill=kill)
    instrumentation = _Instrumentation(recorder, kind_names(connectors) if connectors else None)
    instrumentation.install()
    try:
        yield recorder
    finally:
        instrumentation.uninstall()


def read_call_log(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The calls logged by ``COCOTUI_TESTING_RECORD``/``log=``: ``{"kind", "method", "args"}``
    per call, oldest first (a line cut short by a kill is skipped)."""
    found = []
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    for line in text.splitlines():
        try:
            found.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return found


def install_from_env() -> CallRecorder | None:
    """Instrument connectors as the ``COCOTUI_TESTING_*`` variables ask (nothing when none is
    set). Used by ``python -m cocotui.testing``."""
    log = os.environ.get(RECORD_ENV) or None
    fail = [m.strip() for m in os.environ.get(FAIL_ENV, "").split(",") if m.strip()]
    kill = os.environ.get(KILL_ENV) or None
    kinds = {k.strip() for k in os.environ.get(KINDS_ENV, "").split(",") if k.strip()}
    if not (log or fail or kill):
        return None
    recorder = CallRecorder(log=log, fail=fail, kill=kill)
    _Instrumentation(recorder, kinds or None).install()
    return recorder
