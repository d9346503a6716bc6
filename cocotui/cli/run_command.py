"""``cocotui run SCRIPT [ARGS...]``: run a CocoIndex v0 program (``python main.py``) with
``import cocoindex`` giving cocotui, its flows bound to the same state as ``cocotui ls
SCRIPT``. An explicit opt-in: nothing changes what ``python main.py`` imports."""

from __future__ import annotations

import argparse
import os
import runpy
import sys
import traceback

from cocotui.cli.command import Command
from cocotui.cli.output import Output


class RunCommand(Command):
    name = "run"
    summary = "Run a CocoIndex v0 program (its `python main.py`) on cocotui."
    example = """
        The script runs as __main__ with ARGS as its sys.argv[1:], and `import cocoindex` in it
        gives cocotui. cocoindex.init(), flow.setup(), flow.update() and FlowLiveUpdater work
        on the state `cocotui ls SCRIPT` shows (setup applies creates and compatible updates;
        drops and incompatible changes are left for `cocotui apply SCRIPT`).
        example:
          cocotui run main.py --verbose
        """

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--app-name",
            help="name that namespaces the app's state (default: file stem + digest)",
        )
        parser.add_argument("--state-dir", help="directory of the state files")
        parser.add_argument("script", metavar="SCRIPT", help="the program's .py file")
        parser.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS", help="its arguments")

    def run(self, args: argparse.Namespace, output: Output) -> int:
        return cmd_run(args)


def cmd_run(args: argparse.Namespace) -> int:
    from cocotui import cocoindex_alias
    from cocotui.runtime.binding import configure

    script = os.path.abspath(args.script)
    if not os.path.isfile(script):
        raise ValueError(f"no such script: {args.script}")
    if not cocoindex_alias.install():
        print(
            f"warning: `import cocoindex` is not aliased to cocotui "
            f"({cocoindex_alias.DISABLE_ENV} is set or a real cocoindex is imported)",
            file=sys.stderr,
        )
    configure(app_name=args.app_name, state_dir=args.state_dir)
    sys.argv = [args.script, *args.args]
    sys.path.insert(0, os.path.dirname(script))  # as `python main.py` does
    try:
        runpy.run_path(script, run_name="__main__")
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException:
        traceback.print_exc()
        return 1
    return 0
