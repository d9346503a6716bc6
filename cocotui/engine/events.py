"""Events the engine reports to front ends (CLI renderers, the TUI, ``--json``), and the stop
token front ends use to ask a run to end at the next batch boundary.

One frozen dataclass per event kind; front ends dispatch on the type. ``kind`` is the stable
name documented in the README, and :meth:`Event.to_json` gives the ``--json`` line: the kind,
the time and the event's fields, in declaration order. Counters are copied when an event is
made: the engine goes on updating its own.
"""

from __future__ import annotations

import dataclasses
import enum
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar, dataclass_transform

from cocotui.engine.counters import SourceCounters, TargetCounters


def _now() -> float:
    return time.time()


T = TypeVar("T")


@dataclass_transform(
    kw_only_default=True, frozen_default=True, field_specifiers=(dataclasses.field,)
)
def _event(cls: type[T]) -> type[T]:
    """An event class: a frozen, keyword-only dataclass whose methods are :class:`Event`'s,
    written once for every event class rather than generated for each as ``frozen=True``
    does (that generation was half the cost of importing this module, and every command
    imports it at start-up). They behave as the generated ones would."""
    return dataclasses.dataclass(init=False, repr=False, eq=False, kw_only=True)(cls)


@_event
class Event:
    """The base of every event: its kind and when it happened."""

    kind: ClassVar[str] = ""
    time: float = dataclasses.field(default_factory=_now)

    def __init__(self, **values: Any) -> None:
        for field in dataclasses.fields(self):
            if field.name in values:
                value = values.pop(field.name)
            elif field.default is not dataclasses.MISSING:
                value = field.default
            elif field.default_factory is not dataclasses.MISSING:
                value = field.default_factory()
            else:
                raise TypeError(f"{type(self).__name__}() missing keyword argument {field.name!r}")
            object.__setattr__(self, field.name, value)
        if values:
            unknown = ", ".join(map(repr, values))
            raise TypeError(f"{type(self).__name__}() got unexpected keyword arguments {unknown}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, field.name) for field in dataclasses.fields(self))

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Event)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{field.name}={getattr(self, field.name)!r}" for field in dataclasses.fields(self)
        )
        return f"{self.__class__.__qualname__}({fields})"

    @property
    def name(self) -> str:
        """The kind (kept for observers written against the untyped events)."""
        return self.kind

    @property
    def data(self) -> dict[str, Any]:
        """The event's fields as ``--json`` writes them, without ``event`` and ``time``."""
        return {
            field.name: _plain(getattr(self, field.name))
            for field in dataclasses.fields(self)
            if field.name != "time"
        }

    def to_json(self) -> dict[str, Any]:
        return {"event": self.kind, "time": round(self.time, 6), **self.data}


