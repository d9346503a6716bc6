"""Serving the UI to browsers with textual-serve (an optional dependency)."""

from __future__ import annotations


def serve(command: str, host: str, port: int) -> bool:
    """Serve ``command`` until interrupted; ``False`` when textual-serve is not installed."""
    try:
        from cocotui.tui.web_sessions import SessionServer
    except ImportError:
        return False
    SessionServer(command, host=host, port=port, title="cocotui").serve()
    return True
