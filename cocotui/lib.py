"""Library-level calls of CocoIndex v0's ``cocoindex.lib``: ``init()``, the ``@settings``
hook, and the server calls cocotui does not have (they raise, saying what to use instead)."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable
from typing import Any, NoReturn

from cocotui.setting import Settings

SettingsFunction = Callable[[], Settings]
_settings_fn: SettingsFunction | None = None
#: The settings of the last ``init()``.
current: Settings | None = None


def settings(fn: SettingsFunction | None = None) -> Any:
    """Register ``fn`` as the provider of the settings ``init()`` uses when given none; as
    ``@settings`` or ``@settings()``."""

    def register(fn: SettingsFunction) -> SettingsFunction:
        global _settings_fn
        if _settings_fn is not None:
            warnings.warn(
                f"a new settings function replaces the previous one {_settings_fn}", stacklevel=3
            )
        _settings_fn = fn
        return fn

    return register if fn is None else register(fn)


def init(settings: Settings | None = None) -> None:
    """Initialise the library: ``settings``, else the ``@settings`` function's, else the
    environment's. cocotui keeps its state in its own files, so a database (v0's state store)
    is accepted and ignored, with a one-line notice."""
    global current
    chosen = settings or (_settings_fn() if _settings_fn is not None else Settings.from_env())
    if chosen.database is not None:
        print(
            "cocotui: the database settings are ignored: cocotui keeps flow state in its own "
            "state directory (see `cocotui ls APP`)",
            file=sys.stderr,
        )
    if chosen.app_namespace:
        os.environ["COCOINDEX_APP_NAMESPACE"] = chosen.app_namespace  # worker processes too
    current = chosen


class ServerNotAvailableError(RuntimeError):
    """v0's HTTP server (for CocoInsight) is not part of cocotui."""


_SERVER_HELP = (
    "cocotui has no CocoIndex server (CocoInsight's API); run `cocotui APP` for the terminal "
    "UI, `cocotui serve APP` for it in a browser, or `cocotui ls|plan|update APP` headless"
)


def start_server(settings: Any = None) -> NoReturn:
    """v0 starts its HTTP server here: cocotui raises, saying what to use instead."""
    raise ServerNotAvailableError(f"cocoindex.start_server(): {_SERVER_HELP}")


class ServerSettings:
    """v0's server settings: cocotui raises, saying what to use instead."""

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        raise ServerNotAvailableError(f"cocoindex.ServerSettings: {_SERVER_HELP}")


def stop() -> None:
    """v0 shuts its engine runtime down here; cocotui keeps no runtime to stop."""


__all__ = [
    "ServerNotAvailableError",
    "ServerSettings",
    "init",
    "settings",
    "start_server",
    "stop",
]
