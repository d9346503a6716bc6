"""What row tracking hands out and takes in (:mod:`cocotui.state.tracking`): one source row's
tracking, a listing's difference from it, a tracked key, a row's staged keys, a row's commit."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import NamedTuple

#: The value fingerprint of a key a target holds with a value to send again (no fingerprint
#: is empty).
RESEND = b""


class TrackedRow(NamedTuple):
    """One source row's tracking (a NamedTuple: a run loads one per row of a source)."""

    id: int
    stamp: str | None
    content_fp: bytes | None
    logic_fp: bytes | None


#: A listed row that is new or changed: (key, stamp, its tracking or ``None``).
ChangedRow = tuple[str, str, TrackedRow | None]
#: A tracked row that is no longer listed: (key, its tracking).
GoneRow = tuple[str, TrackedRow]


@dataclasses.dataclass(frozen=True)
class ListingDiff:
    """What a listing means against tracking: the rows to look at, in key order. ``changed``
    and ``gone`` may be read once only, as the rows are worked on (a full listing's are read
    from the tracking database a page at a time: memory does not grow with the source)."""

    listed: int
    #: how many rows ``changed`` and ``gone`` give
    changed_count: int
    gone_count: int
    changed: Iterable[ChangedRow]
    gone: Iterable[GoneRow]

    @classmethod
    def of(cls, listed: int, changed: list[ChangedRow], gone: list[GoneRow]) -> ListingDiff:
        return cls(listed, len(changed), len(gone), changed, gone)


class TrackedKey(NamedTuple):
    target_id: int
    key: str
    key_parts: bytes
    #: ``None`` while only staged, :data:`RESEND` when its value must be sent again
    value_fp: bytes | None

    @property
    def delivered(self) -> bool:
        """Whether a ``mutate`` is known to have delivered the key to its target."""
        return self.value_fp is not None


class StagedRow(NamedTuple):
    """Keys a source row is about to upsert, recorded before ``mutate`` is called."""

    row_key: str
    #: ``None``: the row is not tracked yet (:meth:`SqliteTracking.stage` registers it)
    row_id: int | None
    #: per target id: key -> packed key parts
    keys: dict[int, dict[str, bytes]]


class RowCommit(NamedTuple):
    """The outcome of one source row, written once its mutations were applied: what changed
    in the keys tracking holds for it (keys it still produces with the same value and key
    parts are left as they are)."""

    row_key: str
    #: ``None``: the row is not tracked yet (it is registered)
    row_id: int | None
    stamp: str | None  # None: the row is gone
    content_fp: bytes | None
    logic_fp: bytes | None
    #: Keys to record per target id: key -> (packed key parts, value fingerprint).
    recorded: dict[int, dict[str, tuple[bytes, bytes]]]
    #: Tracked keys the row no longer produces, per target id.
    dropped: dict[int, set[str]]
