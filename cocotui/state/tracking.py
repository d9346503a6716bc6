"""Row tracking in SQLite beside the setup state: per source row its version stamp and
fingerprints, and per target the keys each source row produced with a fingerprint of each value.

Keys are written in two steps around ``mutate``: :meth:`stage` records keys that are about to be
sent (value fingerprint unknown), :meth:`commit` records what was applied. A crash in between
leaves staged keys, which the next run treats as "may exist, value unknown": upserted again if
still produced, deleted otherwise. Nothing sent to a target is ever forgotten.

A key's value fingerprint says what is known of it: ``NULL`` while it is only staged (no
``mutate`` is known to have delivered it), :data:`RESEND` once delivered but its value must be
sent again (a setup change invalidated it, or another row takes it over), else the fingerprint
of the value delivered. Counters tell inserts from updates by it.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from cocotui.state.errors import StateError, TrackingError, database_error, state_access_error
from cocotui.state.listing_pages import every_listed_row
from cocotui.state.paths import make_state_dir
from cocotui.state.row_writes import commit_rows, stage_keys
from cocotui.state.sql_in import select_in
from cocotui.state.tracked_rows import RESEND as RESEND
from cocotui.state.tracked_rows import ListingDiff
from cocotui.state.tracked_rows import RowCommit as RowCommit
from cocotui.state.tracked_rows import StagedRow as StagedRow
from cocotui.state.tracked_rows import TrackedKey as TrackedKey
from cocotui.state.tracked_rows import TrackedRow as TrackedRow
from cocotui.values.identity import canonical_json

SCHEMA_VERSION = 1


def target_identity_text(identity: tuple[str, str, str]) -> str:
    return canonical_json(list(identity))


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS targets(
    id INTEGER PRIMARY KEY,
    identity TEXT UNIQUE NOT NULL,
    generation INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS source_rows(
    id INTEGER PRIMARY KEY,
    flow TEXT NOT NULL, source TEXT NOT NULL, row_key TEXT NOT NULL,
    stamp TEXT, content_fp BLOB, logic_fp BLOB,
    UNIQUE(flow, source, row_key));
CREATE TABLE IF NOT EXISTS target_keys(
    target_id INTEGER NOT NULL, key TEXT NOT NULL, row_id INTEGER NOT NULL,
    key_parts BLOB NOT NULL, value_fp BLOB,
    PRIMARY KEY(target_id, key, row_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS target_keys_by_row ON target_keys(row_id);
"""


