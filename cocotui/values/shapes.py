"""What the engine can carry: the error naming a value it cannot, and the fields of a struct
value (a dataclass instance or NamedTuple)."""

from __future__ import annotations

import dataclasses
from typing import Any


class ValueShapeError(ValueError):
    """A spec, key, state or annotation that the engine cannot carry, naming the culprit."""


def struct_fields(obj: Any) -> dict[str, Any] | None:
    """The fields of a dataclass instance or NamedTuple, in order, else ``None``."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return dict(zip(obj._fields, obj, strict=True))
    return None
