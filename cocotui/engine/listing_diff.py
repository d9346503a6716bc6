"""A source's full listing compared with what tracking holds for it, in one Python loop over a
dict of the tracked stamps: the rows to look at again (new, another stamp or logic), and the
tracked rows no longer listed.

One dict lookup per listed row is what a run that finds nothing pays (the comparison used to
stream the listing into a temporary SQLite table and join it, about three times the CPU). The
dict holds only key and stamp per tracked row; the rest of a row's tracking is read for the
rows that need work only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from cocotui.engine.row_keys import is_text


class ListingComparison(NamedTuple):
    """What differs between a listing and tracking, each list in key order."""

    #: distinct listed rows whose key can be tracked
    listed: int
    #: (key, stamp) of listed rows that are new or changed (every listed row with ``everything``)
    changed: list[tuple[str, str]]
    #: keys of ``changed`` that tracking holds
    tracked: list[str]
    #: tracked keys no longer listed
    gone: list[str]
    #: listed keys that are not text (a file name that is not UTF-8): never tracked, reported
    untrackable: list[str]


class _Listed:
    """Stands, in the dict of tracked stamps, for a row the listing reached."""


_LISTED = _Listed()
_UNTRACKED = _Listed()


def stamp_table(tracked_stamps: Iterable[tuple[str, str | None]]) -> dict[str, object]:
    """The table :func:`compare_listing` takes: (key, stamp) of every tracked row of the
    source, the stamp ``None`` for a row to evaluate again whatever its stamp (tracked with
    other logic). Read whole before the listing starts, so that a failure of the tracking
    database is never taken for one of the source."""
    return dict(tracked_stamps)


def compare_listing(
    rows: Iterable[tuple[str, str]], stamps: dict[str, object], everything: bool
) -> ListingComparison:
    """Compare ``rows`` (key, stamp) with ``stamps`` (from :func:`stamp_table`, marked as the
    listing reaches its rows). With ``everything`` every listed row counts as changed.

    A key listed twice (a custom source may) counts once, with its last stamp; a repeat of a
    row found unchanged is looked at again, which costs a read and never misses a change."""
    changed: dict[str, str] = {}
    get = stamps.get
    for key, stamp in rows:
        old = get(key, _UNTRACKED)
        if old is not _UNTRACKED:
            stamps[key] = _LISTED  # not gone (the value is replaced in place: no resize)
        if old != stamp or everything:
            changed[key] = stamp
    gone = sorted(key for key, mark in stamps.items() if mark is not _LISTED)
    tracked = sorted(key for key in changed if key in stamps)
    untrackable = [key for key in changed if key not in stamps and not is_text(key)]
    for key in untrackable:
        del changed[key]
    listed = len(stamps) - len(gone) + len(changed) - len(tracked)
    return ListingComparison(listed, sorted(changed.items()), tracked, gone, untrackable)
