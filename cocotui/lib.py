"""Library-level calls of CocoIndex v0's ``cocoindex.lib`` that do not need its runtime."""

from __future__ import annotations

from typing import Any, NoReturn


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


__all__ = ["ServerNotAvailableError", "ServerSettings", "start_server", "stop"]
