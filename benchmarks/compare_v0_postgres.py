"""Compare the table CocoIndex v0.3.39 creates for a ``targets.Postgres`` export with the one
cocotui creates for the same app and data: name, columns (type, nullability), primary key,
indexes (``pg_get_indexdef``) and rows (as text).

Run each engine on the same app and source files, each against its own database on one
PostgreSQL server with pgvector, then::

    python benchmarks/compare_v0_postgres.py URL_OF_V0_DB URL_OF_COCOTUI_DB TABLE

It prints both layouts and exits 1 when they differ (``benchmarks/README.md`` records a run).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import psycopg


def layout(url: str, table: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            (table,),
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = %s::regclass ORDER BY 1",
            (table,),
        ).fetchall()
        names = ", ".join(f'"{name}"::text' for name, _, _ in columns)
        rows = conn.execute(f"SELECT {names} FROM {table} ORDER BY 1, 2").fetchall()
    return {
        "table": table,
        "columns": [list(c) for c in columns],
        "indexes": [list(i) for i in indexes],
        "rows": [list(r) for r in rows],
    }


def main(argv: list[str]) -> int:
    v0_url, cocotui_url, table = argv
    v0, ours = layout(v0_url, table), layout(cocotui_url, table)
    print(json.dumps({"v0": v0, "cocotui": ours}, indent=1))
    same = v0 == ours
    print("same layout and rows" if same else "DIFFERENT", file=sys.stderr)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
