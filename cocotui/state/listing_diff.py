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
    temporary table, the keys of the rows that need work (all of them with ``everything``) and
    the tracked rows no longer listed are copied aside, and both are read back a page at a
    time as the pass works on them, so that memory does not grow with the source (at a first
    update every row needs work). Which rows need work is fixed here; their tracking is read
    with each page. The rows must be read before the next listing is."""
    _create_tables(db)
    db.execute("BEGIN")
    try:
        for table in ("listing", "changed", "gone"):
            db.execute(f"DELETE FROM temp.{table}")
        db.executemany("INSERT OR REPLACE INTO temp.listing(row_key, stamp) VALUES (?, ?)", listing)
        # Every listed row needs work (a re-export, or the source's first update): the
        # listing is read back as it is, instead of a copy of all its keys.
        every_row = everything or _untracked(db, flow, source)
        changed = 0 if every_row else _copy_changed_keys(db, flow, source, logic_fp)
        gone = _copy_gone_rows(db, flow, source)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    (listed,) = db.execute("SELECT COUNT(*) FROM temp.listing").fetchone()
    to_process = listed if every_row else changed
    keys = "listing" if every_row else "changed"
    changed_rows = _changed_rows(db, flow, source, keys) if to_process else iter(())
    gone_rows = _gone_rows(db) if gone else iter(())
    return ListingDiff(listed, to_process, gone, changed_rows, gone_rows)


def _untracked(db: sqlite3.Connection, flow: str, source: str) -> bool:
    """Whether tracking holds no row of the source."""
    query = "SELECT NOT EXISTS (SELECT 1 FROM source_rows WHERE flow = ? AND source = ?)"
    return bool(db.execute(query, (flow, source)).fetchone()[0])


def _copy_changed_keys(db: sqlite3.Connection, flow: str, source: str, logic_fp: bytes) -> int:
    """Copy the keys of the listed rows that are new or changed to ``temp.changed``; return
    how many. In key order, as tracking's index is: its pages are read one after the other."""
    return db.execute(
        "INSERT INTO temp.changed(row_key) SELECT l.row_key FROM temp.listing AS l "
        "LEFT JOIN source_rows AS s ON s.flow = ? AND s.source = ? AND s.row_key = l.row_key "
        "WHERE s.id IS NULL OR s.stamp IS NOT l.stamp OR s.logic_fp IS NOT ? "
        "ORDER BY l.row_key",
        (flow, source, logic_fp),
    ).rowcount


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
    db.execute("CREATE TEMP TABLE IF NOT EXISTS changed(row_key TEXT PRIMARY KEY) WITHOUT ROWID")
    db.execute(
        "CREATE TEMP TABLE IF NOT EXISTS gone(seq INTEGER PRIMARY KEY, row_key TEXT NOT NULL, "
        "id INTEGER NOT NULL, stamp TEXT, content_fp BLOB, logic_fp BLOB)"
    )


def _changed_rows(
    db: sqlite3.Connection, flow: str, source: str, keys: str
) -> Iterator[ChangedRow]:
    """The listed rows whose key is in the temporary table ``keys`` (``changed``, or
    ``listing`` when every row needs work), in key order, with their tracking as it is when
    their page is read."""
    after: list[str] = []
    while True:
        since = "c.row_key > ?" if after else "c.row_key >= ''"
        page = db.execute(
            "SELECT c.row_key, l.stamp, s.id, s.stamp, s.content_fp, s.logic_fp "
            f"FROM temp.{keys} AS c JOIN temp.listing AS l ON l.row_key = c.row_key "
            "LEFT JOIN source_rows AS s "
            "ON s.flow = ? AND s.source = ? AND s.row_key = c.row_key "
            f"WHERE {since} ORDER BY c.row_key LIMIT ?",
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
