"""Settings, as CocoIndex v0's ``cocoindex.setting``: the dataclasses ``cocoindex.init()`` and
the ``@cocoindex.settings`` hook take, read from the same environment variables as v0.

cocotui keeps its state in files (see ``cocotui ls``), so the settings that configure v0's
PostgreSQL state (``database``, ``db_schema_name``) are accepted and ignored, with a notice
(:func:`cocotui.lib.init`)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any


def get_app_namespace(*, trailing_delimiter: str | None = None) -> str:
    """The app namespace, followed by ``trailing_delimiter`` when both are non-empty."""
    namespace = os.environ.get("COCOINDEX_APP_NAMESPACE", "")
    if not namespace or trailing_delimiter is None:
        return namespace
    return f"{namespace}{trailing_delimiter}"


@dataclasses.dataclass
class DatabaseConnectionSpec:
    """A relational database connection (v0 keeps its state in one; cocotui does not)."""

    url: str
    user: str | None = None
    password: str | None = None
    max_connections: int = 25
    min_connections: int = 5


@dataclasses.dataclass
class GlobalExecutionOptions:
    """v0's bounds on rows in flight across all sources (cocotui bounds its own work by
    ``--workers`` and batch sizes: accepted, not used)."""

    source_max_inflight_rows: int | None = 1024
    source_max_inflight_bytes: int | None = None


def _env(name: str, parse: Callable[[str], Any] = str) -> Any:
    """The variable parsed, ``None`` when unset; a value that does not parse names it."""
    text = os.environ.get(name)
    if text is None:
        return None
    try:
        return parse(text)
    except ValueError as exc:
        raise ValueError(f"environment variable {name}={text!r} is not valid: {exc}") from None


def _present(**values: Any) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


@dataclasses.dataclass
class Settings:
    """Settings of the library, as v0's."""

    ignore_target_drop_failures: bool = False
    database: DatabaseConnectionSpec | None = None
    db_schema_name: str | None = None
    app_namespace: str = ""
    global_execution_options: GlobalExecutionOptions | None = None

    @classmethod
    def from_env(cls) -> Settings:
        """The settings v0 reads from its ``COCOINDEX_*`` environment variables."""
        url = _env("COCOINDEX_DATABASE_URL")
        database = None
        if url is not None:
            database = DatabaseConnectionSpec(
                url,
                **_present(
                    user=_env("COCOINDEX_DATABASE_USER"),
                    password=_env("COCOINDEX_DATABASE_PASSWORD"),
                    max_connections=_env("COCOINDEX_DATABASE_MAX_CONNECTIONS", int),
                    min_connections=_env("COCOINDEX_DATABASE_MIN_CONNECTIONS", int),
                ),
            )
        options = GlobalExecutionOptions(
            **_present(
                source_max_inflight_rows=_env("COCOINDEX_SOURCE_MAX_INFLIGHT_ROWS", int),
                source_max_inflight_bytes=_env("COCOINDEX_SOURCE_MAX_INFLIGHT_BYTES", int),
            )
        )
        ignore_drop = _env("COCOINDEX_IGNORE_TARGET_DROP_FAILURES", lambda v: v.lower() == "true")
        return cls(
            ignore_target_drop_failures=bool(ignore_drop),
            database=database,
            db_schema_name=_env("COCOINDEX_DATABASE_SCHEMA_NAME"),
            app_namespace=os.environ.get("COCOINDEX_APP_NAMESPACE", ""),
            global_execution_options=options,
        )


__all__ = [
    "DatabaseConnectionSpec",
    "GlobalExecutionOptions",
    "Settings",
    "get_app_namespace",
]