class SqliteTracking:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None

    # -- connection ---------------------------------------------------------------------------

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = self._open()
        return self._db

    def _open(self) -> sqlite3.Connection:
        make_state_dir(self.path.parent)
        if self.path.is_symlink():
            raise StateError(
                f"tracking database {self.path} is a symbolic link; cocotui refuses to follow "
                f"it. Remove it if you did not put it there on purpose"
            )
        try:
            # O_EXCL: create it private, or leave an existing one alone
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
        except OSError as exc:
            raise state_access_error(exc, self.path, "create tracking database") from None
        try:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA busy_timeout = 2000")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.executescript(_SCHEMA)
            row = db.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif row[0] != str(SCHEMA_VERSION):
                raise TrackingError(
                    f"tracking database {self.path} has schema version {row[0]}; this cocotui "
                    f"reads version {SCHEMA_VERSION}"
                )
        except sqlite3.DatabaseError as exc:
            environment = database_error(exc, self.path, "open tracking database")
            if environment is not None:
                raise environment from None
            raise TrackingError(
                f"tracking database {self.path} is unusable ({exc}); it is left as it is. "
                f"Move it away to start tracking afresh (every row is then exported again)"
            ) from None
        return db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; a write the environment refuses (disk full, read-only)
        becomes a :class:`StateError` naming the file."""
        db = self.db
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise self._write_error(exc) from None
        try:
            yield db
            db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            self._rollback(db)
            raise self._write_error(exc) from None
        except BaseException:
            self._rollback(db)
            raise

    @staticmethod
    def _rollback(db: sqlite3.Connection) -> None:
        # SQLite may have rolled back already (it does on a full disk)
        if db.in_transaction:
            with suppress(sqlite3.DatabaseError):
                db.execute("ROLLBACK")

    def _write_error(self, exc: sqlite3.DatabaseError) -> Exception:
        environment = database_error(exc, self.path, "write tracking database")
        return environment or TrackingError(f"tracking database {self.path}: {exc}")

    # -- targets ------------------------------------------------------------------------------

    def target_generations(
        self, identities: Sequence[tuple[str, str, str]]
    ) -> list[tuple[int, int]]:
        """(id, generation) per target, registering unknown targets."""
        result = []
        with self.transaction() as db:
            for identity in identities:
                text = target_identity_text(identity)
                db.execute("INSERT OR IGNORE INTO targets(identity) VALUES (?)", (text,))
                row = db.execute(
                    "SELECT id, generation FROM targets WHERE identity = ?", (text,)
                ).fetchone()
                result.append((row[0], row[1]))
        return result

    def rename_targets(
        self, renames: Sequence[tuple[tuple[str, str, str], tuple[str, str, str]]]
    ) -> None:
        """Move the rows tracked under each old identity to its new one (a stored persistent
        key read in today's form). A new identity tracking already knows keeps its own rows."""
        with self.transaction() as db:
            for old, new in renames:
                db.execute(
                    "UPDATE OR IGNORE targets SET identity = ? WHERE identity = ?",
                    (target_identity_text(new), target_identity_text(old)),
                )

    def _bump(self, db: sqlite3.Connection, identity: tuple[str, str, str]) -> int | None:
        text = target_identity_text(identity)
        db.execute("INSERT OR IGNORE INTO targets(identity) VALUES (?)", (text,))
        db.execute("UPDATE targets SET generation = generation + 1 WHERE identity = ?", (text,))
        row = db.execute("SELECT id FROM targets WHERE identity = ?", (text,)).fetchone()
        return int(row[0]) if row else None

    def reset_target(self, identity: tuple[str, str, str]) -> None:
        """Forget every key of the target: the next update sends every row as new. The
        generation is bumped (never reset) so that source rows are evaluated again."""
        with self.transaction() as db:
            target_id = self._bump(db, identity)
            db.execute("DELETE FROM target_keys WHERE target_id = ?", (target_id,))

    def invalidate_values(self, identity: tuple[str, str, str]) -> None:
        """Keep the keys but forget their values (:data:`RESEND`): the next update upserts
        every row again.
        A target tracking has never heard of is left unregistered: its tracking was lost, and
        the next update, which registers it, says so (see :meth:`unknown_targets`)."""
        with self.transaction() as db:
            known = db.execute(
                "SELECT 1 FROM targets WHERE identity = ?", (target_identity_text(identity),)
            ).fetchone()
            if known is None:
                return
            target_id = self._bump(db, identity)
            db.execute(
                "UPDATE target_keys SET value_fp = ? WHERE target_id = ? AND value_fp IS NOT NULL",
                (RESEND, target_id),
            )

    def forget_flow_rows(self, flow: str) -> None:
        """Drop the source rows of a flow none of whose targets remain."""
        with self.transaction() as db:
            db.execute(
                "DELETE FROM target_keys WHERE row_id IN "
                "(SELECT id FROM source_rows WHERE flow = ?)",
                (flow,),
            )
            db.execute("DELETE FROM source_rows WHERE flow = ?", (flow,))

    def key_count(self, identity: tuple[str, str, str]) -> int:
        row = self.db.execute(
            "SELECT COUNT(DISTINCT key) FROM target_keys JOIN targets ON targets.id = target_id "
            "WHERE identity = ?",
            (target_identity_text(identity),),
        ).fetchone()
        return int(row[0])

    def keys_held(self, identity: tuple[str, str, str]) -> int:
        """Like :meth:`key_count`, without creating the database when there is none."""
        if self._db is None and not self.path.exists():
            return 0
        return self.key_count(identity)

    def unknown_targets(
        self, identities: Sequence[tuple[str, str, str]]
    ) -> list[tuple[str, str, str]]:
        """The targets row tracking has never heard of. Applying a create registers its target,
        so an applied target missing here means the database was removed or replaced."""
        return [
            identity
            for identity in identities
            if self.db.execute(
                "SELECT 1 FROM targets WHERE identity = ?", (target_identity_text(identity),)
            ).fetchone()
            is None
        ]

    # -- source rows --------------------------------------------------------------------------

    def source_rows(self, flow: str, source: str) -> dict[str, TrackedRow]:
        rows = self.db.execute(
            "SELECT row_key, id, stamp, content_fp, logic_fp FROM source_rows "
            "WHERE flow = ? AND source = ?",
            (flow, source),
        )
        return {r[0]: TrackedRow(r[1], r[2], r[3], r[4]) for r in rows}

    def source_stamps(
        self, flow: str, source: str, after: str | None, limit: int
    ) -> list[tuple[str, str | None, bytes | None]]:
        """(row key, stamp, logic fingerprint) of up to ``limit`` rows of a source, in key
        order, from the first key after ``after`` (``None``: from the start): a large source's
        stamps read a slice at a time (the live re-list)."""
        since = "row_key >= ''" if after is None else "row_key > ?"
        return self.db.execute(
            "SELECT row_key, stamp, logic_fp FROM source_rows WHERE flow = ? AND source = ? "
            f"AND {since} ORDER BY row_key LIMIT ?",
            (flow, source, *([] if after is None else [after]), limit),
        ).fetchall()

    def tracked_stamps(self, flow: str, source: str, logic_fp: bytes) -> dict[str, str | None]:
        """Row key -> stamp of every tracked row of a source, to compare a full listing with:
        the stamp is ``None`` for a row tracked with other logic than ``logic_fp`` (it must be
        evaluated again, whatever its stamp)."""
        return dict(
            self.db.execute(
                "SELECT row_key, CASE WHEN logic_fp = ? THEN stamp END FROM source_rows "
                "WHERE flow = ? AND source = ?",
                (logic_fp, flow, source),
            )
        )

    def has_rows(self, flow: str, source: str) -> bool:
        """Whether tracking holds a row of the source."""
        query = "SELECT EXISTS (SELECT 1 FROM source_rows WHERE flow = ? AND source = ?)"
        return bool(self.db.execute(query, (flow, source)).fetchone()[0])

    def every_listed_row(
        self, flow: str, source: str, listing: Iterable[tuple[str, str]]
    ) -> ListingDiff:
        """Every row of a full listing (key, stamp) to work on, with the tracked rows no
        longer listed, read a page at a time (see
        :func:`~cocotui.state.listing_pages.every_listed_row`)."""
        return every_listed_row(self.db, flow, source, listing)

    def source_rows_for(self, flow: str, source: str, keys: Iterable[str]) -> dict[str, TrackedRow]:
        """Like :meth:`source_rows`, for the given row keys only."""
        rows = select_in(
            self.db,
            "SELECT row_key, id, stamp, content_fp, logic_fp FROM source_rows "
            "WHERE flow = ? AND source = ? AND row_key IN ({marks})",
            (flow, source),
            keys,
        )
        return {r[0]: TrackedRow(r[1], r[2], r[3], r[4]) for r in rows}

    def row_keys_under(self, flow: str, source: str, prefix: str) -> list[str]:
        """Tracked row keys that start with ``prefix`` (e.g. the files of a directory that
        was removed or moved away: ``"dir/"``), in key order."""
        if not prefix:
            return sorted(self.source_rows(flow, source))
        # Keys in [prefix, prefix with its last character incremented): an index range scan.
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return [
            r[0]
            for r in self.db.execute(
                "SELECT row_key FROM source_rows WHERE flow = ? AND source = ? "
                "AND row_key >= ? AND row_key < ? ORDER BY row_key",
                (flow, source, prefix, end),
            )
        ]

    def keys_of_rows(self, row_ids: Iterable[int]) -> dict[int, list[TrackedKey]]:
        result: dict[int, list[TrackedKey]] = {}
        for row_id, target_id, key, parts, fp in select_in(
            self.db,
            "SELECT row_id, target_id, key, key_parts, value_fp FROM target_keys "
            "WHERE row_id IN ({marks})",
            (),
            row_ids,
        ):
            result.setdefault(row_id, []).append(TrackedKey(target_id, key, parts, fp))
        return result

    def produced_elsewhere(
        self, target_id: int, keys: Iterable[str], row_ids: set[int]
    ) -> set[str]:
        """Those of ``keys`` that a source row other than ``row_ids`` still produces."""
        return {
            key
            for key, row_id in select_in(
                self.db,
                "SELECT key, row_id FROM target_keys WHERE target_id = ? AND key IN ({marks})",
                (target_id,),
                keys,
            )
            if row_id not in row_ids
        }

    def forget_produced_value(
        self, target_id: int, key: str, exclude_row_ids: set[int]
    ) -> list[tuple[str, str, str]]:
        """For every other row producing ``key``: forget the value it sent and its logic
        fingerprint, so that evaluating it again upserts the key. Returns those rows as
        (flow, source, row key)."""
        with self.transaction() as db:
            rows = [
                (row_id, flow, source, row_key)
                for row_id, flow, source, row_key in db.execute(
                    "SELECT s.id, s.flow, s.source, s.row_key FROM target_keys AS k "
                    "JOIN source_rows AS s ON s.id = k.row_id "
                    "WHERE k.target_id = ? AND k.key = ?",
                    (target_id, key),
                )
                if row_id not in exclude_row_ids
            ]
            for row_id, *_ in rows:
                db.execute(
                    "UPDATE target_keys SET value_fp = ? "
                    "WHERE target_id = ? AND key = ? AND row_id = ? AND value_fp IS NOT NULL",
                    (RESEND, target_id, key, row_id),
                )
                db.execute("UPDATE source_rows SET logic_fp = NULL WHERE id = ?", (row_id,))
        return [(flow, source, row_key) for _, flow, source, row_key in rows]

    def stage(self, flow: str, source: str, staged: Sequence[StagedRow]) -> dict[str, int]:
        """Before ``mutate``: record keys about to be upserted (value unknown). Rows not
        tracked yet are registered; their ids are returned by row key."""
        with self.transaction() as db:
            return stage_keys(db, flow, source, staged)

    def commit(self, flow: str, source: str, commits: Sequence[RowCommit]) -> None:
        """After ``mutate`` returned: record what changed in each row's keys, and its new
        stamp and fingerprints."""
        with self.transaction() as db:
            commit_rows(db, flow, source, commits)

    def touch(self, flow: str, source: str, stamps: Sequence[tuple[str, str]]) -> None:
        """Rows whose content did not change: record their new stamps only."""
        with self.transaction() as db:
            db.executemany(
                "UPDATE source_rows SET stamp = ? WHERE flow = ? AND source = ? AND row_key = ?",
                [(stamp, flow, source, key) for key, stamp in stamps],
            )
