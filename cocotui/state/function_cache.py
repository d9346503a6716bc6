"""Cached function results per source row (see :mod:`cocotui.engine.call_cache`), in a table of
the tracking database: one blob per row, replaced each time the row is evaluated and deleted
with the row, so the table never holds more than the latest evaluation of each row needs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cocotui.state.sql_in import select_in
from cocotui.state.tracking import SqliteTracking

_SCHEMA = """
CREATE TABLE IF NOT EXISTS function_cache(
    flow TEXT NOT NULL, source TEXT NOT NULL, row_key TEXT NOT NULL, entries BLOB NOT NULL,
    PRIMARY KEY(flow, source, row_key)) WITHOUT ROWID;
"""


class FunctionCacheStore:
    def __init__(self, tracking: SqliteTracking) -> None:
        self.tracking = tracking
        self._ready = False

    def _db_ready(self) -> None:
        if not self._ready:
            self.tracking.db.executescript(_SCHEMA)
            self._ready = True

    def holds_entries(self, flow: str) -> bool:
        """Whether rows of ``flow`` have cached results (to be replaced or deleted)."""
        self._db_ready()
        row = self.tracking.db.execute(
            "SELECT 1 FROM function_cache WHERE flow = ? LIMIT 1", (flow,)
        ).fetchone()
        return row is not None

    def load(self, flow: str, source: str, row_keys: Iterable[str]) -> dict[str, bytes]:
        """The cached entries of the given rows (rows without any are left out)."""
        self._db_ready()
        return dict(
            select_in(
                self.tracking.db,
                "SELECT row_key, entries FROM function_cache "
                "WHERE flow = ? AND source = ? AND row_key IN ({marks})",
                (flow, source),
                row_keys,
            )
        )

    def save(self, flow: str, source: str, entries: Mapping[str, bytes | None]) -> None:
        """Replace the rows' entries (``None``: the row keeps nothing)."""
        self._db_ready()
        with self.tracking.transaction() as db:
            db.executemany(
                "DELETE FROM function_cache WHERE flow = ? AND source = ? AND row_key = ?",
                [(flow, source, key) for key, blob in entries.items() if blob is None],
            )
            db.executemany(
                "INSERT OR REPLACE INTO function_cache(flow, source, row_key, entries) "
                "VALUES (?, ?, ?, ?)",
                [(flow, source, key, blob) for key, blob in entries.items() if blob is not None],
            )

    def forget_flow(self, flow: str) -> None:
        """Drop the cached results of a flow none of whose targets remain (as its rows are)."""
        self._db_ready()
        with self.tracking.transaction() as db:
            db.execute("DELETE FROM function_cache WHERE flow = ?", (flow,))
