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
from pathlib import Path
from typing import Any

# The layout is read as the test that asserts v0's recorded one reads it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from postgres_layout import table_layout


def layout(url: str, table: str) -> dict[str, Any]:
    found = table_layout(url, table)
    if found is None:
        raise SystemExit(f"no table {table} in one of the databases")
    return {"table": table, **found}


def main(argv: list[str]) -> int:
    v0_url, cocotui_url, table = argv
    v0, ours = layout(v0_url, table), layout(cocotui_url, table)
    print(json.dumps({"v0": v0, "cocotui": ours}, indent=1))
    same = v0 == ours
    print("same layout and rows" if same else "DIFFERENT", file=sys.stderr)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
