"""One source row's work in a batch: what it produces for each target, diffed against what
tracking holds for it, and how it counts once applied."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from cocotui.engine.counters import SourceCounters, TargetCounters
from cocotui.engine.key_codec import decode_parts, encode_parts
from cocotui.engine.targets import DesiredTarget
from cocotui.engine.workers import RowOutcome
from cocotui.state.tracking import RowCommit, TrackedKey, TrackedRow
from cocotui.values.fingerprints import fingerprint_fields


@dataclasses.dataclass
class TargetFeed:
    """A target being fed during this run."""

    target: DesiredTarget
    tracking_id: int
    #: Bumped by every setup change that invalidates or resets the target's row tracking.
    generation: int
    counters: TargetCounters = dataclasses.field(default_factory=TargetCounters)
    prepared: Any = None
    is_prepared: bool = False
    #: Set when ``prepare`` failed: the target's rows fail for this run.
    prepare_error: RowError | None = None
    #: The export's value fields (read once: every produced key needs them).
    value_fields: tuple[str, ...] = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.value_fields = self.target.export.value_fields


class RowError(NamedTuple):
    error: str
    traceback: str


class ProducedKey(NamedTuple):
    """A target key a row produces in this run."""

    parts: tuple[Any, ...]
    stored: bytes
    value: dict[str, Any]
    value_fp: bytes


class KeyChange(NamedTuple):
    """A key to send: upserted with ``value``, or deleted when ``value`` is ``None``."""

    #: ``None`` for a key known only from tracking (decoded when sent)
    parts: tuple[Any, ...] | None
    stored: bytes
    value: dict[str, Any] | None

    def key_parts(self) -> tuple[Any, ...]:
        return self.parts if self.parts is not None else decode_parts(self.stored)


def upsert(produced: ProducedKey) -> KeyChange:
    return KeyChange(produced.parts, produced.stored, produced.value)


@dataclasses.dataclass
class RowWork:
    """One source row in a batch, with the target changes it causes."""

    key: str
    stamp: str | None
    tracked: TrackedRow | None
    outcome: RowOutcome | None  # None for a row deleted from the source
    #: target tracking id -> key text -> change to send
    changes: dict[int, dict[str, KeyChange]] = dataclasses.field(default_factory=dict)
    #: target tracking id -> key text -> what the row produces now
    produced: dict[int, dict[str, ProducedKey]] = dataclasses.field(default_factory=dict)
    #: target tracking id -> key texts tracked for this row before this run (none: no entry)
    old_keys: dict[int, set[str]] = dataclasses.field(default_factory=dict)
    #: target tracking id -> those of them the target is known to hold (not only staged):
    #: an upsert of one counts as an update, of any other key as an insert
    delivered: dict[int, set[str]] = dataclasses.field(default_factory=dict)
    #: target tracking id -> produced keys tracking holds as they are now (same value and
    #: key parts): nothing to record for them
    up_to_date: dict[int, set[str]] = dataclasses.field(default_factory=dict)
    #: The row's id in tracking (``None`` until it is tracked).
    row_id: int | None = None

    def __post_init__(self) -> None:
        if self.tracked is not None:
            self.row_id = self.tracked.id

    def keys_changed(self) -> list[str]:
        return sorted({k for changes in self.changes.values() for k in changes})


#: Told when a row collects one key twice: (target, key text, row key).
SameRowDuplicate = Callable[[TargetFeed, str, str], None]


def diff_row(
    work: RowWork,
    feeds: Sequence[TargetFeed],
    tracked_keys: list[TrackedKey],
    everything: bool,
    same_row_duplicate: SameRowDuplicate,
) -> None:
    """Fill ``work.produced`` and ``work.changes`` from the row's outcome and the keys
    tracking holds for it; a key whose value did not change counts as unchanged (unless
    ``everything`` is sent again)."""
    old: dict[int, dict[str, TrackedKey]] = {}
    for k in tracked_keys:
        old.setdefault(k.target_id, {})[k.key] = k
    collected = work.outcome.collected if work.outcome is not None else None
    for feed in feeds:
        tid = feed.tracking_id
        produced: dict[str, ProducedKey] = {}
        if collected is not None:
            for key_text, key in _produced_keys(feed, collected):
                if key_text in produced:
                    # Collected twice from this row: the last value wins, with a warning.
                    same_row_duplicate(feed, key_text, work.key)
                produced[key_text] = key
        work.produced[tid] = produced
        previous = old.get(tid)
        if previous is None:  # nothing tracked for the row (a new row): every key is new
            if produced:
                work.changes[tid] = {k: upsert(p) for k, p in produced.items()}
        else:
            _diff_keys(work, feed, produced, previous, everything)


def _diff_keys(
    work: RowWork,
    feed: TargetFeed,
    produced: dict[str, ProducedKey],
    previous: dict[str, TrackedKey],
    everything: bool,
) -> None:
    """The changes of one target's keys of a row that tracking holds keys of."""
    tid = feed.tracking_id
    changes: dict[str, KeyChange] = {}
    up_to_date: set[str] = set()
    for key_text, key in produced.items():
        before = previous.get(key_text)
        if before is None or before.value_fp != key.value_fp or everything:
            changes[key_text] = upsert(key)
        else:
            feed.counters.unchanged += 1
            if before.key_parts == key.stored:
                up_to_date.add(key_text)
    for key_text, tracked_key in previous.items():
        if key_text not in produced:
            changes[key_text] = KeyChange(None, tracked_key.key_parts, None)
    work.old_keys[tid] = set(previous)
    work.delivered[tid] = {k for k, t in previous.items() if t.delivered}
    if up_to_date:
        work.up_to_date[tid] = up_to_date
    if changes:
        work.changes[tid] = changes


