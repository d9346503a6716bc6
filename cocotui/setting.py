"""Settings, as CocoIndex v0's ``cocoindex.setting``. So far only the app namespace, which v0
reads from ``COCOINDEX_APP_NAMESPACE`` (empty by default)."""

from __future__ import annotations

import os


def get_app_namespace(*, trailing_delimiter: str | None = None) -> str:
    """The app namespace, followed by ``trailing_delimiter`` when both are non-empty."""
    namespace = os.environ.get("COCOINDEX_APP_NAMESPACE", "")
    if not namespace or trailing_delimiter is None:
        return namespace
    return f"{namespace}{trailing_delimiter}"


__all__ = ["get_app_namespace"]
