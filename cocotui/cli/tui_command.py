"""``cocotui [APP]`` / ``cocotui tui [APP]``: the terminal UI (the bundled demo without APP)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

DEMO_APP = "cocotui.demo.app"

CommandFactory = Callable[[str, str, str], argparse.ArgumentParser]


def add_parser(command: CommandFactory) -> None:
    from cocotui.cli.main import _add_app

    tui = command(
        "tui",
        "Open the terminal UI on APP (the bundled demo app when APP is omitted).",
        """
        `cocotui APP` is the same as `cocotui tui APP`.
        examples:
          cocotui                       the demo: markdown guides rendered to HTML files
          cocotui app.py --read-only    look, but never apply, drop or update
        """,
    )
    _add_app(tui, optional=True)
    tui.add_argument(
        "--read-only", action="store_true", help="disable apply, drop and update in the UI"
    )


def _terminal_missing() -> str:
    """Which of stdin/stdout is not a terminal ('' when both are). Without one, Textual's
    input thread reads an endless EOF and the UI spins at full CPU. textual-serve runs the UI
    through pipes with its web driver (named by $TEXTUAL_DRIVER): that needs no terminal."""
    if os.environ.get("TEXTUAL_DRIVER"):
        return ""
    streams = (("stdin", sys.stdin), ("stdout", sys.stdout))
    return " and ".join(name for name, stream in streams if not stream.isatty())


def run(args: argparse.Namespace) -> int:
    from cocotui.engine.facade import Engine

    missing = _terminal_missing()
    if missing:
        print(
            f"error: the terminal UI needs a terminal, but {missing} is not one; in scripts "
            f"use `cocotui ls`, `plan`, `apply --yes` or `update` instead",
            file=sys.stderr,
        )
        return 1
    engine = Engine.open(
        args.app or DEMO_APP,
        app_name=getattr(args, "app_name", None),
        state_dir=getattr(args, "state_dir", None),
    )
    # Imported here: the engine and the other commands never load Textual.
    from cocotui.tui.app import CocotuiApp

    try:
        CocotuiApp(engine, read_only=getattr(args, "read_only", False)).run()
    finally:
        engine.close()
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"tui": run}
