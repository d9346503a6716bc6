"""The child side of :class:`~cocotui.testing.AppRunner`: ``python -m cocotui.testing ARGS``."""

from __future__ import annotations

from collections.abc import Sequence

from cocotui.testing.recording import install_from_env


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m cocotui.testing ARGS``: ``cocotui ARGS`` with connectors instrumented as the
    ``COCOTUI_TESTING_*`` variables ask."""
    install_from_env()
    from cocotui.cli.main import main as cli_main

    return cli_main(argv)
