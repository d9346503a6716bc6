"""A PostgreSQL table's layout as the v0 comparison reads it: columns (name, type, not null),
indexes (name, definition) and rows (as text). One definition for
``benchmarks/compare_v0_postgres.py``, which compared v0's table with cocotui's, and
``test_target_v0_postgres.py``, which asserts the recorded result on every run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql


def table_columns(conn: psycopg.Connection[Any], table: str) -> list[tuple[str, str, bool]]:
    """(name, type, not null) of each column, in table order."""
    return conn.execute(
        "SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        (table,),
    ).fetchall()


def table_layout(
    url: str, table: str, row_columns: Sequence[str] | None = None
) -> dict[str, Any] | None:
    """Columns, indexes (name, definition) and the rows of ``row_columns`` (every column when
    ``None``) as text, sorted; ``None`` without the table."""
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone() == (None,):
            return None
        columns = table_columns(conn, table)
        indexes = conn.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = %s::regclass ORDER BY 1",
            (table,),
        ).fetchall()
        names = row_columns or [name for name, _, _ in columns]
        shown = sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(n)) for n in names)
        query = sql.SQL("SELECT {} FROM {}").format(shown, sql.Identifier(table))
        rows = conn.execute(query).fetchall()
    return {"columns": columns, "indexes": indexes, "rows": sorted(rows)}
