"""Live mode: keep targets in step with their sources until stopped.

A watcher thread (:mod:`cocotui.engine.watcher`) is set up first, so that no change made after the
initial catch-up pass started can be missed; the catch-up pass then looks at every row. From
then on file events mark changed paths, and the engine loop takes every path marked so far and
runs one incremental pass over the rows they stand for, through the same tracking, batching and
error isolation as a normal update. Sources with ``refresh_interval`` are also re-listed on that
interval, as a safety net for dropped events (the OS drops them on queue overflow, and network
filesystems report none for remote writes). Passes never pile up: marks made during a pass are
handled by the next one, and an overdue interval re-list runs once, not once per missed tick.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from cocotui.engine.counters import SourceCounters
from cocotui.engine.events import (
    LivePassFinished,
    LivePassStarted,
    LiveReady,
    Observer,
    PassReason,
    StopToken,
    WatcherError,
)
from cocotui.engine.update import UpdateResult, UpdateRun
from cocotui.engine.watcher import DirectoryWatcher
from cocotui.flow.model import Flow, Source
from cocotui.sources import LocalFile

#: The engine loop wakes this often when idle (s) to see whether it was asked to stop.
IDLE_WAKE_S = 0.25


@dataclasses.dataclass(eq=False)
class _LiveSource:
    flow: Flow
    source: Source
    name: str
    #: The watched directory (resolved), or ``None`` when not watched.
    root: str | None
    next_relist: float | None
    #: Paths (relative to the source directory, ``/``-separated) changed since the last pass.
    pending: set[str] = dataclasses.field(default_factory=set)
    #: When the first of ``pending`` was seen (wall clock), for the pass's lag.
    pending_since: float | None = None
    #: Only a full listing tells what changed (the source directory itself moved, or the
    #: watcher failed).
    relist: bool = False


class _DuePass(NamedTuple):
    live: _LiveSource
    #: the paths changed, or ``None`` for a full listing
    paths: set[str] | None
    reason: PassReason
    #: when the first of ``paths`` was seen (wall clock)
    seen: float | None = None


class LiveRun:
    """Runs passes for ``run`` (an :class:`UpdateRun`) until its stop token is set. With
    ``watch`` false, no source is watched (interval re-lists only)."""

    def __init__(self, run: UpdateRun, watch: bool) -> None:
        self.run = run
        self.observer: Observer = run.observer
        self.stop: StopToken = run.stop
        self._wake = threading.Condition()
        self.sources: list[_LiveSource] = []
        for flow in run.app.flows:
            if not run.feeds_of(flow):
                continue
            for source in flow.sources:
                interval = source.refresh_interval
                spec = source.spec
                root = (
                    str(Path(spec.path).resolve())
                    if watch and isinstance(spec, LocalFile)
                    else None
                )
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

    def _mark(self, paths: set[str]) -> bool:
        """Marks changed ``paths`` (absolute) as pending; returns whether the watch must be
        set up again."""
        rewatch = False
        with self._wake:
            for path in paths:
                for live in self.sources:
                    root = live.root
                    if root is None:
                        continue
                    if path == root:
                        # The directory itself moved, or was removed (and may come back as a
                        # new directory): only a listing tells what changed, and the watch
                        # must be set up again.
                        live.relist = True
                        rewatch = True
                        continue
                    if not path.startswith(root) or path[len(root) : len(root) + 1] != os.sep:
                        continue
                    relative = path[len(root) + 1 :]
                    if os.sep != "/":
                        relative = relative.replace(os.sep, "/")
                    spec = live.source.spec
                    assert isinstance(spec, LocalFile)
                    if not spec.excludes(relative):
                        if not live.pending:
                            live.pending_since = time.time()
                        live.pending.add(relative)
            self._wake.notify()
        return rewatch

    def _watcher_failed(self, exc: BaseException) -> None:
        self.observer(WatcherError(error=f"{type(exc).__name__}: {exc}"))

    def _relist_watched(self) -> None:
        with self._wake:
            for live in self.sources:
                if live.root is not None:
                    live.relist = True
            self._wake.notify()

    # -- engine loop ----------------------------------------------------------------------------

    def _row_keys(self, live: _LiveSource, paths: set[str]) -> set[str]:
        """The row keys that changed ``paths`` stand for: a file is its own row; a directory
        that appeared stands for the files under it, and a path gone for the tracked rows
        under it (a directory removed or moved away reports only itself)."""
        spec = live.source.spec
        assert isinstance(spec, LocalFile)
        tracking = self.run.tracking
        keys: set[str] = set()
        for path in paths:
            try:
                mode: int | None = os.stat(os.path.join(spec.path, path)).st_mode
            except OSError:
                mode = None
            if mode is not None and stat.S_ISDIR(mode):
                try:
                    keys.update(row.key for row in spec.list_rows_under(path))
                except OSError:  # e.g. replaced or made unreadable meanwhile
                    with self._wake:
                        live.relist = True
                keys.update(tracking.row_keys_under(live.flow.name, live.source.name, path + "/"))
                continue
            if spec.key_for(path) is not None:
                keys.add(path)
            if mode is None:
                keys.update(tracking.row_keys_under(live.flow.name, live.source.name, path + "/"))
        return keys

    def _pass(
        self,
        live: _LiveSource,
        keys: set[str] | None,
        reason: PassReason,
        seen: float | None = None,
    ) -> SourceCounters:
        started = time.perf_counter()
        rows = None if keys is None else len(keys)
        self.observer(LivePassStarted(source=live.name, reason=reason, rows=rows))
        counters = self.run.pass_over(live.flow, live.source, keys, recheck=keys is not None)
        elapsed = time.perf_counter() - started
        finished = LivePassFinished(
            source=live.name, reason=reason, counters=counters, elapsed=elapsed
        )
        if seen is not None:
            finished = dataclasses.replace(finished, lag=max(finished.time - seen, 0.0))
        self.observer(finished)
        return counters

    def _due(self) -> tuple[list[_DuePass], float | None]:
        """Work to do now (changed paths, or ``None`` for a full listing), and how long to
        sleep otherwise (``None``: until woken)."""
        now = time.monotonic()
        work: list[_DuePass] = []
        wait: float | None = None
        with self._wake:
            for live in self.sources:
                interval_due = live.next_relist is not None and live.next_relist <= now
                if live.relist or interval_due:
                    live.relist = False
                    live.pending = set()
                    live.pending_since = None
                    reason = PassReason.INTERVAL if interval_due else PassReason.RELIST
                    work.append(_DuePass(live, None, reason))
                elif live.pending:
                    work.append(_DuePass(live, live.pending, PassReason.WATCH, live.pending_since))
                    live.pending = set()
                    live.pending_since = None
                if live.next_relist is not None:
                    left = live.next_relist - now
                    wait = left if wait is None else min(wait, left)
        return work, wait

    def _schedule_relist(self, live: _LiveSource) -> None:
        interval = live.source.refresh_interval
        if interval is not None:
            # From the end of the pass: a slow pass never stacks re-lists up.
            live.next_relist = time.monotonic() + interval.total_seconds()

    def run_until_stopped(self, on_ready: Callable[[], None] | None = None) -> UpdateResult:
        watched = [s for s in self.sources if s.root is not None]
        once = [s.name for s in self.sources if s.root is None and s.next_relist is None]
        watcher: DirectoryWatcher | None = None
        if watched:
            roots = sorted({s.root for s in watched if s.root is not None})
            watcher = DirectoryWatcher(
                roots, self._mark, self._watcher_failed, self._relist_watched
            )
            watcher.start()
        self.run.start()
        try:
            # Watching before listing: a change made once the catch-up pass started is seen.
            while watcher is not None and not watcher.ready.wait(IDLE_WAKE_S):
                if self.stop.stopped:
                    break
            for live in self.sources:
                if self.stop.stopped:
                    break
                self._pass(live, None, PassReason.INITIAL)
                self._schedule_relist(live)
            if self.stop.stopped:
                return self.run.finish()
            intervals = {
                s.name: s.source.refresh_interval.total_seconds()
                for s in self.sources
                if s.source.refresh_interval is not None
            }
            self.observer(
                LiveReady(
                    watched=tuple(s.name for s in watched), interval=intervals, once=tuple(once)
                )
            )
            if on_ready is not None:
                on_ready()
            if not watched and all(s.next_relist is None for s in self.sources):
                return self.run.finish()
            while not self.stop.stopped:
                work, wait = self._due()
                for live, paths, reason, seen in work:
                    if self.stop.stopped:
                        break
                    if paths is None:
                        self._pass(live, None, reason)
                        self._schedule_relist(live)
                        continue
                    keys = self._row_keys(live, paths)
                    if keys:
                        self._pass(live, keys, reason, seen)
                if work:
                    continue
                with self._wake:
                    if not any(s.pending or s.relist for s in self.sources):
                        timeout = IDLE_WAKE_S if wait is None else min(max(wait, 0), IDLE_WAKE_S)
                        self._wake.wait(timeout)
        finally:
            if watcher is not None:
                watcher.stop()
        return self.run.finish()