def _plain(value: Any) -> Any:
    if isinstance(value, SourceCounters | TargetCounters):
        return dataclasses.asdict(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def target_snapshot(counters: Mapping[str, TargetCounters]) -> dict[str, TargetCounters]:
    return {name: dataclasses.replace(c) for name, c in counters.items()}


# -- a run ------------------------------------------------------------------------------------


@_event
class RunStarted(Event):
    kind: ClassVar[str] = "run.started"
    app: str
    targets: tuple[str, ...]
    skipped: tuple[str, ...]
    reexport: bool


@_event
class RunFinished(Event):
    kind: ClassVar[str] = "run.finished"
    elapsed: float
    stopped: bool
    errors: int
    skipped: tuple[str, ...]
    targets: Mapping[str, TargetCounters]
    sources: Mapping[str, SourceCounters]


@_event
class TrackingLost(Event):
    """Targets whose setup is applied but whose row tracking is gone."""

    kind: ClassVar[str] = "tracking.lost"
    targets: tuple[str, ...]
    flows: tuple[str, ...]
    tracking: str


# -- a source ---------------------------------------------------------------------------------


@_event
class SourceListed(Event):
    kind: ClassVar[str] = "source.listed"
    source: str
    rows: int
    to_process: int
    gone: int


@_event
class SourceFailed(Event):
    kind: ClassVar[str] = "source.failed"
    source: str
    error: str
    traceback: str


@_event
class SourceFinished(Event):
    kind: ClassVar[str] = "source.finished"
    source: str
    counters: SourceCounters

    @property
    def data(self) -> dict[str, Any]:
        return {"source": self.source, **dataclasses.asdict(self.counters)}


@_event
class RowFailed(Event):
    kind: ClassVar[str] = "row.failed"
    source: str
    row: str
    #: the target keys the row would have changed (at most 20)
    keys: tuple[str, ...]
    error: str
    traceback: str
    #: the targets whose ``mutate`` failed for the row (none when the row failed before)
    targets: tuple[str, ...] = ()


@_event
class BatchApplied(Event):
    kind: ClassVar[str] = "batch.applied"
    source: str
    rows: int
    committed: int
    done: int
    total: int
    targets: Mapping[str, TargetCounters]


@_event
class MutateStarted(Event):
    """A connector's ``mutate`` call begins: the target rows it carries are in flight (each
    target's ``in_flight``) until the matching :class:`MutateFinished`."""

    kind: ClassVar[str] = "mutate.started"
    source: str
    #: the connector kind called (one call carries all its targets' changes)
    connector: str
    #: source rows whose changes the call carries
    rows: int
    targets: Mapping[str, TargetCounters]


@_event
class MutateFinished(Event):
    """The ``mutate`` call returned (``ok``) or raised (its rows are then isolated, or fail);
    the targets' ``in_flight`` is back down."""

    kind: ClassVar[str] = "mutate.finished"
    source: str
    connector: str
    ok: bool
    elapsed: float
    targets: Mapping[str, TargetCounters]


@_event
class KeyDuplicate(Event):
    kind: ClassVar[str] = "key.duplicate"
    target: str
    key: str
    rows: tuple[str, ...]
    #: collected more than once from one source row (rather than produced by several)
    same_row: bool


# -- live mode --------------------------------------------------------------------------------


@_event
class WatcherError(Event):
    kind: ClassVar[str] = "watcher.error"
    error: str


class PassReason(enum.StrEnum):
    """Why a live pass runs (written as its value in ``--json``)."""

    INITIAL = "initial"
    WATCH = "watch"
    INTERVAL = "interval"
    #: only a full listing tells what changed (the directory moved, the watcher failed)
    RELIST = "relist"


@_event
class LivePassStarted(Event):
    kind: ClassVar[str] = "live.pass_started"
    source: str
    reason: PassReason
    #: rows to look at, or ``None`` for a full listing
    rows: int | None


@_event
class LivePassFinished(Event):
    kind: ClassVar[str] = "live.pass_finished"
    source: str
    reason: PassReason
    counters: SourceCounters
    #: the whole pass, listing included (wall seconds)
    elapsed: float
    #: seconds from the first change the pass exported being seen by the watcher to the end
    #: of the pass (watch passes only)
    lag: float | None = None

    @property
    def data(self) -> dict[str, Any]:
        counts = dataclasses.asdict(self.counters)
        counts["elapsed"] = round(self.elapsed, 6)
        lag = None if self.lag is None else round(self.lag, 6)
        return {"source": self.source, "reason": self.reason, **counts, "lag": lag}


@_event
class LiveReady(Event):
    kind: ClassVar[str] = "live.ready"
    watched: tuple[str, ...]
    #: source -> refresh interval (seconds)
    interval: Mapping[str, float]
    #: sources processed once (neither watched nor re-listed)
    once: tuple[str, ...]


# -- applying setup changes -------------------------------------------------------------------


@_event
class ApplyChangeStarted(Event):
    kind: ClassVar[str] = "apply.change_started"
    target: str
    action: str


@_event
class ApplyChangeFailed(Event):
    kind: ClassVar[str] = "apply.change_failed"
    target: str
    error: str
    traceback: str


@_event
class ApplyChangeDone(Event):
    kind: ClassVar[str] = "apply.change_done"
    target: str
    action: str


#: The events that report a failure.
FAILURES = (RowFailed, SourceFailed, ApplyChangeFailed)

Observer = Callable[[Event], None]


def ignore(_: Event) -> None:
    """An observer that drops every event."""


class StopToken:
    """Set by a front end; the engine checks it between batches."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def stop(self) -> None:
        self._event.set()

    @property
    def stopped(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)
