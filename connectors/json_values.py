"""How the first-party connectors that store values as JSON text (SQLite, PostgreSQL ``json``
columns, HTTP bodies) turn the values JSON has no type for into JSON."""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from typing import Any


def json_default(value: Any) -> Any:
    """``json.dumps``'s ``default``: dataclasses as objects, dates and times in ISO 8601, UUIDs
    as strings, sets as sorted lists; anything else is refused."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    raise TypeError(f"a value of type {type(value).__name__} cannot be written as JSON")