def _produced_keys(feed: TargetFeed, collected: Any) -> list[tuple[str, ProducedKey]]:
    export = feed.target.export
    key_fields = export.primary_key_fields
    value_fields = feed.value_fields
    canonical_parts = feed.target.canonical_parts
    keys = []
    for fields in collected[export.collector.index]:
        parts = canonical_parts(tuple([fields[f] for f in key_fields]))
        value = {f: fields[f] for f in value_fields}
        fp = fingerprint_fields(value_fields, value.values())
        keys.append((repr(parts), ProducedKey(parts, encode_parts(parts), value, fp)))
    return keys


def row_commit(work: RowWork, logic_fp: bytes) -> RowCommit:
    """What tracking records for a row whose changes were all applied: the keys it produces
    that tracking does not hold as they are, and the tracked keys it no longer produces."""
    recorded: dict[int, dict[str, tuple[bytes, bytes]]] = {}
    dropped: dict[int, set[str]] = {}
    for tid, keys in work.produced.items():
        current = work.up_to_date.get(tid, ())
        if len(current) < len(keys):
            recorded[tid] = {k: (p.stored, p.value_fp) for k, p in keys.items() if k not in current}
        old = work.old_keys.get(tid)
        gone = old.difference(keys) if old else None
        if gone:
            dropped[tid] = gone
    content_fp = None if work.outcome is None else work.outcome.content_fp
    return RowCommit(work.key, work.row_id, work.stamp, content_fp, logic_fp, recorded, dropped)


def count_row(work: RowWork, counters: SourceCounters, feeds: Sequence[TargetFeed]) -> None:
    """Count a committed row, and its target changes. A row or key only staged by an earlier
    run (its ``mutate`` failed, or the process died) counts as new on both sides: no
    ``mutate`` is known to have delivered it."""
    if work.outcome is None:
        counters.deleted += 1
    elif work.tracked is None or work.tracked.content_fp is None:
        counters.added += 1  # new, or only staged by a run whose mutate never succeeded
    elif not work.changes:
        counters.unchanged += 1  # evaluated again (new logic or setup) with the same output
    else:
        counters.updated += 1
    for feed in feeds:
        changes = work.changes.get(feed.tracking_id)
        if not changes:
            continue
        delivered = work.delivered.get(feed.tracking_id, ())
        for key_text, change in changes.items():
            if change.value is None:
                feed.counters.deleted += 1
            elif key_text in delivered:
                feed.counters.updated += 1
            else:
                feed.counters.inserted += 1
