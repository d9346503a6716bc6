"""A whole listing whose every row needs work (a source's first update, a re-export), held in
a temporary table and read back a page at a time, so that the memory of a pass does not grow
with the source: see :func:`every_listed_row`. (A listing that tracking mostly knows is
compared in Python instead: :mod:`cocotui.engine.listing_diff`.)"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator

from cocotui.state.tracked_rows import ChangedRow, GoneRow, ListingDiff, TrackedRow

#: Rows read at a time from the temporary tables.
PAGE_ROWS = 1000


def every_listed_row(
    db: sqlite3.Connection, flow: str, source: str, listing: Iterable[tuple[str, str]]
) -> ListingDiff:
    """Every row of ``listing`` (key, stamp) with its tracking, if any, and the tracked rows
    no longer listed. The listing goes into a temporary table, the gone rows are copied aside,
    and both are read back a page at a time as the pass works on them; a row's tracking is
    read with its page. The rows must be read before the next listing is."""
    _create_tables(db)
    db.execute("BEGIN")
    try:
        for table in ("listing", "gone"):
            db.execute(f"DELETE FROM temp.{table}")
        db.executemany("INSERT OR REPLACE INTO temp.listing(row_key, stamp) VALUES (?, ?)", listing)
        gone = _copy_gone_rows(db, flow, source)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    (listed,) = db.execute("SELECT COUNT(*) FROM temp.listing").fetchone()
    changed_rows = _listed_rows(db, flow, source) if listed else iter(())
    gone_rows = _gone_rows(db) if gone else iter(())
    return ListingDiff(listed, listed, gone, changed_rows, gone_rows)


def _copy_gone_rows(db: sqlite3.Connection, flow: str, source: str) -> int:
    """Copy the tracked rows that are no longer listed to ``temp.gone``; return how many."""
    return db.execute(
        "INSERT INTO temp.gone(row_key, id, stamp, content_fp, logic_fp) "
        "SELECT s.row_key, s.id, s.stamp, s.content_fp, s.logic_fp FROM source_rows AS s "
        "WHERE s.flow = ? AND s.source = ? AND NOT EXISTS "
        "(SELECT 1 FROM temp.listing AS l WHERE l.row_key = s.row_key) "
        "ORDER BY s.row_key",
        (flow, source),
    ).rowcount


def _create_tables(db: sqlite3.Connection) -> None:
    db.execute(
        "CREATE TEMP TABLE IF NOT EXISTS listing("
        "row_key TEXT PRIMARY KEY, stamp TEXT NOT NULL) WITHOUT ROWID"
    )
    db.execute(
        "CREATE TEMP TABLE IF NOT EXISTS gone(seq INTEGER PRIMARY KEY, row_key TEXT NOT NULL, "
        "id INTEGER NOT NULL, stamp TEXT, content_fp BLOB, logic_fp BLOB)"
    )


def _listed_rows(db: sqlite3.Connection, flow: str, source: str) -> Iterator[ChangedRow]:
    """The listed rows in key order, with their tracking as it is when their page is read."""
    after: list[str] = []
    while True:
        since = "l.row_key > ?" if after else "l.row_key >= ''"
        page = db.execute(
            "SELECT l.row_key, l.stamp, s.id, s.stamp, s.content_fp, s.logic_fp "
            "FROM temp.listing AS l LEFT JOIN source_rows AS s "
            "ON s.flow = ? AND s.source = ? AND s.row_key = l.row_key "
            f"WHERE {since} ORDER BY l.row_key LIMIT ?",
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
