"""What every ``cocotui`` command is: a name, its help, its arguments and its run."""

from __future__ import annotations

import abc
import argparse
import sys
import textwrap
from typing import TYPE_CHECKING, ClassVar

from cocotui import presenter
from cocotui.cli.output import Output

if TYPE_CHECKING:
    from cocotui.engine.facade import Engine


class Command(abc.ABC):
    """One subcommand. ``summary`` is its one-line help, ``example`` the epilog of its
    ``--help``."""

    name: ClassVar[str]
    summary: ClassVar[str]
    example: ClassVar[str]

    def add_to(
        self, commands: argparse._SubParsersAction[argparse.ArgumentParser]
    ) -> argparse.ArgumentParser:
        """Add the command's parser, without its arguments (:meth:`configure` adds them)."""
        parser = commands.add_parser(
            self.name,
            help=self.summary,
            description=self.summary,
            epilog=textwrap.dedent(self.example).strip(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.set_defaults(command=self)
        return parser

    @abc.abstractmethod
    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add the command's arguments."""

    @abc.abstractmethod
    def run(self, args: argparse.Namespace, output: Output) -> int:
        """Run the command; returns its exit code."""


def add_app_arguments(parser: argparse.ArgumentParser, *, optional: bool = False) -> None:
    parser.add_argument(
        "app",
        metavar="APP",
        nargs="?" if optional else None,
        help="the app: a path to a .py file or an importable module name",
    )
    parser.add_argument(
        "--app-name", help="name that namespaces the app's state (default: file stem or module)"
    )
    parser.add_argument(
        "--state-dir",
        help="directory of the state files (default: $COCOTUI_STATE_DIR, else the platform's "
        "user state directory)",
    )


def add_json_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def open_engine(args: argparse.Namespace) -> Engine:
    from cocotui.engine.facade import Engine  # loads the app's machinery: only when run

    engine = Engine.open(args.app, app_name=args.app_name, state_dir=args.state_dir)
    if engine.state_notice:
        print(f"warning: {presenter.message(engine.state_notice)}", file=sys.stderr)
    return engine
