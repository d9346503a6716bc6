"""An observer that folds engine events into counters a front end can poll.

The engine thread calls it for every event; a UI reads :meth:`RunMonitor.snapshot` a few times a
second. Nothing here blocks the engine for long, and memory is bounded (a fixed-size event log
and rate history), however long a run lasts.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
import time
from collections.abc import Mapping

from cocotui.engine.counters import TargetCounters
from cocotui.engine.events import (
    BatchApplied,
    Event,
    MutateFinished,
    MutateStarted,
    RowFailed,
    RunFinished,
    RunStarted,
    SourceListed,
)

#: Events kept for the log view.
LOG_SIZE = 2000
#: Seconds of per-target rate history (one sample per second).
RATE_HISTORY = 60


@dataclasses.dataclass
class TargetView(TargetCounters):
    """A target's counters as a front end shows them, with its recent rates."""

    rate: float = 0.0
    history: list[float] = dataclasses.field(default_factory=list)

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
    last_error: dict[str, str]


class RunMonitor:
    """Thread-safe aggregation of run events (the observer passed to ``Engine.update``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._targets: dict[str, TargetView] = {}
        self._base: dict[str, int] = {}  # mutations before the current one-second window
        self._window_start = time.monotonic()
        self._sources: dict[str, tuple[int, int]] = {}
        self._errors = 0
        self._running = False
        self._log: collections.deque[tuple[int, Event]] = collections.deque(maxlen=LOG_SIZE)
        self._serial = 0
        self._last_error: dict[str, str] = {}

    def __call__(self, event: Event) -> None:
        with self._lock:
            match event:
                case RunStarted():
                    self._running = True
                    self._targets = {name: TargetView() for name in event.targets}
                    self._base = dict.fromkeys(event.targets, 0)
                    self._sources = {}
                    self._errors = 0
                case BatchApplied():
                    self._take_counters(event.targets)
                    self._sources[event.source] = (event.done, event.total)
                case MutateStarted() | MutateFinished():
                    self._take_counters(event.targets)  # rows in flight during the call
                case RunFinished():
                    self._take_counters(event.targets)
                    self._running = False
                case SourceListed():
                    self._sources[event.source] = (0, event.rows + event.gone)
                case RowFailed():
                    self._errors += 1
                    self._last_error[event.source] = f"{event.row}: {event.error}"
            if not isinstance(event, BatchApplied | MutateStarted | MutateFinished):
                self._serial += 1
                self._log.append((self._serial, event))
            self._roll_rates()

    def _take_counters(self, targets: Mapping[str, TargetCounters]) -> None:
        for name, counters in targets.items():
            view = self._targets.setdefault(name, TargetView())
            for field in ("inserted", "updated", "deleted", "unchanged", "errors", "in_flight"):
                setattr(view, field, getattr(counters, field))

    def _roll_rates(self) -> None:
        now = time.monotonic()
        elapsed = now - self._window_start
        if elapsed < 1.0:
            return
        for name, view in self._targets.items():
            total = view.mutations
            view.rate = (total - self._base.get(name, 0)) / elapsed
            self._base[name] = total
            view.history = [*view.history, view.rate][-RATE_HISTORY:]
        self._window_start = now

    def tick(self) -> None:
        """Advance rate windows while no event arrives (called by the UI's timer)."""
        with self._lock:
            self._roll_rates()

    def snapshot(self) -> Snapshot:
        with self._lock:
            done = sum(d for d, _ in self._sources.values())
            total = sum(t for _, t in self._sources.values())
            return Snapshot(
                running=self._running,
                targets={n: dataclasses.replace(v) for n, v in self._targets.items()},
                done=done,
                total=total,
                errors=self._errors,
                log_serial=self._serial,
                last_error=dict(self._last_error),
            )

    def log_since(self, serial: int) -> list[tuple[int, Event]]:
        with self._lock:
            return [(s, e) for s, e in self._log if s > serial]
