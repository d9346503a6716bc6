"""Serving the UI to browsers with textual-serve (an optional dependency)."""

from __future__ import annotations


def serve(command: str, host: str, port: int) -> bool:
    """Serve ``command`` until interrupted; ``False`` when textual-serve is not installed."""
    try:
        from textual_serve.server import Server
    except ImportError:
        return False
    Server(command, host=host, port=port, title="cocotui").serve()
    return True
