"""``cocotui serve [APP]``: the terminal UI in a browser, through textual-serve.

Bound to loopback by default. On any other address the UI is read-only unless
``--allow-write`` is given: whoever reaches the page could otherwise apply and drop.
"""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import sys

from cocotui.cli.command import Command, add_app_arguments
from cocotui.cli.output import Output
from cocotui.cli.tui_command import DEMO_APP


class ServeCommand(Command):
    name = "serve"
    summary = "Serve the terminal UI to a web browser (needs the 'web' extra: textual-serve)."
    example = """
        Loopback only by default; another --host makes the UI read-only unless --allow-write.
        examples:
          pip install 'cocotui[web]' && cocotui serve app.py
          cocotui serve app.py --host 0.0.0.0 --port 8080     read-only for everyone
        """

    def configure(self, parser: argparse.ArgumentParser) -> None:
        add_app_arguments(parser, optional=True)
        parser.add_argument(
            "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)"
        )
        parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
        parser.add_argument(
            "--allow-write",
            action="store_true",
            help="allow apply, drop and update when bound to a non-loopback address",
        )

    def run(self, args: argparse.Namespace, output: Output) -> int:
        return run(args)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tui_command_line(args: argparse.Namespace) -> str:
    """The command each browser session runs."""
    parts = [sys.executable, "-m", "cocotui", "tui", args.app or DEMO_APP]
    if args.app_name:
        parts += ["--app-name", args.app_name]
    if args.state_dir:
        parts += ["--state-dir", args.state_dir]
    if not is_loopback(args.host) and not args.allow_write:
        parts.append("--read-only")
    return shlex.join(parts)


def run(args: argparse.Namespace) -> int:
    from cocotui.tui.serve import serve

    command = tui_command_line(args)
    mode = "read-only" if "--read-only" in command else "read-write"
    print(f"Serving cocotui ({mode}) on http://{args.host}:{args.port}", file=sys.stderr)
    if not serve(command, args.host, args.port):
        print(
            "error: `cocotui serve` needs textual-serve: pip install 'cocotui[web]'",
            file=sys.stderr,
        )
        return 1
    return 0
