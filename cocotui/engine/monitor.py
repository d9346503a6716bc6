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
from typing import Any

from cocotui.engine.events import Event
from cocotui.engine.update import TargetCounters

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
            data = event.data
            if event.name == "run.started":
                self._running = True
                self._targets = {name: TargetView() for name in data["targets"]}
                self._base = dict.fromkeys(data["targets"], 0)
                self._sources = {}
                self._errors = 0
            elif event.name in ("batch.applied", "run.finished"):
                for name, counters in data["targets"].items():
                    view = self._targets.setdefault(name, TargetView())
                    for field in ("inserted", "updated", "deleted", "unchanged", "errors"):
                        setattr(view, field, counters[field])
                if event.name == "batch.applied":
                    self._sources[data["source"]] = (data["done"], data["total"])
                else:
                    self._running = False
            elif event.name == "source.listed":
                self._sources[data["source"]] = (0, data["rows"] + data["gone"])
            elif event.name == "row.failed":
                self._errors += 1
                self._last_error[data["source"]] = f"{data['row']}: {data['error']}"
            if event.name not in ("batch.applied",):
                self._serial += 1
                self._log.append((self._serial, event))
            self._roll_rates()

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


def describe_event(event: Event) -> str:
    """One human line per event, shared by the TUI's log and any text log."""
    d: dict[str, Any] = event.data
    name = event.name
    if name == "run.started":
        text = f"update started: {len(d['targets'])} target(s)"
        if d["skipped"]:
            text += f"; skipped (setup pending): {', '.join(d['skipped'])}"
        return text
    if name == "source.listed":
        return (
            f"{d['source']}: {d['rows']} rows listed, {d['to_process']} to process, "
            f"{d['gone']} gone"
        )
    if name == "source.finished":
        return (
            f"{d['source']}: {d['added']} added, {d['updated']} updated, {d['deleted']} deleted, "
            f"{d['unchanged']} unchanged, {d['errors']} errors [{d['elapsed']:.2f}s]"
        )
    if name == "row.failed":
        return f"row {d['row']} of {d['source']} failed: {d['error']}"
    if name == "run.finished":
        state = "stopped" if d["stopped"] else "finished"
        return f"update {state} in {d['elapsed']:.2f}s with {d['errors']} error(s)"
    if name == "key.duplicate":
        return (
            f"key {d['key']} of {d['target']} is produced by several rows: {', '.join(d['rows'])}"
        )
    if name == "tracking.lost":
        return (
            f"row tracking starts afresh for {', '.join(d['targets'])} (its database was removed "
            f"or replaced): rows exported before whose source rows are gone stay in the target"
        )
    if name == "source.failed":
        return f"{d['source']}: {d['error']}"
    if name.startswith("apply."):
        return f"{d['target']}: {name.removeprefix('apply.change_').replace('_', ' ')}" + (
            f" — {d['error']}" if "error" in d else ""
        )
    return f"{name}: {d}"
