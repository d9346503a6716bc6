"""Helpers for testing target connectors: drive one directly as the engine does, check that
its side effects are idempotent, record every call it receives, and run apps through the real
CLI, with faults (a failure, or SIGKILL in the middle of ``mutate``) injected on request.

Everything here is plain Python (no Textual, no pytest dependency); assertion helpers raise
``AssertionError`` subclasses, so they work under any test runner.

Driving a connector directly::

    from cocotui.testing import ConnectorHarness, assert_idempotent

    harness = ConnectorHarness(SqliteTable)
    target = harness.target(SqliteTable(database=db, table="docs"),
                            key_fields=["filename"], value_fields=["text"])
    assert_idempotent(target.create, snapshot=lambda: dump(db))
    assert_idempotent(lambda: target.upsert({"a.md": {"text": "hi"}}), snapshot=lambda: dump(db))

Running an app as a user would, in fresh processes::

    runner = AppRunner(app_path, state_dir)
    runner.apply()                                  # cocotui apply --yes --json
    outcome = runner.update(kill="mutate:rows=3")   # SIGKILL after 3 rows reached mutate
    assert outcome.killed
    assert runner.update().ok                       # the re-run rolls forward

Recording calls in-process (the engine's own calls, or the harness's)::

    with record_calls(SqliteTable) as recorder:
        ...
    assert [c.method for c in recorder.calls] == [...]

Fault injection and call logs in subprocesses are driven by environment variables that only
``python -m cocotui.testing ARGS`` (a drop-in for ``python -m cocotui ARGS``) reads:

``COCOTUI_TESTING_RECORD``
    Append every connector call to this file as a JSON line (written and fsynced before the
    method runs, so a call is logged even when the process dies inside it).
``COCOTUI_TESTING_FAIL``
    Comma-separated method names that raise :class:`InjectedFailure` instead of running.
``COCOTUI_TESTING_KILL``
    ``METHOD:before`` / ``METHOD:after``: SIGKILL the process before or after the method runs;
    ``mutate:rows=N``: hand ``N`` rows to ``mutate`` (across calls), then SIGKILL the process
    when the connector asks for the next one — in the middle of its loop (and transaction).
``COCOTUI_TESTING_KINDS``
    Comma-separated connector kinds (spec class names) to instrument; all by default.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from cocotui import registry
from cocotui.asyncbridge import await_if_needed
from cocotui.engine_object import dump, load
from cocotui.engine_value import key_decoder, value_decoder
from cocotui.op import (
    BoundMethod,
    ConnectorKind,
    FieldSchema,
    IndexOptions,
    TargetSpec,
    TargetStateCompatibility,
)
from cocotui.values import decode, encode

T = TypeVar("T")

RECORD_ENV = "COCOTUI_TESTING_RECORD"
FAIL_ENV = "COCOTUI_TESTING_FAIL"
KILL_ENV = "COCOTUI_TESTING_KILL"
KINDS_ENV = "COCOTUI_TESTING_KINDS"

#: Variables that change what a CLI process does; never inherited from the test's environment.
_SCRUBBED = (RECORD_ENV, FAIL_ENV, KILL_ENV, KINDS_ENV, "COCOTUI_STATE_DIR", "FORCE_COLOR")


class IdempotencyError(AssertionError):
    """A side-effecting method left a different end state when called a second time."""


class InjectedFailure(RuntimeError):
    """Raised instead of a connector method that ``fail=`` / ``COCOTUI_TESTING_FAIL`` names."""


# ---------------------------------------------------------------------------------------------
# Finding a connector kind


def connector_kind(connector: str | type) -> ConnectorKind:
    """The registered kind of a spec class, a connector class or a kind name (importing
    installed connector packages if needed)."""
    if isinstance(connector, str):
        kind = registry.get(connector)
    elif isinstance(connector, type) and issubclass(connector, TargetSpec):
        kind = registry.get(connector.__name__)
    else:
        kind = next((k for k in registry.all_kinds() if k.connector_cls is connector), None)
    if kind is None:
        raise LookupError(
            f"no connector is registered for {connector!r}; import the module that defines it"
        )
    return kind


def _kind_names(connectors: Iterable[str | type]) -> set[str]:
    names = set()
    for connector in connectors:
        if isinstance(connector, str):
            names.add(connector)
        elif isinstance(connector, type) and issubclass(connector, TargetSpec):
            names.add(connector.__name__)
        else:
            names.add(connector_kind(connector).kind)
    return names


# ---------------------------------------------------------------------------------------------
# Recording calls and injecting faults


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


@dataclasses.dataclass(frozen=True)
class KillPoint:
    """Where to SIGKILL the process: ``before``/``after`` a method, or after ``rows`` rows were
    handed to ``mutate``."""

    method: str
    when: str
    rows: int = 0

    @classmethod
    def parse(cls, text: str) -> KillPoint:
        method, _, when = text.partition(":")
        if when in ("before", "after"):
            return cls(method, when)
        if method == "mutate" and when.startswith("rows="):
            rows = int(when.removeprefix("rows="))
            if rows < 0:
                raise ValueError(f"kill point {text!r}: rows must be at least 0")
            return cls(method, "rows", rows)
        raise ValueError(
            f"kill point {text!r} must be METHOD:before, METHOD:after or mutate:rows=N"
        )


def _kill() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


class _RowBudget:
    """Rows ``mutate`` may still take before the process is killed."""

    def __init__(self, rows: int) -> None:
        self.remaining = rows

    def take(self) -> None:
        if self.remaining <= 0:
            _kill()
        self.remaining -= 1


class _KillingRows(dict[Any, Any]):
    """A mutation dict that kills the process when the connector asks for one row too many."""

    def __init__(self, rows: Mapping[Any, Any], budget: _RowBudget) -> None:
        super().__init__(rows)
        self._budget = budget

    def _metered(self, items: Iterable[T]) -> Iterator[T]:
        for item in items:
            self._budget.take()
            yield item

    def __iter__(self) -> Iterator[Any]:
        return self._metered(super().__iter__())

    def keys(self) -> Any:
        return self._metered(super().keys())

    def values(self) -> Any:
        return self._metered(super().values())

    def items(self) -> Any:
        return self._metered(super().items())


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
        self._budget = (
            _RowBudget(self.kill.rows) if self.kill and self.kill.when == "rows" else None
        )

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
                _kill()
            passed = args
            if self._budget is not None and method == "mutate":
                passed = tuple(
                    (prepared, _KillingRows(rows, self._budget)) for prepared, rows in args
                )
            try:
                call.result = await_if_needed(function(*passed))
            except BaseException as exc:
                call.error = exc
                raise
            if kill is not None and kill.method == method and kill.when == "after":
                _kill()
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
    instrumentation = _Instrumentation(recorder, _kind_names(connectors) if connectors else None)
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


# ---------------------------------------------------------------------------------------------
# Driving a connector directly, with the engine's calling conventions


def _fields(names: Sequence[str]) -> list[FieldSchema]:
    return [FieldSchema(name) for name in names]


def _stored(value: Any, where: str) -> Any:
    """``value`` as the engine stores it and reads it back (JSON-checked, TOML-encoded)."""
    return decode(encode(dump(value, where)))


class ConnectorHarness:
    """Calls a connector's methods exactly as the engine does: optional methods with the
    leading arguments they accept, ``async`` methods awaited, setup states and keys passed
    through the same JSON/TOML round trip as the state file, rows decoded per the annotation
    of ``mutate``."""

    def __init__(self, connector: str | type) -> None:
        self.kind = connector_kind(connector)

    def _call(self, method: str, *args: Any) -> Any:
        return self.kind.methods[method].call(*args)

    def has(self, method: str) -> bool:
        return method in self.kind.methods

    def persistent_key(self, spec: TargetSpec, target_name: str = "target") -> Any:
        key = self._call("get_persistent_key", spec, target_name)
        where = f"{self.kind.connector_cls.__qualname__}.get_persistent_key() result"
        return load(self.kind.persistent_key_type, _stored(key, where))

    def describe(self, key: Any) -> str:
        return str(self._call("describe", key)) if self.has("describe") else str(key)

    def setup_state(
        self, spec: TargetSpec, key_fields: Sequence[str], value_fields: Sequence[str]
    ) -> Any:
        """The desired setup state as ``apply_setup_change`` receives it."""
        if self.has("get_setup_state"):
            state = self._call(
                "get_setup_state",
                spec,
                _fields(key_fields),
                _fields(value_fields),
                IndexOptions(list(key_fields)),
            )
        else:
            state = spec
        stored = _stored(state, f"{self.kind.kind} setup state")
        return load(self.kind.setup_state_cls, stored)

    def compatibility(self, desired: Any, existing: Any) -> TargetStateCompatibility:
        """The connector's verdict (``PARTIALLY_COMPATIBLE`` without the method, as the engine
        assumes for any change)."""
        if _stored(desired, "desired") == _stored(existing, "existing"):
            return TargetStateCompatibility.COMPATIBLE
        if not self.has("check_state_compatibility"):
            return TargetStateCompatibility.PARTIALLY_COMPATIBLE
        result = self._call("check_state_compatibility", desired, existing)
        return TargetStateCompatibility(
            result.value if isinstance(result, TargetStateCompatibility) else result
        )

    def apply_setup_change(self, key: Any, previous: Any, current: Any) -> None:
        self._call("apply_setup_change", key, previous, current)

    def prepare(
        self,
        spec: TargetSpec,
        state: Any,
        key_fields: Sequence[str],
        value_fields: Sequence[str],
    ) -> Any:
        if not self.has("prepare"):
            return spec
        return self._call("prepare", spec, state, _fields(key_fields), _fields(value_fields))

    def mutate(self, *batches: tuple[Any, Mapping[Any, Any]]) -> None:
        """``mutate(*batches)``: each batch is ``(prepared, {key: value | None})``, already in
        the shape the connector receives."""
        self.kind.methods["mutate"].call(*[(p, dict(rows)) for p, rows in batches])

    def target(
        self,
        spec: TargetSpec,
        key_fields: Sequence[str],
        value_fields: Sequence[str],
        name: str = "target",
    ) -> HarnessTarget:
        """One target of this kind, as an export with these fields would declare it."""
        return HarnessTarget(self, spec, tuple(key_fields), tuple(value_fields), name)


class HarnessTarget:
    """One target driven through its setup and data methods."""

    def __init__(
        self,
        harness: ConnectorHarness,
        spec: TargetSpec,
        key_fields: tuple[str, ...],
        value_fields: tuple[str, ...],
        name: str,
    ) -> None:
        self.harness = harness
        self.spec = spec
        self.key_fields = key_fields
        self.value_fields = value_fields
        self.name = name
        self.key = harness.persistent_key(spec, name)
        self.state = harness.setup_state(spec, key_fields, value_fields)
        where = f"{harness.kind.kind} target {name}"
        self._decode_key = key_decoder(harness.kind.mutation_key_type, key_fields, where)
        self._decode_value = value_decoder(harness.kind.mutation_value_type, value_fields, where)
        self._prepared: Any = None
        self._is_prepared = False

    def describe(self) -> str:
        return self.harness.describe(self.key)

    # -- setup ----------------------------------------------------------------------------------

    def create(self) -> None:
        """``apply_setup_change(key, None, state)``."""
        self.harness.apply_setup_change(self.key, None, self.state)

    def drop(self) -> None:
        """``apply_setup_change(key, state, None)``."""
        self.harness.apply_setup_change(self.key, self.state, None)

    def changed(
        self,
        spec: TargetSpec | None = None,
        *,
        key_fields: Sequence[str] | None = None,
        value_fields: Sequence[str] | None = None,
    ) -> HarnessTarget:
        """The same target with another spec or other fields (nothing is applied; see
        :meth:`change_to`). The persistent key must stay the same: a new key is a drop of this
        target and the creation of another."""
        other = HarnessTarget(
            self.harness,
            spec if spec is not None else self.spec,
            tuple(key_fields) if key_fields is not None else self.key_fields,
            tuple(value_fields) if value_fields is not None else self.value_fields,
            self.name,
        )
        if _stored(other.key, "key") != _stored(self.key, "key"):
            raise ValueError(
                f"the persistent key changed ({self.key!r} -> {other.key!r}): that is a drop "
                f"of one target and the creation of another"
            )
        return other

    def compatibility_of(self, desired: HarnessTarget) -> TargetStateCompatibility:
        return self.harness.compatibility(desired.state, self.state)

    def change_to(self, desired: HarnessTarget) -> None:
        """``apply_setup_change(key, this state, desired state)``."""
        self.harness.apply_setup_change(self.key, self.state, desired.state)

    # -- data -----------------------------------------------------------------------------------

    @property
    def prepared(self) -> Any:
        """What ``mutate`` receives for this target (``prepare`` runs once)."""
        if not self._is_prepared:
            self._prepared = self.harness.prepare(
                self.spec, self.state, self.key_fields, self.value_fields
            )
            self._is_prepared = True
        return self._prepared

    def _decoded(self, rows: Mapping[Any, Mapping[str, Any] | None]) -> dict[Any, Any]:
        decoded: dict[Any, Any] = {}
        for key, value in rows.items():
            parts = tuple(key) if len(self.key_fields) > 1 else (key,)
            decoded[self._decode_key(parts)] = (
                None if value is None else self._decode_value(dict(value))
            )
        return decoded

    def mutate(self, rows: Mapping[Any, Mapping[str, Any] | None]) -> None:
        """One ``mutate`` call for this target. Keys are a single field's value or a tuple of
        the key fields' values; values are dicts of the value fields (``None`` deletes), decoded
        as the engine decodes them for the connector's annotation."""
        self.harness.mutate((self.prepared, self._decoded(rows)))

    def upsert(self, rows: Mapping[Any, Mapping[str, Any]]) -> None:
        self.mutate(rows)

    def delete(self, *keys: Any) -> None:
        self.mutate(dict.fromkeys(keys))


