"""``cocotui status``: what the app's exporter (the process running its updates, this machine's
or another's) is doing, or how the last one ended; the headless twin of the TUI's view of it."""

from __future__ import annotations

import argparse
import time

from cocotui.cli.command import Command, add_app_arguments, add_json_argument, open_engine
from cocotui.cli.output import Output
from cocotui.presenter.exporter import health

#: How often ``--watch`` reads the status again (seconds).
WATCH_INTERVAL_S = 0.5


class StatusCommand(Command):
    name = "status"
    summary = "Show what the app's exporter is doing (a running update, or how the last ended)."
    example = """
        The exporter is the process running the app's updates (`cocotui update`, the TUI, a
        program); it publishes its status a few times a second. A killed or crashed exporter
        is reported as died.
        exit codes: 0 idle or healthy, 3 an exporter runs but reports errors,
                    4 the last run died (killed or crashed) or ended on an error.
        examples:
          cocotui status app.py --watch
          cocotui status app.py --json | jq '.run.targets'
        """

    def configure(self, parser: argparse.ArgumentParser) -> None:
        add_app_arguments(parser)
        add_json_argument(parser)
        parser.add_argument(
            "--watch",
            action="store_true",
            help="keep showing it, redrawn as it changes, until Ctrl-C (with --json: one "
            "document per line)",
        )

    def run(self, args: argparse.Namespace, output: Output) -> int:
        engine = open_engine(args)
        app = engine.app.name
        try:
            report = engine.exporter()
            output.exporter(app, report)
            if args.watch:
                try:
                    while True:
                        time.sleep(WATCH_INTERVAL_S)
                        latest = engine.exporter()
                        if latest != report:
                            report = latest
                            output.exporter(app, report, redraw=True)
                except KeyboardInterrupt:
                    pass
            return health(report).exit_code
        finally:
            engine.close()
