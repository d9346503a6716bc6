"""Live mode: keep targets in step with their sources until stopped.

After an initial catch-up pass, file events from a watcher (watchfiles, Rust-backed) mark
changed rows; the engine loop takes every row marked so far and runs one incremental pass over
them, through the same tracking, batching and error isolation as a normal update. Sources with
``refresh_interval`` are also re-listed on that interval, as a safety net for dropped events.
Passes never pile up: marks made during a pass are handled by the next one, and an overdue
interval re-list runs once, not once per missed tick.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import watchfiles

from cocotui.engine.events import Event, Observer, StopToken
from cocotui.engine.update import SourceCounters, UpdateResult, UpdateRun
from cocotui.flow.model import Flow, Source
from cocotui.sources import LocalFile

#: watchfiles groups events for this long after the first one (ms): short, since a burst is
#: coalesced by the pending set anyway while a pass runs.
WATCH_STEP_MS = 1
#: ...and yields at the latest after this long during a continuous stream of events (ms).
WATCH_DEBOUNCE_MS = 50


@dataclasses.dataclass(eq=False)
class _LiveSource:
    flow: Flow
    source: Source
    name: str
    root: str | None  # the watched directory, or None when not watchable
    next_relist: float | None
    pending: set[str] = dataclasses.field(default_factory=set)
    relist: bool = False


class LiveRun:
    """Runs passes for ``run`` (an :class:`UpdateRun`) until ``stop`` is set."""

    def __init__(self, run: UpdateRun, observer: Observer, stop: StopToken) -> None:
        self.run = run
        self.observer = observer
        self.stop = stop
        self._wake = threading.Condition()
        self._watch_stop = threading.Event()
        self.sources: list[_LiveSource] = []
        for flow in run.app.flows:
            if not any(a.target.flow is flow for a in run.active):
                continue
            for source in flow.sources:
                interval = source.refresh_interval
                spec = source.spec
                root = str(Path(spec.path).resolve()) if isinstance(spec, LocalFile) else None
                self.sources.append(
                    _LiveSource(
                        flow,
                        source,
                        f"{flow.name}.{source.name}",
                        root,
                        None if interval is None else interval.total_seconds(),
                    )
                )

    # -- watcher thread -------------------------------------------------------------------------

    def _mark(self, paths: set[tuple[watchfiles.Change, str]]) -> None:
        with self._wake:
            for _change, path in paths:
                for live in self.sources:
                    if live.root is None or not (
                        path == live.root or path.startswith(live.root + os.sep)
                    ):
                        continue
                    spec = live.source.spec
                    assert isinstance(spec, LocalFile)
                    if os.path.isdir(path) or path == live.root:
                        live.relist = True  # a directory moved: only a listing tells what
                        continue
                    key = spec.key_for(path[len(live.root) + 1 :])
                    if key is not None:
                        live.pending.add(key)
            self._wake.notify()

    def _watch(self) -> None:
        roots = [s.root for s in self.sources if s.root is not None]
        delay = 1.0
        while not self._watch_stop.is_set():
            try:
                for changes in watchfiles.watch(
                    *roots,
                    watch_filter=None,
                    debounce=WATCH_DEBOUNCE_MS,
                    step=WATCH_STEP_MS,
                    stop_event=self._watch_stop,
                    rust_timeout=1000,
                    yield_on_timeout=False,
                    raise_interrupt=False,
                ):
                    self._mark(changes)
                    delay = 1.0
                return
            except Exception as exc:  # e.g. a source directory removed: re-list and retry
                self.observer(Event("watcher.error", {"error": f"{type(exc).__name__}: {exc}"}))
                with self._wake:
                    for live in self.sources:
                        live.relist = True
                    self._wake.notify()
                if self._watch_stop.wait(delay):
                    return
                delay = min(delay * 2, 30.0)

    # -- engine loop ----------------------------------------------------------------------------

    def _pass(self, live: _LiveSource, keys: set[str] | None, reason: str) -> SourceCounters:
        started = time.perf_counter()
        self.observer(
            Event(
                "live.pass_started",
                {
                    "source": live.name,
                    "reason": reason,
                    "rows": None if keys is None else len(keys),
                },
            )
        )
        counters = self.run.pass_over(live.flow, live.source, keys)
        self.observer(
            Event(
                "live.pass_finished",
                {
                    "source": live.name,
                    "reason": reason,
                    **dataclasses.asdict(counters),
                    "elapsed": round(time.perf_counter() - started, 6),
                },
            )
        )
        return counters

    def _due(self) -> tuple[list[tuple[_LiveSource, set[str] | None, str]], float | None]:
        """Work to do now, and how long to sleep otherwise (``None``: until woken)."""
        now = time.monotonic()
        work: list[tuple[_LiveSource, set[str] | None, str]] = []
        wait: float | None = None
        with self._wake:
            for live in self.sources:
                interval_due = live.next_relist is not None and live.next_relist <= now
                if live.relist or interval_due:
                    live.relist = False
                    live.pending.clear()
                    work.append((live, None, "interval" if interval_due else "relist"))
                elif live.pending:
                    work.append((live, live.pending, "watch"))
                    live.pending = set()
                if live.next_relist is not None:
                    wait = (
                        live.next_relist - now
                        if wait is None
                        else min(wait, live.next_relist - now)
                    )
        return work, wait

    def run_until_stopped(self, on_ready: Callable[[], None] | None = None) -> UpdateResult:
        watched = [s for s in self.sources if s.root is not None]
        once = [s.name for s in self.sources if s.root is None and s.next_relist is None]
        watcher: threading.Thread | None = None
        if watched:
            watcher = threading.Thread(target=self._watch, name="cocotui-watch", daemon=True)
            watcher.start()
        self.run.start()
        try:
            for live in self.sources:
                if self.stop.stopped:
                    break
                self._pass(live, None, "initial")
                if live.next_relist is not None:
                    interval = live.source.refresh_interval
                    assert interval is not None
                    live.next_relist = time.monotonic() + interval.total_seconds()
            self.observer(
                Event(
                    "live.ready",
                    {
                        "watched": [s.name for s in watched],
                        "interval": {
                            s.name: s.source.refresh_interval.total_seconds()
                            for s in self.sources
                            if s.source.refresh_interval is not None
                        },
                        "once": once,
                    },
                )
            )
            if on_ready is not None:
                on_ready()
            if not watched and all(s.next_relist is None for s in self.sources):
                return self.run.finish()
            while not self.stop.stopped:
                work, wait = self._due()
                for live, keys, reason in work:
                    if self.stop.stopped:
                        break
                    self._pass(live, keys, reason)
                    if reason == "interval":
                        interval = live.source.refresh_interval
                        assert interval is not None
                        # From the end of the pass: a slow pass never stacks re-lists up.
                        live.next_relist = time.monotonic() + interval.total_seconds()
                if work:
                    continue
                with self._wake:
                    if not any(s.pending or s.relist for s in self.sources):
                        self._wake.wait(timeout=min(wait, 0.5) if wait is not None else 0.5)
        finally:
            self._watch_stop.set()
            if watcher is not None:
                watcher.join(timeout=5)
        return self.run.finish()