def assert_idempotent(
    action: Callable[[], object], snapshot: Callable[[], T], *, label: str = ""
) -> T:
    """Run ``action`` twice; the end state (as ``snapshot`` reads it) must be the same after
    the second run as after the first. Returns that state."""
    action()
    first = snapshot()
    action()
    second = snapshot()
    if first != second:
        what = label or getattr(action, "__name__", "the action")
        raise IdempotencyError(
            f"{what} is not idempotent: the end state after a second call differs\n"
            f"  after 1 call:  {first!r}\n  after 2 calls: {second!r}"
        )
    return second


def assert_unchanged(
    action: Callable[[], object], snapshot: Callable[[], T], *, label: str = ""
) -> T:
    """``action`` must leave the state as it was (e.g. deleting a missing row)."""
    before = snapshot()
    action()
    after = snapshot()
    if before != after:
        what = label or getattr(action, "__name__", "the action")
        raise IdempotencyError(
            f"{what} should change nothing, but the state changed\n"
            f"  before: {before!r}\n  after:  {after!r}"
        )
    return after


def check_idempotency(
    target: HarnessTarget,
    rows: Mapping[Any, Mapping[str, Any]],
    snapshot: Callable[[], T],
    *,
    missing_key: Any,
) -> None:
    """The contract's idempotency checks in one go, on a target that does not exist yet:

    create twice; upsert ``rows`` twice; create again over the existing resource (must keep
    it and its rows); delete ``missing_key`` (must change nothing), twice; delete one row
    twice; drop twice. Raises :class:`IdempotencyError` at the first violation.
    """
    if not rows:
        raise ValueError("check_idempotency needs at least one row")
    assert_idempotent(target.create, snapshot, label="create")
    assert_idempotent(lambda: target.upsert(rows), snapshot, label="upsert")
    assert_unchanged(target.create, snapshot, label="create over the existing resource")
    assert_unchanged(lambda: target.delete(missing_key), snapshot, label="delete a missing row")
    first = next(iter(rows))
    assert_idempotent(lambda: target.delete(first), snapshot, label="delete a row")
    assert_idempotent(target.drop, snapshot, label="drop")


