"""``cocotui [APP]`` / ``cocotui tui [APP]``: the terminal UI (the bundled demo without APP)."""

from __future__ import annotations

import argparse
import os
import sys

from cocotui.cli.command import Command, add_app_arguments
from cocotui.cli.output import Output

DEMO_APP = "cocotui.demo.app"


def _terminal_missing() -> str:
    """Which of stdin/stdout is not a terminal ('' when both are). Without one, Textual's
    input thread reads an endless EOF and the UI spins at full CPU. textual-serve runs the UI
    through pipes with its web driver (named by $TEXTUAL_DRIVER): that needs no terminal."""
    if os.environ.get("TEXTUAL_DRIVER"):
        return ""
    streams = (("stdin", sys.stdin), ("stdout", sys.stdout))
    return " and ".join(name for name, stream in streams if not stream.isatty())


class TuiCommand(Command):
    name = "tui"
    summary = "Open the terminal UI on APP (the bundled demo app when APP is omitted)."
    example = """
        `cocotui APP` is the same as `cocotui tui APP`.
        examples:
          cocotui                       the demo: markdown guides rendered to HTML files
          cocotui app.py --read-only    look, but never apply, drop or update
        """

    def configure(self, parser: argparse.ArgumentParser) -> None:
        add_app_arguments(parser, optional=True)
        parser.add_argument(
            "--read-only", action="store_true", help="disable apply, drop and update in the UI"
        )

    def run(self, args: argparse.Namespace, output: Output) -> int:
        return run(args)


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
