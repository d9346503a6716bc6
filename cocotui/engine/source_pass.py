"""One pass over one source: list the rows that need work, evaluate them, and apply them batch
by batch.

A batch goes ``triage → diff against tracking → resolve shared keys → stage → mutate (split
on failure) → commit``. Staging records the keys about to be written before ``mutate`` is
called, so that a crash in between leaves nothing untracked; only rows whose mutations all
succeeded are committed. Failing rows are reported and retried on the next run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

from cocotui.engine.counters import SourceCounters
from cocotui.engine.events import (
    BatchApplied,
    KeyDuplicate,
    Observer,
    RowFailed,
    SourceFailed,
    SourceFinished,
    SourceListed,
    StopToken,
    target_snapshot,
)
from cocotui.engine.key_codec import KeyCodecError
from cocotui.engine.mutate import Failures, mutate
from cocotui.engine.row_changes import (
    RowError,
    RowWork,
    TargetFeed,
    count_row,
    diff_row,
    row_commit,
    upsert,
)
from cocotui.engine.row_keys import UNTRACKABLE_ERROR, printable_key
from cocotui.engine.row_logic import source_logic
from cocotui.engine.source_listing import SourceListingError, rows_to_work_on
from cocotui.engine.workers import RowEvaluator, RowStatus, RowTask
from cocotui.flow.loader import user_traceback
from cocotui.flow.model import Flow, Source
from cocotui.state.function_cache import FunctionCacheStore
from cocotui.state.tracked_rows import ChangedRow, ListingDiff
from cocotui.state.tracking import RowCommit, SqliteTracking, StagedRow

#: The tracked keys of a row that has none (looked up for every new row).
_NO_KEYS: frozenset[str] = frozenset()


@dataclasses.dataclass
class RunContext:
    """What the passes of one run share."""

    tracking: SqliteTracking
    observer: Observer
    stop: StopToken
    evaluator: RowEvaluator
    function_cache: FunctionCacheStore
    #: send every row again, changed or not (``--reexport``)
    everything: bool
    batch_rows: int
    batch_bytes: int
    #: per flow, whether rows' cached function results must be kept up to date
    caching: dict[str, bool] = dataclasses.field(default_factory=dict)
    duplicates_reported: set[tuple[int, str]] = dataclasses.field(default_factory=set)
    #: rows to evaluate again in this run: (flow, source) -> row keys
    revisit: dict[tuple[str, str], set[str]] = dataclasses.field(default_factory=dict)

    def report_duplicate(
        self, feed: TargetFeed, key_text: str, rows: list[str], *, same_row: bool = False
    ) -> None:
        marker = (feed.tracking_id, key_text)
        if marker in self.duplicates_reported:
            return
        self.duplicates_reported.add(marker)
        name = feed.target.name
        self.observer(KeyDuplicate(target=name, key=key_text, rows=tuple(rows), same_row=same_row))


class Triage(NamedTuple):
    """A batch's rows sorted by their outcome."""

    #: rows whose content did not change: (row key, stamp) to record
    same: list[tuple[str, str]]
    #: rows read or deleted, whose changes go on to the targets
    live: list[RowWork]


def _vanished_directory(source: Source) -> str | None:
    """The directory of a source that reads one (``LocalFile``) when it no longer exists."""
    path = getattr(source.spec, "path", None)
    return path if isinstance(path, str) and not os.path.isdir(path) else None


