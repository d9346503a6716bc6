"""An observer that folds engine events into one :class:`Snapshot` of a run, for front ends.

The engine thread calls it for every event; a UI (or the status publisher) reads
:meth:`RunMonitor.snapshot` a few times a second. Nothing here blocks the engine for long, and
memory is bounded (a fixed-size event log and rate history), however long a run lasts.

A snapshot describes everything a front end shows about a run, whether the run is in this
process or another one (then it comes from the status store, through :meth:`Snapshot.to_json`
and :meth:`Snapshot.from_json`).
"""

from __future__ import annotations

import collections
import dataclasses
import enum
import threading
import time
from collections.abc import Mapping
from typing import Any

from cocotui.engine.counters import SourceCounters, TargetCounters
from cocotui.engine.events import (
    BatchApplied,
    Event,
    LivePassFinished,
    LivePassStarted,
    LiveReady,
    PassReason,
    RowFailed,
    RunFinished,
    RunStarted,
    SourceFailed,
    SourceFinished,
    SourceListed,
)

#: Events kept for the log view.
LOG_SIZE = 2000
#: Samples of per-target rate history (one per second: the last three minutes).
RATE_HISTORY = 180


class RunMode(enum.StrEnum):
    ONE_SHOT = "one-shot"
    LIVE = "live"


class Phase(enum.StrEnum):
    """What a source is doing."""

    IDLE = "idle"
    #: the first listing of a live run
    LISTING = "listing"
    #: going through the rows that changed (a one-shot update, a live pass)
    CATCHING_UP = "catching up"
    #: live: waiting for changes (watched) or for the next interval re-list
    WATCHING = "watching"
    #: live: a full listing again (interval, or the watcher lost track)
    RELISTING = "re-listing"
    FINISHED = "finished"


@dataclasses.dataclass
class PassView:
    """A source's last pass: when it finished (wall clock), how long it took, what it did."""

    finished_at: float
    elapsed: float
    #: why it ran; ``None`` for the pass of a one-shot update
    reason: PassReason | None
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    errors: int = 0

    @classmethod
    def of(cls, counters: SourceCounters, when: float, reason: PassReason | None) -> PassView:
        return cls(
            finished_at=when,
            elapsed=counters.elapsed,
            reason=reason,
            inserted=counters.added,
            updated=counters.updated,
            deleted=counters.deleted,
            errors=counters.errors,
        )


@dataclasses.dataclass
class SourceView:
    phase: Phase = Phase.IDLE
    done: int = 0
    total: int = 0
    last_pass: PassView | None = None
    #: seconds from a change being seen to the end of the pass that exported it (the last
    #: watched change); ``None`` until one was
    lag: float | None = None
    #: the last failure of the source or of one of its rows
    last_error: str | None = None


@dataclasses.dataclass
class TargetView(TargetCounters):
    """A target's counters as a front end shows them, with its recent rates."""

    rate: float = 0.0
    #: mutations per second, one sample a second, oldest first
    history: list[float] = dataclasses.field(default_factory=list)
    #: the last row that failed to reach this target: ``"row: error"``
    last_error: str | None = None

    @property
    def mutations(self) -> int:
        return self.inserted + self.updated + self.deleted


