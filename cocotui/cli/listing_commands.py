"""``cocotui ls`` and ``cocotui connectors``: what the app exports to, and what is installed."""

from __future__ import annotations

import argparse

from cocotui.cli.command import Command, add_app_arguments, add_json_argument, open_engine
from cocotui.cli.output import Output


class ListTargets(Command):
    name = "ls"
    summary = "List the app's targets: kind, describe() text, persistent key and setup status."
    example = """
        example:
          cocotui ls app.py --json | jq '.targets[] | select(.status != "READY")'
        """

    def configure(self, parser: argparse.ArgumentParser) -> None:
        add_app_arguments(parser)
        add_json_argument(parser)

    def run(self, args: argparse.Namespace, output: Output) -> int:
        output.targets(open_engine(args))
        return 0


class ListConnectors(Command):
    name = "connectors"
    summary = "List installed connector kinds (cocotui.connectors entry points) and load errors."
    example = """
        example:
          cocotui connectors --json
        """

    def configure(self, parser: argparse.ArgumentParser) -> None:
        add_json_argument(parser)

    def run(self, args: argparse.Namespace, output: Output) -> int:
        output.connectors()
        return 0
