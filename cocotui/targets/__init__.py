"""Built-in targets, as CocoIndex v0's ``cocoindex.targets`` (also reachable under its old name
``cocoindex.storages``). Each is a first-party connector package, imported on first use."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_NAMES = {
    "Postgres": "connectors.v0_postgres",
    "PostgresColumnOptions": "connectors.v0_postgres",
}


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_NAMES[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_NAMES])


if TYPE_CHECKING:
    from connectors.v0_postgres import Postgres, PostgresColumnOptions

__all__ = ["Postgres", "PostgresColumnOptions"]
