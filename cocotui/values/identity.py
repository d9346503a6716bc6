"""Canonical identities: one stable text per JSON-like value, to compare and key by."""

from __future__ import annotations

import json
import math
from typing import Any

from cocotui.values.toml_tags import TAG, encode


def canonical_json(value: Any) -> str:
    """A stable text identity of a JSON-like value: dict key order does not matter (for
    non-string keys either), tuples and lists stay distinct."""

    def normal(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return {TAG: "float", "repr": repr(v)}
        if isinstance(v, list):
            return [normal(x) for x in v]
        if isinstance(v, dict):
            if v.get(TAG) == "dict":
                items = [[normal(k), normal(x)] for k, x in v["items"]]
                return {TAG: "dict", "items": sorted(items, key=json.dumps)}
            return {k: normal(x) for k, x in v.items()}
        return v

    return json.dumps(normal(encode(value)), sort_keys=True, separators=(",", ":"))
