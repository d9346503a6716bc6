"""A source's full listing compared with its tracked rows, inside SQLite, and the rows that
need work read back a page at a time (see :func:`diff_listing`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator

from cocotui.state.tracked_rows import ChangedRow, GoneRow, ListingDiff, TrackedRow

#: Rows read at a time from a listing's difference.
PAGE_ROWS = 1000


def diff_listing(
    db: sqlite3.Connection,
    flow: str,
    source: str,
    listing: Iterable[tuple[str, str]],
    logic_fp: bytes,
    everything: bool,
) -> ListingDiff:
    """Compare a full listing (key, stamp) with the tracked rows: the listing goes into a
    temporary table, each row marked as it is inserted when it needs work (all of them with
    ``everything``), and the tracked rows no longer listed are copied aside. Both are then
    read a page at a time as the pass works on them, so that memory does not grow with the
    source (at a first update every row needs work). Which rows need work is fixed here; their
    tracking is read with each page. The rows must be read before the next listing is."""
    _create_tables(db)
    db.execute("BEGIN")
    try:
        db.execute("DELETE FROM temp.listing")
        db.execute("DELETE FROM temp.gone")
        db.execute("DELETE FROM temp.listing_of")
        db.execute(
            "INSERT INTO temp.listing_of VALUES (?, ?, ?, ?)", (flow, source, logic_fp, everything)
        )
        # Marked while inserted: one statement per row, no second pass over the table (an
        # UPDATE of every row would also keep a statement journal of the whole table).
        db.executemany(
            "INSERT OR REPLACE INTO temp.listing(row_key, stamp, changed) SELECT ?1, ?2, "
            "o.everything OR NOT EXISTS (SELECT 1 FROM source_rows AS s WHERE s.flow = o.flow "
            "AND s.source = o.source AND s.row_key = ?1 AND s.stamp IS ?2 "
            "AND s.logic_fp IS o.logic_fp) FROM temp.listing_of AS o",
            listing,
        )
        gone = db.execute(
            "INSERT INTO temp.gone(row_key, id, stamp, content_fp, logic_fp) "
            "SELECT s.row_key, s.id, s.stamp, s.content_fp, s.logic_fp FROM source_rows AS s "
            "WHERE s.flow = ? AND s.source = ? AND NOT EXISTS "
            "(SELECT 1 FROM temp.listing AS l WHERE l.row_key = s.row_key) "
            "ORDER BY s.row_key",
            (flow, source),
        ).rowcount
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    listed, changed = db.execute("SELECT COUNT(*), TOTAL(changed) FROM temp.listing").fetchone()
    changed_rows = _changed_rows(db, flow, source) if changed else iter(())
    gone_rows = _gone_rows(db) if gone else iter(())
    return ListingDiff(listed, int(changed), gone, changed_rows, gone_rows)


def _create_tables(db: sqlite3.Connection) -> None:
    db.execute(
        "CREATE TEMP TABLE IF NOT EXISTS listing(row_key TEXT PRIMARY KEY, "
        "stamp TEXT NOT NULL, changed INTEGER NOT NULL) WITHOUT ROWID"
    )
    db.execute(
        "CREATE TEMP TABLE IF NOT EXISTS gone(seq INTEGER PRIMARY KEY, row_key TEXT NOT NULL, "
        "id INTEGER NOT NULL, stamp TEXT, content_fp BLOB, logic_fp BLOB)"
    )
    # What the listing is compared with: one row, joined by the statement inserting each
    # listed row (its parameters are the row's key and stamp).
    db.execute(
        "CREATE TEMP TABLE IF NOT EXISTS listing_of("
        "flow TEXT NOT NULL, source TEXT NOT NULL, logic_fp BLOB, everything INTEGER NOT NULL)"
    )


def _changed_rows(db: sqlite3.Connection, flow: str, source: str) -> Iterator[ChangedRow]:
    """The listed rows marked as needing work, in key order, with their tracking as it is
    when their page is read."""
    after: list[str] = []
    while True:
        since = "l.row_key > ?" if after else "l.row_key >= ''"
        page = db.execute(
            "SELECT l.row_key, l.stamp, s.id, s.stamp, s.content_fp, s.logic_fp "
            "FROM temp.listing AS l LEFT JOIN source_rows AS s "
            "ON s.flow = ? AND s.source = ? AND s.row_key = l.row_key "
            f"WHERE l.changed AND {since} ORDER BY l.row_key LIMIT ?",
            (flow, source, *after, PAGE_ROWS),
        ).fetchall()
        for key, stamp, row_id, old, content, logic in page:
            yield key, stamp, None if row_id is None else TrackedRow(row_id, old, content, logic)
        if len(page) < PAGE_ROWS:
            return
        after = [page[-1][0]]


def _gone_rows(db: sqlite3.Connection) -> Iterator[GoneRow]:
    """The tracked rows found no longer listed, in key order."""
    seq = 0
    while True:
        page = db.execute(
            "SELECT seq, row_key, id, stamp, content_fp, logic_fp FROM temp.gone "
            "WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, PAGE_ROWS),
        ).fetchall()
        for _, key, row_id, stamp, content, logic in page:
            yield key, TrackedRow(row_id, stamp, content, logic)
        if len(page) < PAGE_ROWS:
            return
        seq = page[-1][0]
