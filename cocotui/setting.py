"""Settings, as CocoIndex v0's ``cocoindex.setting``: the database connection spec targets take
through the auth registry, and the app namespace read from ``COCOINDEX_APP_NAMESPACE``."""

from __future__ import annotations

import dataclasses
import os


@dataclasses.dataclass
class DatabaseConnectionSpec:
    """How to reach a relational database: a URL, with ``user`` and ``password`` overriding the
    URL's own when given. (``max_connections``/``min_connections`` are accepted as v0 accepts
    them; cocotui opens one connection per URL.)"""

    url: str
    user: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)
    max_connections: int = 25
    min_connections: int = 5


APP_NAMESPACE_ENV = "COCOINDEX_APP_NAMESPACE"


def get_app_namespace(*, trailing_delimiter: str | None = None) -> str:
    """The app namespace (``COCOINDEX_APP_NAMESPACE``, empty by default), followed by
    ``trailing_delimiter`` when both are non-empty."""
    namespace = os.environ.get(APP_NAMESPACE_ENV, "")
    if not namespace or trailing_delimiter is None:
        return namespace
    return f"{namespace}{trailing_delimiter}"


__all__ = ["DatabaseConnectionSpec", "get_app_namespace"]
