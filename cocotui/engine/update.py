"""Incremental update: find the source rows that changed, evaluate them, send exactly the
target rows that changed, in batches, and record what was applied.

Per batch: stage the keys about to be written → one ``mutate`` call per connector kind →
commit tracking for the rows whose mutations all succeeded. A failing call is split until the
failing source rows are isolated; they are reported and retried on the next run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from cocotui.engine.evaluate import describe_exception, source_logic
from cocotui.engine.events import Event, Observer, StopToken
from cocotui.engine.row_keys import UNTRACKABLE_ERROR, is_text, printable_key, trackable_rows
from cocotui.engine.targets import ConnectorCallError, DesiredTarget, call_connector, schemas
from cocotui.engine.workers import RowEvaluator, RowOutcome, RowTask
from cocotui.flow.loader import App, user_traceback
from cocotui.flow.model import Flow, Source
from cocotui.sources import ListedRow
from cocotui.state.function_cache import FunctionCacheStore
from cocotui.state.tracking import (
    ListingDiff,
    RowCommit,
    SqliteTracking,
    TrackedKey,
    TrackedRow,
)
from cocotui.values import fingerprint_fields

DEFAULT_BATCH_ROWS = 1000
DEFAULT_BATCH_BYTES = 32 * 1024 * 1024


@dataclasses.dataclass
class TargetCounters:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    errors: int = 0
    in_flight: int = 0


@dataclasses.dataclass
class SourceCounters:
    listed: int = 0
    #: rows to go through: listed rows plus tracked rows that disappeared from the source
    total: int = 0
    done: int = 0
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    errors: int = 0
    in_flight: int = 0
    elapsed: float = 0.0


@dataclasses.dataclass
class UpdateOptions:
    reexport: bool = False
    workers: int = 1
    batch_rows: int = DEFAULT_BATCH_ROWS
    batch_bytes: int = DEFAULT_BATCH_BYTES


@dataclasses.dataclass
class UpdateResult:
    targets: dict[str, TargetCounters]
    sources: dict[str, SourceCounters]
    skipped: list[str]
    stopped: bool
    elapsed: float

    @property
    def errors(self) -> int:
        return sum(c.errors for c in self.sources.values())

    @property
    def ok(self) -> bool:
        return self.errors == 0 and not self.skipped and not self.stopped


@dataclasses.dataclass
class _Active:
    """A target being fed during this run."""

    target: DesiredTarget
    tracking_id: int
    #: Bumped by every setup change that invalidates or resets the target's row tracking.
    generation: int
    counters: TargetCounters
    prepared: Any = None
    is_prepared: bool = False
    #: (error, traceback) when ``prepare`` failed: the target's rows fail for this run.
    prepare_error: tuple[str, str] | None = None


@dataclasses.dataclass
class _RowWork:
    """One source row's outcome in a batch, with the target changes it causes."""

    key: str
    stamp: str | None
    tracked: TrackedRow | None
    outcome: RowOutcome | None  # None for a row deleted from the source
    #: target tracking id -> key text -> (packed key parts, value or None, value fp)
    mutations: dict[int, dict[str, tuple[bytes, Any, bytes | None]]] = dataclasses.field(
        default_factory=dict
    )
    produced: dict[int, dict[str, tuple[bytes, bytes]]] = dataclasses.field(default_factory=dict)
    #: target tracking id -> key texts tracked for this row before this run
    old_keys: dict[int, set[str]] = dataclasses.field(default_factory=dict)
    #: target tracking id -> key text -> the value this row produces (kept for the batch, so
    #: a shared key can be re-sent with a remaining producer's value)
    values: dict[int, dict[str, Any]] = dataclasses.field(default_factory=dict)


def _logic_fingerprint(flow: Flow, source: Source, active: Sequence[_Active]) -> bytes:
    # The generation is part of it: after a setup change that invalidated or reset a target's
    # tracking, every row must be evaluated again so that it can be re-sent.
    generations = sorted(
        f"{a.target.identity}:{a.target.export.primary_key_fields}:{a.tracking_id}:{a.generation}"
        for a in active
        if a.target.flow is flow
    )
    text = source_logic(source) + "\n" + "\n".join(generations)
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


class SourceListingError(Exception):
    """A source could not be listed; the source's own exception is the cause."""


