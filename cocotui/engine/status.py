"""A run's status, published to the app's status store for other processes, and read back.

Every update (one-shot or live; from the CLI, the TUI or a program) runs with a
:class:`StatusPublisher`: an observer that only feeds a :class:`RunMonitor` (cheap, on the
engine thread), while a thread of its own writes the monitor's snapshot to the store every
:data:`PUBLISH_INTERVAL_S` when it changed, at least every :data:`HEARTBEAT_S`, and at the start
and the end of the run. The engine is never held up by a file write.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Mapping
from types import TracebackType

from cocotui.engine.events import Event, Observer, RunFinished
from cocotui.engine.monitor import RunMode, RunMonitor, Snapshot
from cocotui.state.errors import StateError
from cocotui.state.paths import AppPaths
from cocotui.state.status_store import (
    ExporterIdentity,
    ExporterStatus,
    Origin,
    Outcome,
    RunRecord,
    StatusWriter,
    read_exporter_status,
)

__all__ = [
    "HEARTBEAT_S",
    "PUBLISH_INTERVAL_S",
    "ExporterIdentity",
    "ExporterReport",
    "ExporterStatus",
    "Origin",
    "Outcome",
    "RunRecord",
    "StatusPublisher",
    "read_exporter",
]

#: How often the store is written while the run changes (seconds).
PUBLISH_INTERVAL_S = 0.25
#: How often it is written while nothing changes (seconds).
HEARTBEAT_S = 5.0


class StatusPublisher:
    """Publishes one run to the status store of ``paths`` (whose writer lock the caller holds).
    Use as a context manager around the run, with :meth:`observing` as its observer."""

    def __init__(
        self,
        paths: AppPaths,
        mode: RunMode,
        origin: Origin,
        interval: float = PUBLISH_INTERVAL_S,
    ) -> None:
        self.monitor = RunMonitor(mode, log_size=0)  # the store keeps no event log
        self.exporter = ExporterIdentity.of_this_process(mode.value, origin)
        self.interval = interval
        self._writer: StatusWriter | None = None
        self._paths = paths
        self._stopped = False
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._publish_changes, name="cocotui-status", daemon=True
        )

    def __call__(self, event: Event) -> None:
        self.monitor(event)
        if isinstance(event, RunFinished):
            self._stopped = event.stopped

    def observing(self, observer: Observer) -> Observer:
        """``observer``, with this publisher seeing every event after it."""

        def both(event: Event) -> None:
            observer(event)
            self(event)

        return both

    def __enter__(self) -> StatusPublisher:
        self._writer = StatusWriter(self._paths, self.exporter)
        self._writer.publish(self.monitor.snapshot().to_json())
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()
        assert self._writer is not None
        outcome, error = self._outcome(exc)
        # A run that raised never said it finished.
        snapshot = dataclasses.replace(self.monitor.snapshot(), running=False)
        try:
            self._writer.finish(outcome, snapshot.to_json(), self._runs(snapshot, outcome), error)
        except StateError:
            if exc is None:
                raise
            # The run's own exception says more than the status file's.

    def _outcome(self, exc: BaseException | None) -> tuple[Outcome, str | None]:
        if isinstance(exc, KeyboardInterrupt):  # aborted by a second Ctrl-C
            return Outcome.STOPPED, None
        if exc is not None:
            return Outcome.FAILED, f"{type(exc).__name__}: {exc}"
        return (Outcome.STOPPED if self._stopped else Outcome.FINISHED), None

    def _runs(self, snapshot: Snapshot, outcome: Outcome) -> dict[str, RunRecord]:
        exporter = self.exporter
        started = snapshot.started_at or exporter.started_at
        elapsed = max(time.time() - started, 0.0)
        return {
            name: RunRecord(
                started_at=started,
                elapsed=elapsed,
                inserted=view.inserted,
                updated=view.updated,
                deleted=view.deleted,
                errors=view.errors,
                outcome=outcome,
                mode=exporter.mode,
                by=exporter.by,
            )
            for name, view in snapshot.targets.items()
        }

    def _publish_changes(self) -> None:
        assert self._writer is not None
        published: tuple[object, ...] | None = None
        written = time.monotonic()
        while not self._done.wait(self.interval):
            self.monitor.tick()
            snapshot = self.monitor.snapshot()
            progress = _progress(snapshot)
            if progress == published and time.monotonic() - written < HEARTBEAT_S:
                continue
            try:
                self._writer.publish(snapshot.to_json())
            except StateError:
                continue  # e.g. the disk is full for a moment: the next tick tries again
            published, written = progress, time.monotonic()


def _progress(snapshot: Snapshot) -> tuple[object, ...]:
    """What tells a snapshot moved on: not the rate history, which grows by a zero a second
    while nothing happens (an idle live run writes its heartbeat only)."""
    return (
        snapshot.log_serial,
        snapshot.running,
        snapshot.done,
        snapshot.total,
        snapshot.errors,
        tuple((name, t.mutations, t.errors, t.rate) for name, t in snapshot.targets.items()),
        tuple((name, s.phase, s.done) for name, s in snapshot.sources.items()),
    )


@dataclasses.dataclass(frozen=True)
class ExporterReport:
    """The app's exporter as its status file tells: who, whether it still runs, its run."""

    status: ExporterStatus
    snapshot: Snapshot

    @property
    def exporter(self) -> ExporterIdentity:
        return self.status.exporter

    @property
    def outcome(self) -> Outcome:
        return self.status.outcome

    @property
    def history(self) -> Mapping[str, tuple[RunRecord, ...]]:
        return self.status.history


def read_exporter(paths: AppPaths) -> ExporterReport | None:
    """The app's exporter (running, or the last one), or ``None`` if no run published one.
    Raises :class:`StateError` for a status file that cannot be read."""
    status = read_exporter_status(paths)
    if status is None:
        return None
    try:
        snapshot = Snapshot.from_json(status.snapshot)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StateError(f"status file {paths.status} has an unexpected run ({exc!r})") from None
    return ExporterReport(status, snapshot)
