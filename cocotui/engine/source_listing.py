"""What a pass over a source must look at: the source's rows (all of them, or the keys a
watcher reported) compared with tracking — the rows new or changed, and the tracked rows gone.

A full listing that tracking mostly knows is compared in Python (:mod:`.listing_diff`); one
whose every row needs work (a source's first update, a re-export) is held by tracking's
database and read back a page at a time (:mod:`cocotui.state.listing_pages`), so that memory
does not grow with the source.
"""

from __future__ import annotations

from collections.abc import Iterator

from cocotui.engine.listing_diff import compare_listing
from cocotui.engine.row_keys import is_text
from cocotui.flow.model import Source
from cocotui.state.tracked_rows import ChangedRow, ListingDiff
from cocotui.state.tracking import SqliteTracking


class SourceListingError(Exception):
    """A source could not be listed; the source's own exception is the cause."""


def rows_to_work_on(
    tracking: SqliteTracking,
    flow: str,
    source: Source,
    logic_fp: bytes,
    keys: set[str] | None,
    everything: bool,
    untrackable: list[str],
) -> ListingDiff:
    """The rows that need work: among all rows, or only ``keys`` when given (all of those
    listed with ``everything``). Keys that are not text (a file name that is not UTF-8) go to
    ``untrackable`` instead."""
    if keys is None:
        return _all_rows(tracking, flow, source, logic_fp, everything, untrackable)
    untrackable += [key for key in keys if not is_text(key)]
    text_keys = sorted(key for key in keys if is_text(key))
    try:
        stamps = {key: source.spec.stamp(key) for key in text_keys}
    except Exception as exc:
        raise SourceListingError(str(exc)) from exc
    listed = {key: stamp for key, stamp in stamps.items() if stamp is not None}
    tracked = tracking.source_rows_for(flow, source.name, text_keys)
    changed: list[ChangedRow] = []
    for key, stamp in listed.items():
        row = tracked.get(key)
        if everything or row is None or row.stamp != stamp or row.logic_fp != logic_fp:
            changed.append((key, stamp, row))
    gone = [(key, row) for key, row in tracked.items() if key not in listed]
    return ListingDiff.of(len(listed), changed, gone)


def _all_rows(
    tracking: SqliteTracking,
    flow: str,
    source: Source,
    logic_fp: bytes,
    everything: bool,
    untrackable: list[str],
) -> ListingDiff:
    """Every row of the source compared with tracking; only the rows that need work have
    their tracking read whole."""
    if everything or not tracking.has_rows(flow, source.name):
        return tracking.every_listed_row(flow, source.name, _text_rows(source, untrackable))
    stamps = tracking.tracked_stamps(flow, source.name, logic_fp)
    try:
        found = compare_listing(source.spec.list_rows(), stamps)
    except Exception as exc:  # a custom source's list() or create() may raise anything
        raise SourceListingError(str(exc)) from exc
    untrackable += found.untrackable
    return found.diff(tracking.source_rows_for(flow, source.name, found.keys_to_read()))


def _text_rows(source: Source, untrackable: list[str]) -> Iterator[tuple[str, str]]:
    """The source's listing without the keys that are not text, which go to ``untrackable``."""
    try:
        for key, stamp in source.spec.list_rows():
            if is_text(key):
                yield key, stamp
            else:
                untrackable.append(key)
    except Exception as exc:  # a custom source's list() or create() may raise anything
        raise SourceListingError(str(exc)) from exc
