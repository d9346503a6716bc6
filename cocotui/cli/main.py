"""``cocotui``: the headless twin of every TUI action, for scripts and CI.

Exit codes: 0 success; 1 error (or nothing applied because consent was not given);
2 for ``plan --detailed-exitcode`` when changes are pending, and for ``update`` when targets
were skipped because their setup is pending; 3 and 4 for ``status`` (an exporter reports
errors; the last one died).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cocotui import __version__
from cocotui.cli.command import Command
from cocotui.cli.listing_commands import ListConnectors, ListTargets
from cocotui.cli.output import output_for
from cocotui.cli.query_command import QueryCommand
from cocotui.cli.run_command import RunCommand
from cocotui.cli.serve_command import ServeCommand
from cocotui.cli.setup_commands import ApplyCommand, DropCommand, PlanCommand
from cocotui.cli.status_command import StatusCommand
from cocotui.cli.tui_command import TuiCommand
from cocotui.cli.update_command import UpdateCommand
from cocotui.engine.errors import USER_ERRORS

#: Every command, in the order ``--help`` lists them.
COMMANDS: tuple[Command, ...] = (
    ListTargets(),
    PlanCommand(),
    ApplyCommand(),
    DropCommand(),
    ListConnectors(),
    UpdateCommand(),
    StatusCommand(),
    TuiCommand(),
    ServeCommand(),
    QueryCommand(),
    RunCommand(),
)
#: What ``cocotui`` and ``cocotui APP`` run.
DEFAULT_COMMAND = "tui"

_EXAMPLES = """
    examples:
      cocotui ls app.py                 list the targets of app.py and their status
      cocotui plan app.py               show pending setup changes
      cocotui apply app.py              review and apply them
      cocotui update app.py             export changed rows to the targets
      cocotui status app.py             what the app's exporter is doing
      cocotui drop app.py MyFlow        drop the targets of one flow
    """


if TYPE_CHECKING:
    _SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    _SubParsers = argparse._SubParsersAction


class _CommandOrApp(_SubParsers):
    """The subcommands, where a first word that names none is the APP of the default command:
    ``cocotui app.py --read-only`` is ``cocotui tui app.py --read-only``.

    A command's arguments are added to its parser when it is chosen: adding every command's
    cost each run a few milliseconds of start-up for arguments it never reads."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Argparse refuses a word that is not a choice before dispatching it; here any word
        # is accepted, and dispatched below.
        self.choices = None  # type: ignore[assignment]  # typeshed narrows it to the map
        self._unconfigured: dict[str, tuple[Command, argparse.ArgumentParser]] = {}

    def add_command(self, command: Command) -> None:
        self._unconfigured[command.name] = (command, command.add_to(self))

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        words = list(values or ())
        if words and words[0] not in self._name_parser_map:
            words.insert(0, DEFAULT_COMMAND)
        if words and words[0] in self._unconfigured:
            command, command_parser = self._unconfigured.pop(words[0])
            command.configure(command_parser)
        super().__call__(parser, namespace, words, option_string)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cocotui",
        description="Run and operate custom export targets of incremental indexing flows. "
        "Without a command, opens the terminal UI.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent(_EXAMPLES).strip(),
    )
    parser.add_argument("--version", action="version", version=f"cocotui {__version__}")
    commands = parser.add_subparsers(metavar="COMMAND", action=_CommandOrApp)
    assert isinstance(commands, _CommandOrApp)
    for command in COMMANDS:
        commands.add_command(command)
    # No command at all: the default one, on the demo app.
    default = next(c for c in COMMANDS if c.name == DEFAULT_COMMAND)
    parser.set_defaults(command=default, app=None, app_name=None, state_dir=None, read_only=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command: Command = args.command
    output = output_for(args)
    try:
        return command.run(args, output)
    except USER_ERRORS as exc:
        output.error(exc)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
