"""A source's full listing compared with what tracking holds for it, in one Python loop over a
dict of the tracked stamps: the rows to look at again (new, another stamp or logic), and the
tracked rows no longer listed.

One dict look-up per listed row is what a run that finds nothing pays (the comparison used to
stream the listing into a temporary SQLite table and join it, about three times the CPU). The
dict holds only key and stamp per tracked row (about 210 bytes: 21 MB at 100,000 rows, a few
MB more at its peak than the temporary table took); the rest of a row's tracking is read for
the rows that need work only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from cocotui.engine.row_keys import is_text
from cocotui.state.tracked_rows import ListingDiff, TrackedRow


class ListingComparison(NamedTuple):
    """What differs between a listing and tracking, each list in key order."""

    #: (key, stamp) of listed rows that are new or changed
    changed: list[tuple[str, str]]
    #: tracked keys no longer listed
    gone: list[str]
    #: listed keys that are not text (a file name that is not UTF-8): never tracked, reported
    untrackable: list[str]
    #: distinct tracked keys listed
    tracked_listed: int

    def keys_to_read(self) -> list[str]:
        """The keys whose tracking :meth:`diff` needs."""
        return [key for key, _ in self.changed] + self.gone

    def diff(self, tracked: dict[str, TrackedRow]) -> ListingDiff:
        """The rows to work on, given the tracking of :meth:`keys_to_read` (a key missing from
        ``tracked`` is a new row)."""
        changed = [(key, stamp, tracked.get(key)) for key, stamp in self.changed]
        new = sum(row is None for _, _, row in changed)
        gone = [(key, tracked[key]) for key in self.gone]
        return ListingDiff.of(self.tracked_listed + new, changed, gone)


def compare_listing(
    rows: Iterable[tuple[str, str]], stamps: dict[str, str | None]
) -> ListingComparison:
    """Compare ``rows`` (key, stamp) with ``stamps``: the stamp of every tracked row of the
    source, ``None`` for a row to evaluate again whatever its stamp (tracked with other
    logic). Each listed row is taken out of ``stamps``: what is left is gone.

    A key listed twice (a custom source may) is one row, with its last stamp; listed again
    after it was found unchanged, it is no longer in ``stamps`` and is looked at again, which
    costs a read and never misses a change."""
    tracked = len(stamps)
    changed: dict[str, str] = {}
    take = stamps.pop
    for key, stamp in rows:
        if take(key, None) != stamp:
            changed[key] = stamp
    # Tracked keys are text: a key that is not can only be among the changed ones.
    untrackable = [key for key in changed if not is_text(key)]
    for key in untrackable:
        del changed[key]
    gone = sorted(stamps)
    return ListingComparison(sorted(changed.items()), gone, untrackable, tracked - len(gone))