class SourcePass:
    """A pass over ``source`` feeding ``feeds`` (the run's targets of ``flow``). A quiet pass
    (rows evaluated again for a shared key) reports failures but no progress."""

    def __init__(
        self,
        ctx: RunContext,
        flow: Flow,
        source: Source,
        feeds: Sequence[TargetFeed],
        *,
        quiet: bool = False,
    ) -> None:
        self.ctx = ctx
        self.flow = flow
        self.source = source
        self.feeds = feeds
        self.quiet = quiet
        self.name = f"{flow.name}.{source.name}"
        self.counters = SourceCounters()
        self.logic_fp = self._logic_fingerprint()

    def _logic_fingerprint(self) -> bytes:
        # The generation is part of it: after a setup change that invalidated or reset a
        # target's tracking, every row must be evaluated again so that it can be re-sent.
        generations = sorted(
            f"{f.target.identity}:{f.target.export.primary_key_fields}:{f.tracking_id}:"
            f"{f.generation}"
            for f in self.feeds
        )
        text = source_logic(self.source) + "\n" + "\n".join(generations)
        return hashlib.blake2b(text.encode(), digest_size=16).digest()

    # -- the pass -------------------------------------------------------------------------------

    def run(self, keys: set[str] | None = None, *, recheck: bool = False) -> SourceCounters:
        """Every row, or only the rows ``keys`` (live mode). With ``recheck``, rows whose stamp
        did not change are read too (and skipped only if their content did not change
        either): a watcher saw them change, and a file written twice within the filesystem's
        timestamp granularity keeps its stamp."""
        started = time.perf_counter()
        untrackable: list[str] = []
        try:
            diff = self._list(keys, recheck, untrackable)
        except SourceListingError as exc:
            self.counters.errors += 1
            tb = user_traceback(exc.__cause__ or exc)
            if not tb.startswith("Traceback"):
                tb = ""  # no frame of the user's: the message says it all
            error = f"cannot list rows: {exc}"
            self.ctx.observer(SourceFailed(source=self.name, error=error, traceback=tb))
            return self.counters
        for key in sorted(untrackable):
            self._fail(printable_key(key), RowError(UNTRACKABLE_ERROR, ""))
        self._start(diff)
        self._feed(diff)
        self.counters.elapsed = time.perf_counter() - started
        if not self.quiet:
            counters = dataclasses.replace(self.counters)
            self.ctx.observer(SourceFinished(source=self.name, counters=counters))
        return self.counters

    def _list(self, keys: set[str] | None, recheck: bool, untrackable: list[str]) -> ListingDiff:
        everything = self.ctx.everything or recheck
        return rows_to_work_on(
            self.ctx.tracking,
            self.flow.name,
            self.source,
            self.logic_fp,
            keys,
            everything,
            untrackable,
        )

    def _start(self, diff: ListingDiff) -> None:
        counters = self.counters
        counters.listed = diff.listed
        counters.unchanged = diff.listed - diff.changed_count
        counters.done = counters.unchanged
        counters.total = diff.listed + diff.gone_count
        if not self.quiet:
            self.ctx.observer(
                SourceListed(
                    source=self.name,
                    rows=diff.listed,
                    to_process=diff.changed_count,
                    gone=diff.gone_count,
                )
            )

    def _tasks(self, changed: Iterable[ChangedRow], read: deque[ChangedRow]) -> Iterator[RowTask]:
        """The evaluation task of each changed row, read as the evaluator asks for them; the
        rows go to ``read`` until their outcome comes back (in the same order)."""
        everything = self.ctx.everything
        for row in changed:
            read.append(row)
            key, _, tracked = row
            if tracked is None or tracked.logic_fp != self.logic_fp or everything:
                yield RowTask(key, None)
            else:  # the row may be unchanged: its content is compared before evaluating it
                yield RowTask(key, tracked.content_fp)

    def _feed(self, diff: ListingDiff) -> None:
        """Evaluate the changed rows and apply them, then the gone ones, in batches. The rows
        stream through: only those of the batch being built and of the evaluator's window are
        in memory."""
        ctx = self.ctx
        read: deque[ChangedRow] = deque()
        tasks = self._tasks(diff.changed, read)
        outcomes = ctx.evaluator.run(self.flow, self.source, tasks, diff.changed_count)
        batch: list[RowWork] = []
        batch_bytes = 0
        for outcome in outcomes:
            row_key, row_stamp, row = read.popleft()
            batch.append(RowWork(row_key, row_stamp, row, outcome))
            batch_bytes += outcome.size
            if len(batch) >= ctx.batch_rows or batch_bytes >= ctx.batch_bytes:
                self._apply(batch)
                batch, batch_bytes = [], 0
                if ctx.stop.stopped:
                    return
        if ctx.stop.stopped:
            return  # the rows evaluated since the last batch are retried next run
        for row_key, row in diff.gone:
            batch.append(RowWork(row_key, None, row, None))
            if len(batch) >= ctx.batch_rows:
                self._apply(batch)
                batch = []
                if ctx.stop.stopped:
                    return
        if batch:
            self._apply(batch)

    # -- one batch ------------------------------------------------------------------------------

    def _apply(self, batch: list[RowWork]) -> None:
        tracking = self.ctx.tracking
        triage = self._triage(batch)
        live = self._drop_vanished(triage.live)
        if triage.same:
            tracking.touch(self.flow.name, self.source.name, triage.same)
        live = self._diff(live)
        self._resolve_shared_keys(live)
        self._stage(live)
        failed = mutate(live, self.feeds, self.ctx.stop, self.ctx.observer, self.name)
        commits = self._commit(live, failed)
        self._save_function_cache(live, commits)
        self.counters.done += len(batch)
        if not self.quiet:
            self.ctx.observer(
                BatchApplied(
                    source=self.name,
                    rows=len(batch),
                    committed=len(commits),
                    done=self.counters.done,
                    total=self.counters.total,
                    targets=target_snapshot({f.target.name: f.counters for f in self.feeds}),
                )
            )

    def _triage(self, batch: list[RowWork]) -> Triage:
        triage = Triage([], [])
        for work in batch:
            outcome = work.outcome
            status = None if outcome is None else outcome.status
            if status is RowStatus.SAME:
                triage.same.append((work.key, work.stamp or ""))
                self.counters.unchanged += 1
            elif outcome is not None and status is RowStatus.FAILED:
                self._fail(work.key, RowError(outcome.error, outcome.traceback))
            else:
                if status is RowStatus.GONE:
                    work.outcome = None
                    work.stamp = None
                triage.live.append(work)
        return triage

    def _drop_vanished(self, live: list[RowWork]) -> list[RowWork]:
        """Rows read as gone because the source directory itself went away during the run
        (unmounted, moved) are not deleted: they fail, and the next run looks again."""
        if all(w.outcome is not None for w in live):
            return live
        vanished = _vanished_directory(self.source)
        if vanished is None:
            return live
        message = f"source directory {vanished!r} vanished during the run; not deleted"
        for work in live:
            if work.outcome is None:
                self._fail(work.key, RowError(message, ""))
        return [w for w in live if w.outcome is not None]

    def _diff(self, live: list[RowWork]) -> list[RowWork]:
        """Diff each row against the keys tracking holds for it; a row whose keys cannot be
        tracked fails."""
        known = self.ctx.tracking.keys_of_rows(w.tracked.id for w in live if w.tracked is not None)
        diffed = []
        for work in live:
            tracked_keys = known.get(work.tracked.id, []) if work.tracked is not None else []
            try:
                diff_row(
                    work, self.feeds, tracked_keys, self.ctx.everything, self._same_row_duplicate
                )
            except KeyCodecError as exc:
                self._fail(work.key, RowError(str(exc), ""))
                continue
            diffed.append(work)
        return diffed

    def _same_row_duplicate(self, feed: TargetFeed, key_text: str, row: str) -> None:
        self.ctx.report_duplicate(feed, key_text, [row], same_row=True)

    def _resolve_shared_keys(self, live: list[RowWork]) -> None:
        """A key still produced by another source row is not deleted (CocoIndex v0 deletes
        it): the remaining producer's value is sent instead, since the target may hold the
        value of the row that stopped producing it. A key produced by two rows is reported
        once."""
        batch_ids = {w.tracked.id for w in live if w.tracked is not None}
        for feed in self.feeds:
            producers: dict[str, list[str]] = {}
            last_producer: dict[str, RowWork] = {}
            for work in live:
                for key_text in work.produced.get(feed.tracking_id, {}):
                    producers.setdefault(key_text, []).append(work.key)
                    last_producer[key_text] = work
            for key_text, rows in producers.items():
                if len(rows) > 1:
                    self.ctx.report_duplicate(feed, key_text, rows)
            # One look at tracking per batch: the keys deleted here or new to their row that
            # rows outside the batch produce too.
            candidates = {
                key_text
                for work in live
                for key_text, change in work.changes.get(feed.tracking_id, {}).items()
                if (
                    key_text not in producers
                    if change.value is None
                    else key_text not in work.old_keys.get(feed.tracking_id, _NO_KEYS)
                )
            }
            elsewhere = (
                self.ctx.tracking.produced_elsewhere(feed.tracking_id, candidates, batch_ids)
                if candidates
                else set()
            )
            for work in live:
                self._keep_produced_keys(feed, work, last_producer, elsewhere, batch_ids)

    def _keep_produced_keys(
        self,
        feed: TargetFeed,
        work: RowWork,
        last_producer: dict[str, RowWork],
        elsewhere: set[str],
        batch_ids: set[int],
    ) -> None:
        changes = work.changes.get(feed.tracking_id)
        if not changes:
            return
        tid = feed.tracking_id
        old = work.old_keys.get(tid, _NO_KEYS)
        for key_text, change in list(changes.items()):
            if change.value is None:
                if key_text in last_producer:
                    del changes[key_text]
                    # Upsert it with the value its producer in this batch gives it.
                    producer = last_producer[key_text]
                    resent = upsert(producer.produced[tid][key_text])
                    producer.changes.setdefault(tid, {}).setdefault(key_text, resent)
                    if key_text in work.delivered.get(tid, set()):
                        producer.delivered.setdefault(tid, set()).add(key_text)  # an update
                elif key_text in elsewhere:
                    del changes[key_text]
                    self._revisit_producers(tid, key_text, batch_ids)
            elif (
                key_text not in old
                and (tid, key_text) not in self.ctx.duplicates_reported
                and key_text in elsewhere
            ):
                self.ctx.report_duplicate(feed, key_text, [work.key])
        if not changes:
            del work.changes[tid]

    def _revisit_producers(self, target_id: int, key_text: str, batch_ids: set[int]) -> None:
        """Producers outside this batch: forget their value of the key and evaluate their rows
        again in this run, so that one of them upserts it."""
        for flow_name, source_name, row_key in self.ctx.tracking.forget_produced_value(
            target_id, key_text, batch_ids
        ):
            self.ctx.revisit.setdefault((flow_name, source_name), set()).add(row_key)

    def _stage(self, live: list[RowWork]) -> None:
        """Record the keys about to be upserted that tracking does not hold for their row yet
        (one it holds needs no record: a crash leaves it tracked all the same)."""
        staged: list[StagedRow] = []
        for work in live:
            keys: dict[int, dict[str, bytes]] = {}
            for target_id, changes in work.changes.items():
                old = work.old_keys.get(target_id, _NO_KEYS)
                upserts = {
                    k: c.stored for k, c in changes.items() if c.value is not None and k not in old
                }
                if upserts:
                    keys[target_id] = upserts
            if keys:
                staged.append(StagedRow(work.key, work.row_id, keys))
        if staged:
            ids = self.ctx.tracking.stage(self.flow.name, self.source.name, staged)
            for work in live:
                if work.row_id is None:
                    work.row_id = ids.get(work.key)

    def _commit(self, live: list[RowWork], failed: Failures) -> list[RowCommit]:
        """Record the rows whose changes were all applied; report the others."""
        commits: list[RowCommit] = []
        for work in live:
            error = failed.get(work.key)
            if error is not None:
                failing = [f for f in self.feeds if f.tracking_id in work.changes]
                for feed in failing:
                    feed.counters.errors += 1
                names = tuple(f.target.name for f in failing)
                self._fail(work.key, error, work.keys_changed(), names)
                continue
            commits.append(row_commit(work, self.logic_fp))
            count_row(work, self.counters, self.feeds)
        if commits:
            self.ctx.tracking.commit(self.flow.name, self.source.name, commits)
        return commits

    def _save_function_cache(self, live: list[RowWork], commits: list[RowCommit]) -> None:
        """Keep what evaluated rows cached (even when their mutations failed: the results
        are right all the same), and forget it for rows deleted from the source."""
        ctx, flow = self.ctx, self.flow.name
        caching = ctx.caching.get(flow)
        if caching is None:
            caching = ctx.evaluator.caches(self.flow) or ctx.function_cache.holds_entries(flow)
            ctx.caching[flow] = caching
        if not caching:
            return
        entries: dict[str, bytes | None] = {
            w.key: w.outcome.cache
            for w in live
            if w.outcome is not None and w.outcome.status is RowStatus.EVALUATED
        }
        entries.update((c.row_key, None) for c in commits if c.stamp is None)
        if entries:
            ctx.function_cache.save(flow, self.source.name, entries)

    def _fail(
        self,
        row: str,
        error: RowError,
        keys: Sequence[str] = (),
        targets: tuple[str, ...] = (),
    ) -> None:
        self.counters.errors += 1
        self.ctx.observer(
            RowFailed(
                source=self.name,
                row=row,
                keys=tuple(keys[:20]),
                targets=targets,
                error=error.error,
                traceback=error.traceback,
            )
        )
