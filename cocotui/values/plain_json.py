"""JSON-like values as plain JSON, for ``--json`` output."""

from __future__ import annotations

import json
from typing import Any


def to_plain_json(value: Any) -> Any:
    """A JSON-like value as plain JSON (tuples become lists, non-string keys their JSON text)."""
    if isinstance(value, list | tuple):
        return [to_plain_json(v) for v in value]
    if isinstance(value, dict):
        return {
            (k if isinstance(k, str) else json.dumps(to_plain_json(k))): to_plain_json(v)
            for k, v in value.items()
        }
    return value