def _listing(rows: Iterable[ListedRow]) -> Iterator[ListedRow]:
    """``rows`` with a failure of the source (a custom source's ``list()`` or ``create()``
    may raise anything) told apart from one of the tracking database reading them."""
    try:
        yield from rows
    except Exception as exc:
        raise SourceListingError(str(exc)) from exc


def _vanished_directory(source: Source) -> str | None:
    """The directory of a source that reads one (``LocalFile``) when it no longer exists."""
    path = getattr(source.spec, "path", None)
    return path if isinstance(path, str) and not os.path.isdir(path) else None


class UpdateRun:
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
        self.active = [
            _Active(t, tid, generation, TargetCounters())
            for t, (tid, generation) in zip(targets, ids, strict=True)
        ]
        self.sources: dict[str, SourceCounters] = {}
        self.function_cache = FunctionCacheStore(tracking)
        self.evaluator = RowEvaluator(app, options.workers, self.function_cache)
        #: Per flow, whether rows' cached function results must be kept up to date.
        self._caching: dict[str, bool] = {}
        self._started = time.perf_counter()
        self._duplicates_reported: set[tuple[int, str]] = set()
        #: rows to evaluate again in this run: (flow, source) -> row keys
        self._revisit: dict[tuple[str, str], set[str]] = {}

    # -- the run --------------------------------------------------------------------------------

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
            Event(
                "run.started",
                {
                    "app": self.app.name,
                    "targets": [a.target.name for a in self.active],
                    "skipped": self.skipped,
                    "reexport": self.options.reexport,
                },
            )
        )

    def pass_over(
        self,
        flow: Flow,
        source: Source,
        keys: set[str] | None = None,
        *,
        recheck: bool = False,
    ) -> SourceCounters:
        """One pass over a source: every row, or only the rows ``keys`` (live mode). The run's
        per-source counters accumulate the passes; the pass's own counters are returned.

        With ``recheck``, rows whose stamp did not change are read too (and skipped only if
        their content did not change either): a watcher saw them change, and a file written
        twice within the filesystem's timestamp granularity keeps its stamp."""
        counters = SourceCounters()
        active = [a for a in self.active if a.target.flow is flow]
        if active:
            self._run_source(flow, source, active, counters, keys, recheck)
            while self._revisit and not self.stop.stopped:
                (flow_name, source_name), row_keys = self._revisit.popitem()
                other = next(
                    (
                        s
                        for f in self.app.flows
                        if f.name == flow_name
                        for s in f.sources
                        if s.name == source_name
                    ),
                    None,
                )
                if other is not None:
                    self._run_source(flow, other, active, SourceCounters(), row_keys, False)
        total = self.sources.setdefault(f"{flow.name}.{source.name}", SourceCounters())
        for field in dataclasses.fields(SourceCounters):
            setattr(total, field.name, getattr(total, field.name) + getattr(counters, field.name))
        return counters

    def finish(self) -> UpdateResult:
        self.evaluator.close()
        result = UpdateResult(
            targets={a.target.name: a.counters for a in self.active},
            sources=self.sources,
            skipped=self.skipped,
            stopped=self.stop.stopped,
            elapsed=time.perf_counter() - self._started,
        )
        self.observer(
            Event(
                "run.finished",
                {
                    "elapsed": round(result.elapsed, 6),
                    "stopped": result.stopped,
                    "errors": result.errors,
                    "skipped": self.skipped,
                    "targets": {n: dataclasses.asdict(c) for n, c in result.targets.items()},
                    "sources": {n: dataclasses.asdict(c) for n, c in result.sources.items()},
                },
            )
        )
        return result

    def _list(
        self,
        flow: Flow,
        source: Source,
        keys: set[str] | None,
        logic_fp: bytes,
        recheck: bool,
        untrackable: list[str],
    ) -> ListingDiff:
        """The rows that need work: among all rows, or only ``keys`` when given. Keys that
        are not text (a file name that is not UTF-8) go to ``untrackable`` instead."""
        everything = self.options.reexport or recheck
        if keys is None:
            listing = trackable_rows(_listing(source.spec.list_rows()), untrackable)
            return self.tracking.diff_listing(flow.name, source.name, listing, logic_fp, everything)
        untrackable += [key for key in keys if not is_text(key)]
        text_keys = sorted(key for key in keys if is_text(key))
        try:
            stamps = {key: source.spec.stamp(key) for key in text_keys}
        except Exception as exc:
            raise SourceListingError(str(exc)) from exc
        listed = {key: stamp for key, stamp in stamps.items() if stamp is not None}
        tracked = self.tracking.source_rows_for(flow.name, source.name, text_keys)
        changed: list[tuple[str, str, TrackedRow | None]] = []
        for key, stamp in listed.items():
            row = tracked.get(key)
            if everything or row is None or row.stamp != stamp or row.logic_fp != logic_fp:
                changed.append((key, stamp, row))
        gone = [(key, row) for key, row in tracked.items() if key not in listed]
        return ListingDiff(len(listed), changed, gone)

    def _run_source(
        self,
        flow: Flow,
        source: Source,
        active: list[_Active],
        counters: SourceCounters,
        keys: set[str] | None,
        recheck: bool = False,
    ) -> None:
        name = f"{flow.name}.{source.name}"
        started = time.perf_counter()
        logic_fp = _logic_fingerprint(flow, source, active)
        untrackable: list[str] = []
        try:
            diff = self._list(flow, source, keys, logic_fp, recheck, untrackable)
        except SourceListingError as exc:
            counters.errors += 1
            tb = user_traceback(exc.__cause__ or exc)
            if not tb.startswith("Traceback"):
                tb = ""  # no frame of the user's: the message says it all
            self.observer(
                Event(
                    "source.failed",
                    {"source": name, "error": f"cannot list rows: {exc}", "traceback": tb},
                )
            )
            return
        for key in sorted(untrackable):
            counters.errors += 1
            self._report_row_failure(name, printable_key(key), UNTRACKABLE_ERROR, "")
        counters.listed = diff.listed
        work, gone = diff.changed, diff.gone
        counters.unchanged = diff.listed - len(work)
        counters.done = counters.unchanged
        counters.total = diff.listed + len(gone)
        self.observer(
            Event(
                "source.listed",
                {
                    "source": name,
                    "rows": diff.listed,
                    "to_process": len(work),
                    "gone": len(gone),
                },
            )
        )
        tasks = [
            RowTask(
                key,
                row.content_fp
                if row is not None and row.logic_fp == logic_fp and not self.options.reexport
                else None,
            )
            for key, _, row in work
        ]
        outcomes = self.evaluator.run(flow, source, tasks)
        batch: list[_RowWork] = []
        batch_bytes = 0
        for (row_key, row_stamp, row), outcome in zip(work, outcomes, strict=True):
            batch.append(_RowWork(row_key, row_stamp, row, outcome))
            batch_bytes += outcome.size
            if len(batch) >= self.options.batch_rows or batch_bytes >= self.options.batch_bytes:
                self._apply_batch(flow, source, name, active, logic_fp, batch, counters)
                batch, batch_bytes = [], 0
                if self.stop.stopped:
                    break
        if not self.stop.stopped:
            for row_key, row in gone:
                batch.append(_RowWork(row_key, None, row, None))
                if len(batch) >= self.options.batch_rows:
                    self._apply_batch(flow, source, name, active, logic_fp, batch, counters)
                    batch = []
                    if self.stop.stopped:
                        break
        if batch and not self.stop.stopped:
            self._apply_batch(flow, source, name, active, logic_fp, batch, counters)
        counters.elapsed = time.perf_counter() - started
        self.observer(Event("source.finished", {"source": name, **dataclasses.asdict(counters)}))

    # -- one batch ------------------------------------------------------------------------------

    def _changes_for(
        self, work: _RowWork, active: list[_Active], known: dict[int, list[TrackedKey]]
    ) -> None:
        """Fill ``work.mutations`` / ``work.produced`` from the row's outcome and tracking."""
        old: dict[int, dict[str, TrackedKey]] = {}
        if work.tracked is not None:
            for k in known.get(work.tracked.id, []):
                old.setdefault(k.target_id, {})[k.key] = k
        collected = work.outcome.collected if work.outcome is not None else None
        for a in active:
            previous = old.get(a.tracking_id, {})
            produced: dict[str, tuple[bytes, bytes]] = {}
            values_of: dict[str, Any] = {}
            changes: dict[str, tuple[bytes, Any, bytes | None]] = {}
            if collected is not None:
                export = a.target.export
                keys = export.primary_key_fields
                values = export.value_fields
                for fields in collected[export.collector.index]:
                    parts = a.target.canonical_parts(tuple(fields[f] for f in keys))
                    key_text = repr(parts)
                    value = {f: fields[f] for f in values}
                    fp = fingerprint_fields(values, value.values())
                    packed = pickle.dumps(parts)
                    if key_text in produced:
                        # Collected twice from this row: the last value wins, with a warning.
                        self._report_duplicate(a, key_text, [work.key], same_row=True)
                    produced[key_text] = (packed, fp)
                    values_of[key_text] = value
                    before = previous.get(key_text)
                    if before is None or before.value_fp != fp or self.options.reexport:
                        changes[key_text] = (packed, value, fp)
                    else:
                        a.counters.unchanged += 1
            for key_text, tracked_key in previous.items():
                if key_text not in produced:
                    changes[key_text] = (tracked_key.key_parts, None, None)
            work.produced[a.tracking_id] = produced
            work.values[a.tracking_id] = values_of
            work.old_keys[a.tracking_id] = set(previous)
            if changes:
                work.mutations[a.tracking_id] = changes

    def _apply_batch(
        self,
        flow: Flow,
        source: Source,
        source_name: str,
        active: list[_Active],
        logic_fp: bytes,
        batch: list[_RowWork],
        counters: SourceCounters,
    ) -> None:
        same: list[tuple[str, str]] = []
        live: list[_RowWork] = []
        for work in batch:
            outcome = work.outcome
            if outcome is not None and outcome.status == "same":
                same.append((work.key, work.stamp or ""))
                counters.unchanged += 1
            elif outcome is not None and outcome.status == "failed":
                counters.errors += 1
                self._report_row_failure(source_name, work.key, outcome.error, outcome.traceback)
            else:
                if outcome is not None and outcome.status == "gone":
                    work.outcome = None
                    work.stamp = None
                live.append(work)
        vanished = _vanished_directory(source) if any(w.outcome is None for w in live) else None
        if vanished is not None:
            # Rows read as gone because the source directory itself went away during the run
            # (unmounted, moved): not a deletion. They fail, and the next run looks again.
            for work in [w for w in live if w.outcome is None]:
                counters.errors += 1
                message = f"source directory {vanished!r} vanished during the run; not deleted"
                self._report_row_failure(source_name, work.key, message, "")
            live = [w for w in live if w.outcome is not None]
        if same:
            self.tracking.touch(flow.name, source.name, same)
        known = self.tracking.keys_of_rows(w.tracked.id for w in live if w.tracked is not None)
        for work in live:
            self._changes_for(work, active, known)
        self._keep_shared_keys(live, active)
        self._stage(flow, source, live)
        failed = self._mutate(live, active)
        commits: list[RowCommit] = []
        replaced = frozenset(a.tracking_id for a in active)
        for work in live:
            if work.key in failed:
                counters.errors += 1
                for a in active:
                    if a.tracking_id in work.mutations:
                        a.counters.errors += 1
                self._report_row_failure(
                    source_name, work.key, failed[work.key][0], failed[work.key][1], work
                )
                continue
            commits.append(
                RowCommit(
                    work.key,
                    work.stamp,
                    None if work.outcome is None else work.outcome.content_fp,
                    logic_fp,
                    work.produced,
                    replaced,
                )
            )
            self._count_row(work, counters, active)
        if commits:
            self.tracking.commit(flow.name, source.name, commits)
        self._save_function_cache(flow, source, live, commits)
        counters.done += len(batch)
        self.observer(
            Event(
                "batch.applied",
                {
                    "source": source_name,
                    "rows": len(batch),
                    "committed": len(commits),
                    "done": counters.done,
                    "total": counters.total,
                    "targets": {a.target.name: dataclasses.asdict(a.counters) for a in active},
                },
            )
        )

    def _save_function_cache(
        self, flow: Flow, source: Source, live: list[_RowWork], commits: list[RowCommit]
    ) -> None:
        """Keep what evaluated rows cached (even when their mutations failed: the results
        are right all the same), and forget it for rows deleted from the source."""
        caching = self._caching.get(flow.name)
        if caching is None:
            caching = self.evaluator.caches(flow) or self.function_cache.holds_entries(flow.name)
            self._caching[flow.name] = caching
        if not caching:
            return
        entries: dict[str, bytes | None] = {
            w.key: w.outcome.cache
            for w in live
            if w.outcome is not None and w.outcome.status == "evaluated"
        }
        entries.update((c.row_key, None) for c in commits if c.stamp is None)
        if entries:
            self.function_cache.save(flow.name, source.name, entries)

    def _count_row(self, work: _RowWork, counters: SourceCounters, active: list[_Active]) -> None:
        if work.outcome is None:
            counters.deleted += 1
        elif work.tracked is None or work.tracked.content_fp is None:
            counters.added += 1  # new, or only staged by a run whose mutate never succeeded
        elif not work.mutations:
            counters.unchanged += 1  # evaluated again (new logic or setup) with the same output
        else:
            counters.updated += 1
        for a in active:
            old = work.old_keys.get(a.tracking_id, set())
            for key_text, (_, value, _) in work.mutations.get(a.tracking_id, {}).items():
                if value is None:
                    a.counters.deleted += 1
                elif key_text in old:
                    a.counters.updated += 1
                else:
                    a.counters.inserted += 1

    def _keep_shared_keys(self, live: list[_RowWork], active: list[_Active]) -> None:
        """A key still produced by another source row is not deleted (CocoIndex v0 deletes
        it): the remaining producer's value is sent instead, since the target may hold the
        value of the row that stopped producing it. A key produced by two rows is reported
        once."""
        batch_ids = {w.tracked.id for w in live if w.tracked is not None}
        for a in active:
            producers: dict[str, list[str]] = {}
            last_producer: dict[str, _RowWork] = {}
            for work in live:
                for key_text in work.produced.get(a.tracking_id, {}):
                    producers.setdefault(key_text, []).append(work.key)
                    last_producer[key_text] = work
            for key_text, rows in producers.items():
                if len(rows) > 1:
                    self._report_duplicate(a, key_text, rows)
            for work in live:
                changes = work.mutations.get(a.tracking_id)
                if not changes:
                    continue
                old = work.old_keys.get(a.tracking_id, set())
                for key_text, (_, value, _) in list(changes.items()):
                    if value is None:
                        if key_text in producers:
                            del changes[key_text]
                            self._resend(a, key_text, last_producer[key_text])
                        elif self.tracking.produced_elsewhere(a.tracking_id, key_text, batch_ids):
                            del changes[key_text]
                            self._revisit_producers(a, key_text, batch_ids)
                    elif (
                        key_text not in old
                        and (a.tracking_id, key_text) not in self._duplicates_reported
                        and self.tracking.produced_elsewhere(a.tracking_id, key_text, batch_ids)
                    ):
                        self._report_duplicate(a, key_text, [work.key])
                if not changes:
                    del work.mutations[a.tracking_id]

    def _resend(self, a: _Active, key_text: str, producer: _RowWork) -> None:
        """Upsert ``key_text`` with the value ``producer`` (in this batch) gives it."""
        packed, fp = producer.produced[a.tracking_id][key_text]
        changes = producer.mutations.setdefault(a.tracking_id, {})
        changes.setdefault(key_text, (packed, producer.values[a.tracking_id][key_text], fp))

    def _revisit_producers(self, a: _Active, key_text: str, batch_ids: set[int]) -> None:
        """Producers outside this batch: forget their value of the key and evaluate their rows
        again in this run, so that one of them upserts it."""
        for flow_name, source_name, row_key in self.tracking.forget_produced_value(
            a.tracking_id, key_text, batch_ids
        ):
            self._revisit.setdefault((flow_name, source_name), set()).add(row_key)

    def _report_duplicate(
        self, a: _Active, key_text: str, rows: list[str], *, same_row: bool = False
    ) -> None:
        marker = (a.tracking_id, key_text)
        if marker in self._duplicates_reported:
            return
        self._duplicates_reported.add(marker)
        self.observer(
            Event(
                "key.duplicate",
                {"target": a.target.name, "key": key_text, "rows": rows, "same_row": same_row},
            )
        )

    def _stage(self, flow: Flow, source: Source, live: list[_RowWork]) -> None:
        staged: dict[str, dict[int, dict[str, bytes]]] = {}
        for work in live:
            for target_id, changes in work.mutations.items():
                upserts = {
                    k: packed for k, (packed, value, _) in changes.items() if value is not None
                }
                if upserts:
                    staged.setdefault(work.key, {})[target_id] = upserts
        if staged:
            self.tracking.stage(flow.name, source.name, staged)

    # -- calling the connectors -----------------------------------------------------------------

    def _prepared(self, a: _Active) -> Any:
        if not a.is_prepared:
            target = a.target
            key_schema, value_schema = schemas(target.export)
            if "prepare" in target.kind.methods:
                a.prepared = call_connector(
                    target.kind,
                    "prepare",
                    f"target {target.name}",
                    target.export.spec,
                    target.state_object(target.record.state),
                    key_schema,
                    value_schema,
                )
            else:
                a.prepared = target.export.spec
            a.is_prepared = True
        return a.prepared

    def _call_mutate(self, kind_active: list[_Active], rows: list[_RowWork]) -> None:
        arguments = []
        for a in kind_active:
            mutation: dict[Any, Any] = {}
            deletes: dict[Any, Any] = {}
            target = a.target
            for work in rows:
                for packed, value, _ in work.mutations.get(a.tracking_id, {}).values():
                    key = target.mutate_key(pickle.loads(packed))
                    if value is None:
                        deletes[key] = None
                    else:
                        mutation[key] = target.decode_value(value)
            for key in deletes:
                mutation.setdefault(key, None)
            if mutation:
                arguments.append((self._prepared(a), mutation))
        if arguments:
            kind = kind_active[0].target.kind
            call_connector(kind, "mutate", f"{kind.kind} targets", *arguments)

    def _mutate(self, live: list[_RowWork], active: list[_Active]) -> dict[str, tuple[str, str]]:
        """Call ``mutate`` once per connector kind; return the rows that failed, with errors."""
        failed: dict[str, tuple[str, str]] = {}
        by_kind: dict[str, list[_Active]] = {}
        for a in active:
            by_kind.setdefault(a.target.kind.kind, []).append(a)
        for kind_active in by_kind.values():
            ids = {a.tracking_id for a in kind_active}
            rows = [w for w in live if ids & w.mutations.keys()]
            if not rows:
                continue
            ready = self._prepare_targets(kind_active, rows, failed)
            ready_ids = {a.tracking_id for a in ready}
            rows = [w for w in rows if ready_ids & w.mutations.keys()]
            if rows:
                self._isolate(ready, rows, failed)
        return failed

    def _prepare_targets(
        self,
        kind_active: list[_Active],
        rows: list[_RowWork],
        failed: dict[str, tuple[str, str]],
    ) -> list[_Active]:
        """``prepare`` the targets that have changes in ``rows`` (once per run). A target whose
        ``prepare`` failed fails its rows without being split row by row: it is the target's
        fault, not a row's."""
        ready = []
        for a in kind_active:
            if not any(a.tracking_id in w.mutations for w in rows):
                continue
            if a.prepare_error is None:
                try:
                    self._prepared(a)
                except ConnectorCallError as exc:
                    a.prepare_error = (str(exc), exc.connector_traceback)
            if a.prepare_error is None:
                ready.append(a)
                continue
            for work in rows:
                if a.tracking_id in work.mutations:
                    failed.setdefault(work.key, a.prepare_error)
        return ready

    def _isolate(
        self,
        kind_active: list[_Active],
        rows: list[_RowWork],
        failed: dict[str, tuple[str, str]],
    ) -> None:
        """Apply ``rows``; on failure split them in halves until the failing rows are found.
        Once a stop is asked for, no time goes into that: the rows fail with the batch's error
        and are retried on the next run."""
        try:
            self._call_mutate(kind_active, rows)
            return
        except ConnectorCallError as exc:
            error = (str(exc), exc.connector_traceback)
        except (Exception, SystemExit) as exc:  # decoding a key or value: the row's own fault
            error = (describe_exception(exc), user_traceback(exc))
        if len(rows) == 1 or self.stop.stopped:
            failed.update((work.key, error) for work in rows)
            return
        # Split outside the ``except`` blocks: a failure of a half must not be chained to the
        # batch's (its traceback would show this one's, and cocotui's frames with it).
        middle = len(rows) // 2
        self._isolate(kind_active, rows[:middle], failed)
        self._isolate(kind_active, rows[middle:], failed)

    def _report_row_failure(
        self, source: str, key: str, error: str, tb: str, work: _RowWork | None = None
    ) -> None:
        keys = sorted({k for changes in (work.mutations.values() if work else []) for k in changes})
        self.observer(
            Event(
                "row.failed",
                {"source": source, "row": key, "keys": keys[:20], "error": error, "traceback": tb},
            )
        )
