"""Live mode: keep targets in step with their sources until stopped.

A watcher thread (:mod:`cocotui.engine.watcher`) is set up first, so that no change made after the
initial catch-up pass started can be missed; the catch-up pass then looks at every row. From
then on file events mark changed paths, and the engine loop takes every path marked so far and
runs one incremental pass over the rows they stand for, through the same tracking, batching and
error isolation as a normal update. Passes never pile up: marks made during a pass are handled
by the next one.

Sources with ``refresh_interval`` are also re-listed on that interval, as a safety net for
dropped events (the OS drops them on queue overflow, and network filesystems report none for
remote writes). A re-list of a ``LocalFile`` is a scan (:mod:`cocotui.engine.relist`): it only
compares stamps with tracking, a step at a time, and watched changes run between its steps, so a
re-list never holds them up; the rows it finds changed then get a keyed pass. The re-list is
never skipped, since a healthy watcher can still miss events; but while the watcher is healthy
it is spaced so that it takes at most :data:`RELIST_CPU_SHARE` of a core (at 100,000 files a
scan takes 0.6 s of CPU, so a 1 s interval would otherwise mean scanning nearly back to back).
An overdue re-list runs once, not once per missed tick.
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
from cocotui.engine.relist import RelistScan
from cocotui.engine.update import UpdateResult, UpdateRun
from cocotui.engine.watcher import DirectoryWatcher
from cocotui.flow.model import Flow, Source
from cocotui.sources import LocalFile

#: The engine loop wakes this often when idle (s) to see whether it was asked to stop.
IDLE_WAKE_S = 0.25
#: While the watcher is healthy, the share of one core interval re-lists may take (the
#: watcher itself takes ~2 %: see :mod:`cocotui.engine.watcher`).
RELIST_CPU_SHARE = 0.2
#: While changes come (the last one seen less than this ago, s), the scan of a re-list rests
#: this long (s) after each step, so that it does not take the GIL from the threads handling
#: them (the watcher's, and whoever is writing the files in this process).
SCAN_BUSY_S = 0.1
SCAN_REST_S = 0.005


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


class _WatchedChanges(NamedTuple):
    live: _LiveSource
    #: the paths changed
    paths: set[str]
    #: when the first of ``paths`` was seen (wall clock)
    seen: float | None


class LiveRun:
    """Runs passes for ``run`` (an :class:`UpdateRun`) until its stop token is set. With
    ``watch`` false, no source is watched (interval re-lists only)."""

    def __init__(self, run: UpdateRun, watch: bool) -> None:
        self.run = run
        self.observer: Observer = run.observer
        self.stop: StopToken = run.stop
        self._wake = threading.Condition()
        #: Whether the watcher is up since it last failed (its events are trusted).
        self._watch_healthy = True
        #: When the watcher last reported a change (monotonic).
        self._last_mark = 0.0
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
            self._last_mark = time.monotonic()
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
        self._watch_healthy = False
        self.observer(WatcherError(error=f"{type(exc).__name__}: {exc}"))

    def _relist_watched(self) -> None:
        """The watch was set up again: what changed meanwhile is known only by listing."""
        with self._wake:
            self._watch_healthy = True
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
                    keys.update(key for key, _ in spec.list_rows_under(path))
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
        self._finished(live, reason, counters, started, seen)
        return counters

    def _finished(
        self,
        live: _LiveSource,
        reason: PassReason,
        counters: SourceCounters,
        started: float,
        seen: float | None = None,
    ) -> None:
        elapsed = time.perf_counter() - started
        finished = LivePassFinished(
            source=live.name, reason=reason, counters=counters, elapsed=elapsed
        )
        if seen is not None:
            finished = dataclasses.replace(finished, lag=max(finished.time - seen, 0.0))
        self.observer(finished)

    # -- watched changes ------------------------------------------------------------------------

    def _take_pending(self) -> list[_WatchedChanges]:
        with self._wake:
            work = []
            for live in self.sources:
                if live.pending:
                    work.append(_WatchedChanges(live, live.pending, live.pending_since))
                    live.pending = set()
                    live.pending_since = None
        return work

    def _run_watched(self) -> bool:
        """One pass per source over the paths marked so far; returns whether there were any."""
        work = self._take_pending()
        for live, paths, seen in work:
            if self.stop.stopped:
                break
            keys = self._row_keys(live, paths)
            if keys:
                self._pass(live, keys, PassReason.WATCH, seen)
        return bool(work)

    # -- re-lists -------------------------------------------------------------------------------

    def _due_relists(self) -> tuple[list[tuple[_LiveSource, PassReason]], float | None]:
        """The sources to list now, and how long to sleep otherwise (``None``: until woken)."""
        now = time.monotonic()
        work: list[tuple[_LiveSource, PassReason]] = []
        wait: float | None = None
        with self._wake:
            for live in self.sources:
                interval_due = live.next_relist is not None and live.next_relist <= now
                if live.relist or interval_due:
                    live.relist = False
                    work.append((live, PassReason.INTERVAL if interval_due else PassReason.RELIST))
                if live.next_relist is not None:
                    left = live.next_relist - now
                    wait = left if wait is None else min(wait, left)
        return work, wait

    def _relist(self, live: _LiveSource, reason: PassReason) -> None:
        """List ``live``'s source again, running watched changes between the steps of the
        scan (see :mod:`cocotui.engine.relist`), then pass over the rows it found changed."""
        started = time.perf_counter()
        if not isinstance(live.source.spec, LocalFile):
            # A custom source's stamp of one row reads the whole row: a keyed pass over the
            # suspects would read each twice. Its listing is compared in one pass instead.
            self._pass(live, None, reason)
            self._schedule_relist(live, 0.0)
            return
        scan = self._scan(live)
        if scan is None:  # stopped
            return
        if not scan.done:  # the listing failed: a full pass reports why, as any pass does
            self._pass(live, None, reason)
            self._schedule_relist(live, scan.cpu)
            return
        scanned = time.thread_time()
        self.observer(LivePassStarted(source=live.name, reason=reason, rows=None))
        counters = SourceCounters()
        if scan.suspects:
            found = self.run.pass_over(live.flow, live.source, scan.suspects)
            counters = dataclasses.replace(found)
        # The rest of the listing was found unchanged by the scan.
        rest = max(scan.listed - counters.listed, 0)
        counters.listed += rest
        counters.unchanged += rest
        counters.done += rest
        counters.total += rest
        self._finished(live, reason, counters, started)
        # Its cost: the scan's steps, then the pass and its events (not the watched passes).
        self._schedule_relist(live, scan.cpu + time.thread_time() - scanned)

    def _scan(self, live: _LiveSource) -> RelistScan | None:
        """The scan of ``live``'s source, run to its end (or to a failure of the listing,
        leaving it not done) with watched changes between its steps; ``None`` if stopped."""
        flow, source, tracking = live.flow, live.source, self.run.tracking

        def load(after: str | None, limit: int) -> list[tuple[str, str | None, bytes | None]]:
            return tracking.source_stamps(flow.name, source.name, after, limit)

        scan = RelistScan(source.spec.list_rows(), load, self.run.logic_fingerprint(flow, source))
        while True:
            try:
                if scan.step():
                    return scan
            except Exception:  # e.g. the source directory is gone
                return scan
            if self.stop.stopped:
                return None
            with self._wake:
                if time.monotonic() - self._last_mark < SCAN_BUSY_S:
                    self._wake.wait(SCAN_REST_S)  # woken early by a new change
            self._run_watched()

    def _schedule_relist(self, live: _LiveSource, cost: float) -> None:
        """The next interval re-list, ``refresh_interval`` after this one ended (a slow pass
        never stacks re-lists up). While a healthy watcher reports the source's changes, the
        re-list is only the net for events it dropped, so it is spaced further when needed
        for it (``cost`` s of CPU) to take at most :data:`RELIST_CPU_SHARE` of a core."""
        interval = live.source.refresh_interval
        if interval is None:
            return
        delay = interval.total_seconds()
        if live.root is not None and self._watch_healthy:
            delay = max(delay, cost * (1 - RELIST_CPU_SHARE) / RELIST_CPU_SHARE)
        live.next_relist = time.monotonic() + delay

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
                self._schedule_relist(live, 0.0)
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
                if self._run_watched():
                    continue
                relists, wait = self._due_relists()
                for live, reason in relists:
                    if self.stop.stopped:
                        break
                    self._relist(live, reason)
                if relists:
                    continue
                with self._wake:
                    if not any(s.pending or s.relist for s in self.sources):
                        timeout = IDLE_WAKE_S if wait is None else min(max(wait, 0), IDLE_WAKE_S)
                        self._wake.wait(timeout)
        finally:
            if watcher is not None:
                watcher.stop()
        return self.run.finish()