# ---------------------------------------------------------------------------------------------
# Running apps through the CLI, in fresh processes


@dataclasses.dataclass(frozen=True)
class CliResult:
    """A finished ``cocotui`` process."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL

    def json(self) -> Any:
        """stdout as one JSON document (``--json`` of plan, apply, drop, ls, connectors)."""
        return json.loads(self.stdout)

    def events(self) -> list[dict[str, Any]]:
        """stdout as JSON lines (``update --json``); a line cut short by a kill is skipped."""
        found = []
        for line in self.stdout.splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                found.append(json.loads(line))
        return found

    def expect(self, *returncodes: int) -> CliResult:
        """``self``, or an ``AssertionError`` showing the output when the exit code is not one
        of ``returncodes`` (default 0)."""
        if self.returncode not in (returncodes or (0,)):
            raise AssertionError(
                f"cocotui {' '.join(self.args)} exited {self.returncode}\n"
                f"--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"
            )
        return self


@dataclasses.dataclass(frozen=True)
class UpdateOutcome:
    """A finished ``cocotui update --json``."""

    result: CliResult

    @property
    def returncode(self) -> int:
        return self.result.returncode

    @property
    def ok(self) -> bool:
        return self.result.returncode == 0

    @property
    def killed(self) -> bool:
        return self.result.killed

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.result.events()

    def of(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == event]

    @property
    def finished(self) -> dict[str, Any] | None:
        """The ``run.finished`` event (``None`` if the run did not finish)."""
        found = self.of("run.finished")
        return found[-1] if found else None

    @property
    def failed_rows(self) -> list[dict[str, Any]]:
        return self.of("row.failed")

    def counters(self, target: str) -> dict[str, int]:
        """The final counters of ``target`` (``Flow.export``)."""
        finished = self.finished
        if finished is None:
            raise AssertionError(f"the run did not finish:\n{self.result.stderr}")
        counters: dict[str, int] = finished["targets"][target]
        return counters


class AppRunner:
    """Runs ``cocotui`` commands on one app and state directory, each in a fresh process, as a
    user would (through ``python -m cocotui.testing``, which behaves exactly like
    ``python -m cocotui`` unless faults or a call log are asked for)."""

    def __init__(
        self,
        app: str | os.PathLike[str],
        state_dir: str | os.PathLike[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        app_name: str | None = None,
        workers: int = 1,
        timeout: float = 120.0,
        python: str = sys.executable,
    ) -> None:
        self.app = str(app)
        self.state_dir = str(state_dir)
        self.env = dict(env or {})
        self.cwd = str(cwd) if cwd is not None else str(Path(self.app).parent)
        self.app_name = app_name
        self.workers = workers
        self.timeout = timeout
        self.python = python

    def _environment(self, overrides: Mapping[str, str | None]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.update(self.env)
        for key, value in overrides.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def cli(
        self,
        *args: str | os.PathLike[str],
        env: Mapping[str, str | None] | None = None,
        input: str | None = None,
        record: str | os.PathLike[str] | None = None,
        fail: Iterable[str] = (),
        kill: str | None = None,
    ) -> CliResult:
        """``cocotui ARGS`` (no app or state directory added); ``record``, ``fail`` and
        ``kill`` instrument the connectors of that process (see the module docstring)."""
        overrides: dict[str, str | None] = dict(env or {})
        if record is not None:
            overrides[RECORD_ENV] = str(record)
        if fail:
            overrides[FAIL_ENV] = ",".join(fail)
        if kill is not None:
            KillPoint.parse(kill)
            overrides[KILL_ENV] = kill
        argv = tuple(str(a) for a in args)
        proc = subprocess.run(
            [self.python, "-m", "cocotui.testing", *argv],
            env=self._environment(overrides),
            cwd=self.cwd,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=self.timeout,
        )
        return CliResult(argv, proc.returncode, proc.stdout, proc.stderr)

    def _app_args(self) -> list[str]:
        args = [self.app, "--state-dir", self.state_dir]
        if self.app_name:
            args += ["--app-name", self.app_name]
        return args

    def command(self, command: str, *args: str, **options: Any) -> CliResult:
        """``cocotui COMMAND APP --state-dir DIR ARGS``."""
        return self.cli(command, *self._app_args(), *args, **options)

    def plan(self, **options: Any) -> dict[str, Any]:
        """``plan --json`` (must succeed)."""
        plan: dict[str, Any] = self.command("plan", "--json", **options).expect().json()
        return plan

    def ls(self, **options: Any) -> dict[str, Any]:
        listing: dict[str, Any] = self.command("ls", "--json", **options).expect().json()
        return listing

    def apply(self, *targets: str, expect: Sequence[int] = (0,), **options: Any) -> dict[str, Any]:
        """``apply --yes --json [--target T]...``; the exit code must be one of ``expect``."""
        args = ["--yes", "--json"]
        for target in targets:
            args += ["--target", target]
        result = self.command("apply", *args, **options).expect(*expect)
        applied: dict[str, Any] = result.json()
        return applied

    def drop(self, *flows: str, expect: Sequence[int] = (0,), **options: Any) -> dict[str, Any]:
        """``drop FLOW... --yes --json``; the exit code must be one of ``expect``."""
        result = self.command("drop", *flows, "--yes", "--json", **options).expect(*expect)
        dropped: dict[str, Any] = result.json()
        return dropped

    def update(self, *args: str, reexport: bool = False, **options: Any) -> UpdateOutcome:
        """``update --json --workers N [--reexport] ARGS`` (any exit code; see ``.ok``)."""
        extra = ["--json", "--workers", str(self.workers), *args]
        if reexport:
            extra.append("--reexport")
        return UpdateOutcome(self.command("update", *extra, **options))


@dataclasses.dataclass(frozen=True)
class AppRun:
    """What :func:`run_app` did: the applied setup changes and the update."""

    apply: dict[str, Any]
    update: UpdateOutcome


def run_app(
    app: str | os.PathLike[str],
    state_dir: str | os.PathLike[str],
    *,
    env: Mapping[str, str] | None = None,
    **runner_options: Any,
) -> AppRun:
    """Apply the app's pending setup changes, then update its targets, in fresh processes."""
    runner = AppRunner(app, state_dir, env=env, **runner_options)
    applied = runner.apply()
    return AppRun(applied, runner.update())


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m cocotui.testing ARGS``: ``cocotui ARGS`` with connectors instrumented as the
    ``COCOTUI_TESTING_*`` variables ask."""
    install_from_env()
    from cocotui.cli.main import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = [
    "AppRun",
    "AppRunner",
    "Call",
    "CallRecorder",
    "CliResult",
    "ConnectorHarness",
    "HarnessTarget",
    "IdempotencyError",
    "InjectedFailure",
    "KillPoint",
    "UpdateOutcome",
    "assert_idempotent",
    "assert_unchanged",
    "check_idempotency",
    "connector_kind",
    "install_from_env",
    "jsonable",
    "read_call_log",
    "record_calls",
    "run_app",
]
