"""Queries over a list of values of any length: ``... IN (?, ?, ...)`` run a slice at a time,
since SQLite bounds the number of parameters one statement may bind."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

#: Values bound in one ``IN (...)``.
SLICE = 500


def select_in(
    db: sqlite3.Connection, query: str, params: Sequence[Any], values: Iterable[Any]
) -> Iterator[Any]:
    """The rows of ``query`` for every value of ``values``: ``query`` ends with ``IN ({marks})``
    and binds ``params`` before the values (a slice of them per statement)."""
    wanted = list(values)
    for start in range(0, len(wanted), SLICE):
        chunk = wanted[start : start + SLICE]
        yield from db.execute(query.format(marks=",".join("?" * len(chunk))), [*params, *chunk])