@dataclasses.dataclass
class Snapshot:
    running: bool
    targets: dict[str, TargetView]
    done: int
    total: int
    errors: int
    log_serial: int
    #: source -> its last failure (kept from before ``SourceView.last_error``)
    last_error: dict[str, str]
    mode: RunMode = RunMode.ONE_SHOT
    #: wall-clock time the run started, ``None`` before any run
    started_at: float | None = None
    sources: dict[str, SourceView] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready document; :meth:`from_json` gives back an equal snapshot."""
        return {
            "mode": self.mode.value,
            "started_at": self.started_at,
            "running": self.running,
            "done": self.done,
            "total": self.total,
            "errors": self.errors,
            "log_serial": self.log_serial,
            "last_error": dict(self.last_error),
            "sources": {name: _source_json(view) for name, view in self.sources.items()},
            "targets": {name: _target_json(view) for name, view in self.targets.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Snapshot:
        """The snapshot ``data`` (from :meth:`to_json`) describes; raises ``KeyError``,
        ``TypeError`` or ``ValueError`` on a document of another shape."""
        return cls(
            mode=RunMode(data["mode"]),
            started_at=_optional_float(data["started_at"]),
            running=bool(data["running"]),
            done=int(data["done"]),
            total=int(data["total"]),
            errors=int(data["errors"]),
            log_serial=int(data["log_serial"]),
            last_error={str(k): str(v) for k, v in data["last_error"].items()},
            sources={str(k): _source_view(v) for k, v in data["sources"].items()},
            targets={str(k): _target_view(v) for k, v in data["targets"].items()},
        )


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _source_json(view: SourceView) -> dict[str, Any]:
    last = view.last_pass
    return {
        "phase": view.phase.value,
        "done": view.done,
        "total": view.total,
        "lag": view.lag,
        "last_error": view.last_error,
        "last_pass": None
        if last is None
        else {
            **dataclasses.asdict(last),
            "reason": None if last.reason is None else last.reason.value,
        },
    }


def _source_view(data: Mapping[str, Any]) -> SourceView:
    last = data["last_pass"]
    return SourceView(
        phase=Phase(data["phase"]),
        done=int(data["done"]),
        total=int(data["total"]),
        lag=_optional_float(data["lag"]),
        last_error=_optional_str(data["last_error"]),
        last_pass=None
        if last is None
        else PassView(
            finished_at=float(last["finished_at"]),
            elapsed=float(last["elapsed"]),
            reason=None if last["reason"] is None else PassReason(last["reason"]),
            inserted=int(last["inserted"]),
            updated=int(last["updated"]),
            deleted=int(last["deleted"]),
            errors=int(last["errors"]),
        ),
    )


_TARGET_COUNTS = tuple(f.name for f in dataclasses.fields(TargetCounters))


def _target_json(view: TargetView) -> dict[str, Any]:
    return {
        **{name: getattr(view, name) for name in _TARGET_COUNTS},
        "rate": view.rate,
        "history": list(view.history),
        "last_error": view.last_error,
    }


def _target_view(data: Mapping[str, Any]) -> TargetView:
    return TargetView(
        **{name: int(data[name]) for name in _TARGET_COUNTS},
        rate=float(data["rate"]),
        history=[float(r) for r in data["history"]],
        last_error=_optional_str(data["last_error"]),
    )


def _copy_source(view: SourceView) -> SourceView:
    last = view.last_pass
    return dataclasses.replace(view, last_pass=None if last is None else dataclasses.replace(last))


class RunMonitor:
    """Thread-safe aggregation of run events (the observer passed to ``Engine.update``).
    ``mode`` is the run's until an event says otherwise (a live pass makes it live); the last
    ``log_size`` events are kept for :meth:`log_since`."""

    def __init__(self, mode: RunMode = RunMode.ONE_SHOT, log_size: int = LOG_SIZE) -> None:
        self._lock = threading.Lock()
        self._mode = mode
        self._started_at: float | None = None
        self._targets: dict[str, TargetView] = {}
        self._base: dict[str, int] = {}  # mutations before the current one-second window
        self._window_start = time.monotonic()
        self._sources: dict[str, SourceView] = {}
        self._errors = 0
        self._running = False
        self._log: collections.deque[tuple[int, Event]] = collections.deque(maxlen=log_size)
        self._serial = 0
        self._last_error: dict[str, str] = {}

    def __call__(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, BatchApplied):  # the most frequent: kept out of the log
                self._take_counters(event.targets)
                source = self._source(event.source)
                source.done, source.total = event.done, event.total
            else:
                self._fold(event)
                self._serial += 1
                self._log.append((self._serial, event))
            self._roll_rates()

    def _fold(self, event: Event) -> None:
        match event:
            case RunStarted():
                self._running = True
                self._started_at = event.time
                self._targets = {name: TargetView() for name in event.targets}
                self._base = dict.fromkeys(event.targets, 0)
                self._sources = {}
                self._errors = 0
            case RunFinished():
                self._take_counters(event.targets)
                self._running = False
                for source in self._sources.values():
                    source.phase = Phase.FINISHED
            case SourceListed():
                source = self._source(event.source)
                source.done, source.total = 0, event.rows + event.gone
                if source.phase in (Phase.IDLE, Phase.LISTING):
                    source.phase = Phase.CATCHING_UP
            case SourceFinished():
                source = self._source(event.source)
                source.last_pass = PassView.of(event.counters, event.time, None)
                source.done, source.total = event.counters.done, event.counters.total
                source.phase = Phase.FINISHED
            case LivePassStarted():
                self._mode = RunMode.LIVE
                self._source(event.source).phase = _pass_phase(event)
            case LivePassFinished():
                source = self._source(event.source)
                source.last_pass = PassView.of(event.counters, event.time, event.reason)
                source.last_pass.elapsed = event.elapsed  # the whole pass, listing included
                source.phase = Phase.WATCHING
                if event.lag is not None:
                    source.lag = event.lag
            case LiveReady():
                self._mode = RunMode.LIVE
                for name in event.once:
                    self._source(name).phase = Phase.FINISHED
            case RowFailed():
                self._fail(event.source, f"{event.row}: {event.error}")
                for name in event.targets:
                    self._targets.setdefault(
                        name, TargetView()
                    ).last_error = f"{event.row}: {event.error}"
            case SourceFailed():
                self._fail(event.source, event.error)

    def _fail(self, source: str, message: str) -> None:
        self._errors += 1
        self._last_error[source] = message
        self._source(source).last_error = message

    def _source(self, name: str) -> SourceView:
        view = self._sources.get(name)
        if view is None:
            view = self._sources[name] = SourceView()
        return view

    def _take_counters(self, targets: Mapping[str, TargetCounters]) -> None:
        for name, counters in targets.items():
            view = self._targets.get(name)
            if view is None:
                view = self._targets[name] = TargetView()
            for field in _TARGET_COUNTS:
                setattr(view, field, getattr(counters, field))

    def _roll_rates(self) -> None:
        now = time.monotonic()
        elapsed = now - self._window_start
        if elapsed < 1.0:
            return
        for name, view in self._targets.items():
            total = view.mutations
            view.rate = round((total - self._base.get(name, 0)) / elapsed, 3)
            self._base[name] = total
            view.history = [*view.history[1 - RATE_HISTORY :], view.rate]
        self._window_start = now

    def tick(self) -> None:
        """Advance rate windows while no event arrives (called by the UI's timer)."""
        with self._lock:
            self._roll_rates()

    def snapshot(self) -> Snapshot:
        with self._lock:
            sources = self._sources.values()
            return Snapshot(
                mode=self._mode,
                started_at=self._started_at,
                running=self._running,
                targets={n: dataclasses.replace(v) for n, v in self._targets.items()},
                sources={n: _copy_source(v) for n, v in self._sources.items()},
                done=sum(s.done for s in sources),
                total=sum(s.total for s in sources),
                errors=self._errors,
                log_serial=self._serial,
                last_error=dict(self._last_error),
            )

    def log_since(self, serial: int) -> list[tuple[int, Event]]:
        with self._lock:
            return [(s, e) for s, e in self._log if s > serial]


def _pass_phase(event: LivePassStarted) -> Phase:
    if event.rows is not None:
        return Phase.CATCHING_UP
    return Phase.LISTING if event.reason is PassReason.INITIAL else Phase.RELISTING
