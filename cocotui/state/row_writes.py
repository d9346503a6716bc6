"""The writes of a batch of source rows into row tracking (:mod:`cocotui.state.tracking`): the
keys staged before ``mutate``, and each row's commit after it. Every function runs inside the
caller's write transaction, and each step is one statement over the batch's rows (rows touch
only their own keys, so their order does not matter).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from cocotui.state.sql_in import select_in
from cocotui.state.tracked_rows import RowCommit, StagedRow


def _blob(data: bytes | None) -> bytearray | None:
    """``data`` as sqlite3 binds it fastest: it binds a ``bytearray`` as a BLOB at once, but
    looks for an adapter for every ``bytes`` parameter (two attribute look-ups that raise and
    catch AttributeError, more than the rest of binding it: a batch binds several per row).
    Stored and read back the same (a BLOB, read as ``bytes``)."""
    return None if data is None else bytearray(data)


def register_rows(
    db: sqlite3.Connection, flow: str, source: str, row_keys: Sequence[str]
) -> dict[str, int]:
    """Ids for source rows not tracked yet. They are given here, as SQLite would (the
    largest id plus one: the write transaction holds the database), so that no statement has
    to read them back; a row tracked after all (not while the state lock is held) keeps its
    id, read back then."""
    if not row_keys:
        return {}
    (top,) = db.execute("SELECT COALESCE(MAX(id), 0) FROM source_rows").fetchone()
    ids = {key: top + number for number, key in enumerate(row_keys, 1)}
    before = db.total_changes
    db.executemany(
        "INSERT INTO source_rows(id, flow, source, row_key) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(flow, source, row_key) DO NOTHING",
        [(row_id, flow, source, key) for key, row_id in ids.items()],
    )
    if db.total_changes - before != len(ids):
        query = (
            "SELECT row_key, id FROM source_rows "
            "WHERE flow = ? AND source = ? AND row_key IN ({marks})"
        )
        ids.update(select_in(db, query, (flow, source), row_keys))
    return ids


def stage_keys(
    db: sqlite3.Connection, flow: str, source: str, staged: Sequence[StagedRow]
) -> dict[str, int]:
    """Record keys about to be upserted (value unknown), registering the rows not tracked
    yet; returns the ids given to those, by row key."""
    ids = register_rows(db, flow, source, [s.row_key for s in staged if s.row_id is None])
    db.executemany(
        "INSERT OR IGNORE INTO target_keys(target_id, key, row_id, key_parts) VALUES (?, ?, ?, ?)",
        [
            (target_id, key, ids[s.row_key] if s.row_id is None else s.row_id, _blob(parts))
            for s in staged
            for target_id, keys in s.keys.items()
            for key, parts in keys.items()
        ],
    )
    return ids


def commit_rows(
    db: sqlite3.Connection, flow: str, source: str, commits: Sequence[RowCommit]
) -> None:
    """Record what changed in each row's keys, then its new stamp and fingerprints; a row
    gone from the source is forgotten once none of its keys is left (a key whose deletion
    failed stays tracked, and its row with it)."""
    new = register_rows(db, flow, source, [c.row_key for c in commits if c.row_id is None])
    rows = [(c, new[c.row_key] if c.row_id is None else c.row_id) for c in commits]
    db.executemany(
        "DELETE FROM target_keys WHERE target_id = ? AND key = ? AND row_id = ?",
        [
            (target_id, key, row_id)
            for c, row_id in rows
            for target_id, keys in c.dropped.items()
            for key in keys
        ],
    )
    _record_keys(
        db,
        [
            (_blob(parts), _blob(fp), target_id, key, row_id)
            for c, row_id in rows
            for target_id, keys in c.recorded.items()
            for key, (parts, fp) in keys.items()
        ],
    )
    db.executemany(
        "DELETE FROM source_rows WHERE id = ? AND NOT EXISTS "
        "(SELECT 1 FROM target_keys WHERE row_id = ?)",
        [(row_id, row_id) for c, row_id in rows if c.stamp is None],
    )
    db.executemany(
        "UPDATE source_rows SET stamp = ?, content_fp = ?, logic_fp = ? WHERE id = ?",
        [(c.stamp, _blob(c.content_fp), _blob(c.logic_fp), row_id) for c, row_id in rows],
    )


def _record_keys(db: sqlite3.Connection, keys: list[tuple[object, ...]]) -> None:
    """Write (key parts, value fingerprint, target id, key, row id) of keys tracking holds:
    every key recorded at commit is tracked already (the row's own, or staged before
    ``mutate``), so it is updated in place (a replace also rewrites the index by row). Should
    one be missing all the same, they are all written in full: none is left untracked."""
    before = db.total_changes
    db.executemany(
        "UPDATE target_keys SET key_parts = ?, value_fp = ? "
        "WHERE target_id = ? AND key = ? AND row_id = ?",
        keys,
    )
    if db.total_changes - before != len(keys):
        db.executemany(
            "INSERT OR REPLACE INTO target_keys(key_parts, value_fp, target_id, key, row_id) "
            "VALUES (?, ?, ?, ?, ?)",
            keys,
        )
