"""What an example exported, read back the same way for both engines, and the comparison of
two such snapshots (used by ``compare_v0_examples.py``).

A snapshot maps each exported key (a tuple) to its other columns. Vectors are lists of floats,
compared within a tolerance (the same model on the same text gives the same vector up to float
rounding); every other column must be equal.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

import psycopg

Key = tuple[Any, ...]
Snapshot = dict[Key, dict[str, Any]]

VECTOR_TOLERANCE = 1e-4


def table_snapshot(url: str, table: str, key_columns: list[str]) -> Snapshot:
    """Every row of ``table`` (empty when it does not exist), vectors as float lists."""
    with psycopg.connect(url) as conn:
        exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
        if not exists or not exists[0]:
            return {}
        columns = conn.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            (table,),
        ).fetchall()
        selected = ", ".join(f'"{name}"::text' for name, _ in columns)
        rows = conn.execute(f"SELECT {selected} FROM {table}").fetchall()
    types = {name: kind for name, kind in columns}
    snapshot: Snapshot = {}
    for row in rows:
        record = {
            name: _parse(types[name], text) for (name, _), text in zip(columns, row, strict=True)
        }
        snapshot[tuple(record.pop(name) for name in key_columns)] = record
    return snapshot


def table_layout(url: str, table: str) -> dict[str, list[list[str]]]:
    """Columns (name, type) and index definitions of ``table``."""
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            (table,),
        ).fetchall()
        indexes = conn.execute(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s::regclass "
            "ORDER BY 1",
            (table,),
        ).fetchall()
    return {
        "columns": [[str(c) for c in column] for column in columns],
        "indexes": [[str(i[0]).lower()] for i in indexes],
    }


def _parse(kind: str, text: str | None) -> Any:
    if text is None:
        return None
    if kind.startswith("vector"):
        return [float(x) for x in text.strip("[]").split(",")]
    if kind == "jsonb":
        return json.loads(text)
    return text


def directory_snapshot(directory: str) -> Snapshot:
    """Each file of ``directory`` (keyed by its name) with its text."""
    if not os.path.isdir(directory):
        return {}
    snapshot: Snapshot = {}
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            snapshot[(name,)] = {"text": f.read()}
    return snapshot


@dataclass
class Agreement:
    """How two snapshots of the same export compare."""

    v0_rows: int = 0
    cocotui_rows: int = 0
    common_keys: int = 0
    equal_rows: int = 0
    max_vector_diff: float = 0.0
    differences: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return self.v0_rows == self.cocotui_rows == self.common_keys == self.equal_rows


def compare(v0: Snapshot, ours: Snapshot) -> Agreement:
    agreement = Agreement(v0_rows=len(v0), cocotui_rows=len(ours))
    for key in sorted(v0.keys() - ours.keys(), key=repr)[:5]:
        agreement.differences.append(f"only v0 has {key!r}")
    for key in sorted(ours.keys() - v0.keys(), key=repr)[:5]:
        agreement.differences.append(f"only cocotui has {key!r}")
    for key in v0.keys() & ours.keys():
        agreement.common_keys += 1
        unequal = _unequal_columns(v0[key], ours[key], agreement)
        if unequal:
            if len(agreement.differences) < 10:
                agreement.differences.append(f"{key!r}: {', '.join(unequal)} differ")
        else:
            agreement.equal_rows += 1
    return agreement


def _unequal_columns(
    v0_row: dict[str, Any], our_row: dict[str, Any], agreement: Agreement
) -> list[str]:
    unequal = []
    for name in sorted(v0_row.keys() | our_row.keys()):
        left, right = v0_row.get(name), our_row.get(name)
        if _is_vector(left) and _is_vector(right) and len(left) == len(right):
            diff = max((abs(a - b) for a, b in zip(left, right, strict=True)), default=0.0)
            agreement.max_vector_diff = max(agreement.max_vector_diff, diff)
            if not diff <= VECTOR_TOLERANCE:
                unequal.append(name)
        elif left != right:
            unequal.append(name)
    return unequal


def _is_vector(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(x, float) and math.isfinite(x) for x in value)
