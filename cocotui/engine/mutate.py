"""Sending a batch's key changes to the targets: one ``mutate`` call per connector kind, split
until the failing source rows are isolated when a call fails. Each call is reported as it starts
and ends (the rows it carries are in flight meanwhile)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from cocotui.engine.counters import TargetCounters
from cocotui.engine.errors import ConnectorCallError
from cocotui.engine.evaluate import describe_exception
from cocotui.engine.events import (
    MutateFinished,
    MutateStarted,
    Observer,
    StopToken,
    target_snapshot,
)
from cocotui.engine.row_changes import RowError, RowWork, TargetFeed
from cocotui.engine.targets import call_connector, schemas
from cocotui.engine_object import load
from cocotui.flow.loader import user_traceback

#: source row key -> why its changes could not be applied
Failures = dict[str, RowError]


def mutate(
    live: Sequence[RowWork],
    feeds: Sequence[TargetFeed],
    stop: StopToken,
    observer: Observer,
    source: str,
) -> Failures:
    """Apply the changes of ``live`` (rows of ``source``); return the rows that failed, with
    their errors."""
    failed: Failures = {}
    by_kind: dict[str, list[TargetFeed]] = {}
    for feed in feeds:
        by_kind.setdefault(feed.target.kind.kind, []).append(feed)
    calls = _Calls(stop, observer, source, failed)
    for kind_feeds in by_kind.values():
        ids = {feed.tracking_id for feed in kind_feeds}
        rows = [w for w in live if ids & w.changes.keys()]
        if not rows:
            continue
        ready = _prepare_targets(kind_feeds, rows, failed)
        ready_ids = {feed.tracking_id for feed in ready}
        rows = [w for w in rows if ready_ids & w.changes.keys()]
        if rows:
            calls.isolate(ready, rows)
    return failed


def _prepared(feed: TargetFeed) -> Any:
    if not feed.is_prepared:
        target = feed.target
        key_schema, value_schema = schemas(target.export)
        if "prepare" in target.kind.methods:
            feed.prepared = call_connector(
                target.kind,
                "prepare",
                f"target {target.name}",
                target.export.spec,
                target.state_object(target.record.state),
                key_schema,
                value_schema,
                load(target.kind.persistent_key_type, target.key),
            )
        else:
            feed.prepared = target.export.spec
        feed.is_prepared = True
    return feed.prepared


def _prepare_targets(
    kind_feeds: list[TargetFeed], rows: list[RowWork], failed: Failures
) -> list[TargetFeed]:
    """``prepare`` the targets that have changes in ``rows`` (once per run). A target whose
    ``prepare`` failed fails its rows without being split row by row: it is the target's
    fault, not a row's."""
    ready = []
    for feed in kind_feeds:
        if not any(feed.tracking_id in w.changes for w in rows):
            continue
        if feed.prepare_error is None:
            try:
                _prepared(feed)
            except ConnectorCallError as exc:
                feed.prepare_error = RowError(str(exc), exc.connector_traceback)
        if feed.prepare_error is None:
            ready.append(feed)
            continue
        for work in rows:
            if feed.tracking_id in work.changes:
                failed.setdefault(work.key, feed.prepare_error)
    return ready


def _arguments(
    kind_feeds: list[TargetFeed], rows: list[RowWork]
) -> list[tuple[TargetFeed, dict[Any, Any]]]:
    """Per target with changes in ``rows``: its ``mutate`` mapping (key -> value, ``None``
    to delete), keys and values decoded for the connector."""
    arguments = []
    for feed in kind_feeds:
        mutation: dict[Any, Any] = {}
        deletes: dict[Any, Any] = {}
        target = feed.target
        for work in rows:
            for change in work.changes.get(feed.tracking_id, {}).values():
                key = target.mutate_key(change.key_parts())
                if change.value is None:
                    deletes[key] = None
                else:
                    mutation[key] = target.decode_value(change.value)
        for key in deletes:
            mutation.setdefault(key, None)
        if mutation:
            arguments.append((feed, mutation))
    return arguments


class _Calls:
    """The ``mutate`` calls of one batch, reported to ``observer``; failing rows go to
    ``failed``."""

    def __init__(self, stop: StopToken, observer: Observer, source: str, failed: Failures):
        self.stop = stop
        self.observer = observer
        self.source = source
        self.failed = failed

    def isolate(self, kind_feeds: list[TargetFeed], rows: list[RowWork]) -> None:
        """Apply ``rows``; on failure split them in halves until the failing rows are found.
        Once a stop is asked for, no time goes into that: the rows fail with the batch's
        error and are retried on the next run."""
        try:
            self._call(kind_feeds, rows)
            return
        except ConnectorCallError as exc:
            error = RowError(str(exc), exc.connector_traceback)
        except (Exception, SystemExit) as exc:  # decoding a key or value: the row's own fault
            error = RowError(describe_exception(exc), user_traceback(exc))
        if len(rows) == 1 or self.stop.stopped:
            self.failed.update((work.key, error) for work in rows)
            return
        # Split outside the ``except`` blocks: a failure of a half must not be chained to the
        # batch's (its traceback would show this one's, and cocotui's frames with it).
        middle = len(rows) // 2
        self.isolate(kind_feeds, rows[:middle])
        self.isolate(kind_feeds, rows[middle:])

    def _call(self, kind_feeds: list[TargetFeed], rows: list[RowWork]) -> None:
        arguments = _arguments(kind_feeds, rows)
        if not arguments:
            return
        kind = kind_feeds[0].target.kind
        for feed, mutation in arguments:
            feed.counters.in_flight += len(mutation)
        self.observer(
            MutateStarted(
                source=self.source,
                connector=kind.kind,
                rows=len(rows),
                targets=_counters(arguments),
            )
        )
        started = time.perf_counter()
        ok = False
        try:
            call_connector(
                kind,
                "mutate",
                f"{kind.kind} targets",
                *((_prepared(feed), mutation) for feed, mutation in arguments),
            )
            ok = True
        finally:
            for feed, mutation in arguments:
                feed.counters.in_flight -= len(mutation)
            self.observer(
                MutateFinished(
                    source=self.source,
                    connector=kind.kind,
                    ok=ok,
                    elapsed=time.perf_counter() - started,
                    targets=_counters(arguments),
                )
            )


def _counters(arguments: list[tuple[TargetFeed, dict[Any, Any]]]) -> dict[str, TargetCounters]:
    return target_snapshot({feed.target.name: feed.counters for feed, _ in arguments})
