"""Incremental update: find the source rows that changed, evaluate them, send exactly the
target rows that changed, in batches, and record what was applied.

A run makes one :class:`~cocotui.engine.source_pass.SourcePass` per source (and, in live mode,
per batch of watched changes); this module holds what spans a run: the targets fed, the
per-source totals, and the rows evaluated again because a key they share was deleted.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

from cocotui.engine.counters import SourceCounters, TargetCounters
from cocotui.engine.events import Observer, RunFinished, RunStarted, StopToken, target_snapshot
from cocotui.engine.row_changes import TargetFeed
from cocotui.engine.run_options import (
    DEFAULT_BATCH_BYTES,
    DEFAULT_BATCH_ROWS,
    LiveOptions,
    UpdateOptions,
    UpdateResult,
)
from cocotui.engine.source_pass import RunContext, SourcePass
from cocotui.engine.targets import DesiredTarget
from cocotui.engine.workers import RowEvaluator
from cocotui.flow.loader import App
from cocotui.flow.model import Flow, Source
from cocotui.state.function_cache import FunctionCacheStore
from cocotui.state.tracking import SqliteTracking

__all__ = [
    "DEFAULT_BATCH_BYTES",
    "DEFAULT_BATCH_ROWS",
    "LiveOptions",
    "SourceCounters",
    "TargetCounters",
    "UpdateOptions",
    "UpdateResult",
    "UpdateRun",
]


class UpdateRun:
    """The passes of one run over ``targets`` (those whose setup is up to date)."""

    def __init__(
        self,
        app: App,
        tracking: SqliteTracking,
        targets: Sequence[DesiredTarget],
        skipped: list[str],
        options: UpdateOptions,
        observer: Observer,
        stop: StopToken,
    ) -> None:
        self.app = app
        self.tracking = tracking
        self.options = options
        self.observer = observer
        self.stop = stop
        self.skipped = skipped
        ids = tracking.target_generations([t.identity for t in targets])
        self.feeds = [
            TargetFeed(t, tid, generation)
            for t, (tid, generation) in zip(targets, ids, strict=True)
        ]
        self.sources: dict[str, SourceCounters] = {}
        function_cache = FunctionCacheStore(tracking)
        self.ctx = RunContext(
            tracking=tracking,
            observer=observer,
            stop=stop,
            evaluator=RowEvaluator(app, options.workers, function_cache),
            function_cache=function_cache,
            everything=options.reexport,
            batch_rows=options.batch_rows,
            batch_bytes=options.batch_bytes,
        )
        self._started = time.perf_counter()

    def feeds_of(self, flow: Flow) -> list[TargetFeed]:
        return [f for f in self.feeds if f.target.flow is flow]

    def run(self) -> UpdateResult:
        """One full pass over every source, then the result."""
        self.start()
        for flow in self.app.flows:
            for source in flow.sources:
                if self.stop.stopped:
                    break
                self.pass_over(flow, source)
        return self.finish()

    def start(self) -> None:
        self._started = time.perf_counter()
        self.observer(
            RunStarted(
                app=self.app.name,
                targets=tuple(f.target.name for f in self.feeds),
                skipped=tuple(self.skipped),
                reexport=self.options.reexport,
            )
        )

    def pass_over(
        self, flow: Flow, source: Source, keys: set[str] | None = None, *, recheck: bool = False
    ) -> SourceCounters:
        """One pass over a source: every row, or only the rows ``keys`` (live mode; see
        :meth:`SourcePass.run` for ``recheck``). The run's per-source totals accumulate the
        passes; the pass's own counters are returned."""
        feeds = self.feeds_of(flow)
        if not feeds:
            counters = SourceCounters()
        else:
            counters = SourcePass(self.ctx, flow, source, feeds).run(keys, recheck=recheck)
            self._revisit(flow, feeds)
        self._total(f"{flow.name}.{source.name}").add(counters)
        return counters

    def logic_fingerprint(self, flow: Flow, source: Source) -> bytes:
        """What a pass over ``source`` records as its rows' logic (a row tracked with another
        must be evaluated again)."""
        return SourcePass(self.ctx, flow, source, self.feeds_of(flow)).logic_fp

    def _revisit(self, flow: Flow, feeds: list[TargetFeed]) -> None:
        """Evaluate again, quietly, the rows that produce a key whose deletion was held back
        (see :meth:`SourcePass._resolve_shared_keys`); what they change counts in their own
        source's totals."""
        revisit = self.ctx.revisit
        while revisit and not self.stop.stopped:
            (flow_name, source_name), row_keys = revisit.popitem()
            other = self._source(flow_name, source_name)
            if other is not None:
                quiet = SourcePass(self.ctx, flow, other, feeds, quiet=True)
                done = quiet.run(row_keys)
                total = self._total(f"{flow_name}.{source_name}")
                for field in ("added", "updated", "deleted", "errors"):
                    setattr(total, field, getattr(total, field) + getattr(done, field))

    def _source(self, flow_name: str, source_name: str) -> Source | None:
        return next(
            (
                s
                for f in self.app.flows
                if f.name == flow_name
                for s in f.sources
                if s.name == source_name
            ),
            None,
        )

    def _total(self, name: str) -> SourceCounters:
        return self.sources.setdefault(name, SourceCounters())

    def finish(self) -> UpdateResult:
        self.ctx.evaluator.close()
        result = UpdateResult(
            targets={f.target.name: f.counters for f in self.feeds},
            sources=self.sources,
            skipped=self.skipped,
            stopped=self.stop.stopped,
            elapsed=time.perf_counter() - self._started,
        )
        self.observer(
            RunFinished(
                elapsed=round(result.elapsed, 6),
                stopped=result.stopped,
                errors=result.errors,
                skipped=tuple(self.skipped),
                targets=target_snapshot(result.targets),
                sources={n: dataclasses.replace(c) for n, c in result.sources.items()},
            )
        )
        return result
