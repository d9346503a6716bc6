"""``flow.update()`` and ``FlowLiveUpdater`` from a program: the engine's update run (the one
``cocotui update [--live]`` makes) in a background thread, with v0's status updates.

As in v0, an updater refuses to start while the flow's setup is not up to date (its targets
would be skipped): call ``flow.setup()`` or ``cocotui apply`` first."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from cocotui.engine.events import Event, SourceFinished, StopToken
from cocotui.engine.update import LiveOptions, SourceCounters, UpdateOptions, UpdateResult
from cocotui.flow.builder import FlowDef, all_flows_defined
from cocotui.runtime.binding import by_app, engine_for


class FlowSetupPendingError(RuntimeError):
    """The flow's targets have setup changes pending: an update would skip them."""


@dataclasses.dataclass
class FlowLiveUpdaterOptions:
    """v0's options. ``full_reprocess`` re-sends every row (cocotui keeps no cache to
    invalidate beyond that), like ``reexport_targets``."""

    live_mode: bool = True
    reexport_targets: bool = False
    full_reprocess: bool = False
    print_stats: bool = False


@dataclasses.dataclass
class FlowUpdaterStatusUpdates:
    #: Sources still being processed (none once the updater stopped).
    active_sources: list[str]
    #: Sources with rows added, updated or deleted since the previous status update.
    updated_sources: list[str]


@dataclasses.dataclass
class UpdateStats:
    """What an update did, per source (``flow.source``): v0's ``IndexUpdateInfo``."""

    sources: dict[str, SourceCounters]

    def __str__(self) -> str:
        return "\n".join(_source_line(name, c) for name, c in self.sources.items())

    @property
    def stats(self) -> dict[str, dict[str, Any]]:
        """v0's ``IndexUpdateInfo.stats``: per source name (without the flow's), its counters
        under v0's names. cocotui re-sends a row whose logic changed as an update, so
        ``num_reprocesses`` stays 0; ``processing`` counts the rows in flight."""
        return {
            name.partition(".")[2] or name: {
                "num_no_change": c.unchanged,
                "num_insertions": c.added,
                "num_deletions": c.deleted,
                "num_updates": c.updated,
                "num_reprocesses": 0,
                "num_errors": c.errors,
                "processing": {"num_starts": c.in_flight, "num_ends": 0},
            }
            for name, c in self.sources.items()
        }


def _source_line(name: str, c: SourceCounters) -> str:
    changes = [f"{n} {what}" for n, what in ((c.added, "added"), (c.updated, "updated"))]
    changes += [f"{c.deleted} deleted", f"{c.unchanged} unchanged", f"{c.errors} errors"]
    return f"{name}: {c.done} source rows processed: " + ", ".join(changes)


def _changed(counters: Mapping[str, Any]) -> bool:
    return any(counters.get(k, 0) for k in ("added", "updated", "deleted"))


def _check_setup(flows: list[FlowDef]) -> None:
    names = {f.name for f in flows}
    with engine_for(flows[0]) as engine:
        pending = [c for c in engine.plan().pending if c.flow in names]
        app = engine.app.ref
    if pending:
        changes = ", ".join(f"{c.name} ({c.action.status_word.lower()})" for c in pending)
        raise FlowSetupPendingError(
            f"setup of flow {', '.join(sorted({c.flow for c in pending}))} is not up to date: "
            f"{changes}; call flow.setup() or run `cocotui apply {app}` first"
        )


