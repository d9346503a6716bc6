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
from typing import Any, ClassVar

from cocotui.engine.counters import SourceCounters, TargetCounters


def _now() -> float:
    return time.time()


# Equality, hash and repr are the ones below, written once for every event class (and the same
# as dataclass-generated ones: fields compared in order, the class must be the same), not
# generated for each (``eq=False, repr=False``): that generation cost a third of importing
# this module, which every command does at start-up.
@dataclasses.dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Event:
    """The base of every event: its kind and when it happened."""

    kind: ClassVar[str] = ""
    time: float = dataclasses.field(default_factory=_now)

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


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class RunStarted(Event):
    kind: ClassVar[str] = "run.started"
    app: str
    targets: tuple[str, ...]
    skipped: tuple[str, ...]
    reexport: bool


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class RunFinished(Event):
    kind: ClassVar[str] = "run.finished"
    elapsed: float
    stopped: bool
    errors: int
    skipped: tuple[str, ...]
    targets: Mapping[str, TargetCounters]
    sources: Mapping[str, SourceCounters]


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class TrackingLost(Event):
    """Targets whose setup is applied but whose row tracking is gone."""

    kind: ClassVar[str] = "tracking.lost"
    targets: tuple[str, ...]
    flows: tuple[str, ...]
    tracking: str


# -- a source ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class SourceListed(Event):
    kind: ClassVar[str] = "source.listed"
    source: str
    rows: int
    to_process: int
    gone: int


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class SourceFailed(Event):
    kind: ClassVar[str] = "source.failed"
    source: str
    error: str
    traceback: str


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class SourceFinished(Event):
    kind: ClassVar[str] = "source.finished"
    source: str
    counters: SourceCounters

    @property
    def data(self) -> dict[str, Any]:
        return {"source": self.source, **dataclasses.asdict(self.counters)}


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False, repr=False)
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


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class BatchApplied(Event):
    kind: ClassVar[str] = "batch.applied"
    source: str
    rows: int
    committed: int
    done: int
    total: int
    targets: Mapping[str, TargetCounters]


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False, repr=False)
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


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class MutateFinished(Event):
    """The ``mutate`` call returned (``ok``) or raised (its rows are then isolated, or fail);
    the targets' ``in_flight`` is back down."""

    kind: ClassVar[str] = "mutate.finished"
    source: str
    connector: str
    ok: bool
    elapsed: float
    targets: Mapping[str, TargetCounters]


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class KeyDuplicate(Event):
    kind: ClassVar[str] = "key.duplicate"
    target: str
    key: str
    rows: tuple[str, ...]
    #: collected more than once from one source row (rather than produced by several)
    same_row: bool


# -- live mode --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False, repr=False)
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


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class LivePassStarted(Event):
    kind: ClassVar[str] = "live.pass_started"
    source: str
    reason: PassReason
    #: rows to look at, or ``None`` for a full listing
    rows: int | None


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False, repr=False)
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


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class LiveReady(Event):
    kind: ClassVar[str] = "live.ready"
    watched: tuple[str, ...]
    #: source -> refresh interval (seconds)
    interval: Mapping[str, float]
    #: sources processed once (neither watched nor re-listed)
    once: tuple[str, ...]


# -- applying setup changes -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class ApplyChangeStarted(Event):
    kind: ClassVar[str] = "apply.change_started"
    target: str
    action: str


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class ApplyChangeFailed(Event):
    kind: ClassVar[str] = "apply.change_failed"
    target: str
    error: str
    traceback: str


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False, repr=False)
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