class FlowLiveUpdater:
    """Keeps a flow's targets up to date: one pass over every source, then (``live_mode``)
    watched file changes and ``refresh_interval`` re-lists until :meth:`abort`."""

    def __init__(self, fl: FlowDef, options: FlowLiveUpdaterOptions | None = None) -> None:
        #: The flows this updater runs: one, or every flow of an app (update_all_flows).
        self._flows = [fl]
        self._options = options or FlowLiveUpdaterOptions()
        self._stop = StopToken()
        self._changed = threading.Condition()
        self._updated: list[str] = []
        self._sources: dict[str, SourceCounters] = {}
        self._thread: threading.Thread | None = None
        self._finished = False
        self._result: UpdateResult | None = None
        self._error: BaseException | None = None

    def __enter__(self) -> FlowLiveUpdater:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        self.abort()
        self.wait()

    async def __aenter__(self) -> FlowLiveUpdater:
        await self.start_async()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.abort()
        await self.wait_async()

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the live updater is already started")
        _check_setup(self._flows)
        self._thread = threading.Thread(
            target=self._run, name=f"cocotui-updater-{self._flows[0].name}", daemon=True
        )
        self._thread.start()

    async def start_async(self) -> None:
        await asyncio.to_thread(self.start)

    def _run(self) -> None:
        reexport = self._options.reexport_targets or self._options.full_reprocess
        try:
            with engine_for(self._flows[0], only=self._flows) as engine:
                if self._options.live_mode:
                    live = LiveOptions(reexport=reexport)
                    self._result = engine.run_live(live, self._observe, self._stop)
                else:
                    once = UpdateOptions(reexport=reexport)
                    self._result = engine.update(once, self._observe, self._stop)
        except BaseException as exc:  # handed to the caller by wait()
            self._error = exc
        finally:
            with self._changed:
                self._finished = True
                self._changed.notify_all()

    def _observe(self, event: Event) -> None:
        if not isinstance(event, SourceFinished):
            return
        name = str(event.data["source"])
        with self._changed:  # update_stats() reads the counters from the caller's thread
            first = name not in self._sources
            total = self._sources.setdefault(name, SourceCounters())
            for field in dataclasses.fields(SourceCounters):
                value = event.data.get(field.name)
                if isinstance(value, int | float):
                    setattr(total, field.name, getattr(total, field.name) + value)
            line = str(UpdateStats({name: total}))
            if _changed(event.data) and name not in self._updated:
                self._updated.append(name)
                self._changed.notify_all()
        if self._options.print_stats and (first or _changed(event.data)):
            # Re-lists that find nothing new would repeat the same line every interval.
            print(line, flush=True)

    def wait(self) -> None:
        """Block until the updater ends (aborted, or no live source left); re-raise what ended
        it with an error."""
        thread = self._started()
        while thread.is_alive():
            thread.join(0.5)  # a short join keeps Ctrl-C deliverable
        if self._error is not None:
            raise self._error

    async def wait_async(self) -> None:
        await asyncio.to_thread(self.wait)

    def next_status_updates(self) -> FlowUpdaterStatusUpdates:
        """Block until some source's rows changed, or the updater ended."""
        self._started()
        with self._changed:
            while not self._updated and not self._finished:
                self._changed.wait(0.5)
            updated, self._updated = self._updated, []
            active = [] if self._finished else self._source_names()
        return FlowUpdaterStatusUpdates(active_sources=active, updated_sources=updated)

    async def next_status_updates_async(self) -> FlowUpdaterStatusUpdates:
        return await asyncio.to_thread(self.next_status_updates)

    def abort(self) -> None:
        """Ask the updater to stop at the next batch boundary (:meth:`wait` for it)."""
        self._started()
        self._stop.stop()

    def update_stats(self) -> UpdateStats:
        if self._result is not None:
            return UpdateStats(dict(self._result.sources))
        with self._changed:
            return UpdateStats({n: dataclasses.replace(c) for n, c in self._sources.items()})

    def _source_names(self) -> list[str]:
        return [f"{f.name}.{s.name}" for f in self._flows for s in f.build().sources]

    def _started(self) -> threading.Thread:
        if self._thread is None:
            raise RuntimeError("the live updater is not started: call start() first")
        return self._thread


def update_flow(flow: FlowDef, *, reexport_targets: bool, print_stats: bool) -> UpdateStats:
    options = FlowLiveUpdaterOptions(
        live_mode=False, reexport_targets=reexport_targets, print_stats=print_stats
    )
    with FlowLiveUpdater(flow, options) as updater:
        updater.wait()
    return updater.update_stats()


async def update_all_flows_async(options: FlowLiveUpdaterOptions) -> dict[str, UpdateStats]:
    """Update every flow defined in this process until each updater ends: one updater per app
    (its flows share the app's writer lock, so they run in one engine run), apps side by
    side. Returns each flow's statistics."""

    async def run(flows: list[FlowDef]) -> UpdateStats:
        updater = FlowLiveUpdater(flows[0], options)
        updater._flows = flows
        async with updater:
            await updater.wait_async()
        return updater.update_stats()

    groups = list(by_app(all_flows_defined()).values())
    results = await asyncio.gather(*(run(flows) for flows in groups))
    stats: dict[str, UpdateStats] = {}
    for flows, result in zip(groups, results, strict=True):
        for flow in flows:
            prefix = f"{flow.name}."
            mine = {n: c for n, c in result.sources.items() if n.startswith(prefix)}
            stats[flow.name] = UpdateStats(mine)
    return stats


def update_all_flows(options: FlowLiveUpdaterOptions) -> dict[str, UpdateStats]:
    return asyncio.run(update_all_flows_async(options))
