"""``cocotui``: the headless twin of every TUI action, for scripts and CI.

Exit codes: 0 success; 1 error (or nothing applied because consent was not given);
2 for ``plan --detailed-exitcode`` when changes are pending, and for ``update`` when targets
were skipped because their setup is pending.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

from cocotui import __version__, registry
from cocotui.cli import render
from cocotui.cli.render import Style
from cocotui.display import display_line, display_text, mask_secrets
from cocotui.engine.apply import ApplyError, StalePlanError
from cocotui.engine.events import Event
from cocotui.engine.facade import Engine
from cocotui.engine.plan import Action, Change, Plan
from cocotui.engine.queries import QueryHandlerNotFound, flows_json
from cocotui.engine.targets import ConnectorCallError, TargetError
from cocotui.flow.loader import AppLoadError
from cocotui.state.lock import StateLockedError
from cocotui.state.setup_store import StateError
from cocotui.state.tracking import TrackingError

#: Errors shown as one clear message (with the user's traceback inside) instead of ours.
USER_ERRORS = (
    AppLoadError,
    TargetError,
    StateError,
    TrackingError,
    StateLockedError,
    StalePlanError,
    ConnectorCallError,
    QueryHandlerNotFound,
    ValueError,
)


def _epilog(text: str) -> str:
    return textwrap.dedent(text).strip()


def _add_app(parser: argparse.ArgumentParser, *, optional: bool = False) -> None:
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


def _add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cocotui",
        description="Run and operate custom export targets of incremental indexing flows. "
        "Without a command, opens the terminal UI.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_epilog(
            """
            examples:
              cocotui ls app.py                 list the targets of app.py and their status
              cocotui plan app.py               show pending setup changes
              cocotui apply app.py              review and apply them
              cocotui update app.py             export changed rows to the targets
              cocotui drop app.py MyFlow        drop the targets of one flow
            """
        ),
    )
    parser.add_argument("--version", action="version", version=f"cocotui {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, summary: str, example: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=summary,
            description=summary,
            epilog=_epilog(example),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    ls = command(
        "ls",
        "List the app's targets: kind, describe() text, persistent key and setup status.",
        """
        example:
          cocotui ls app.py --json | jq '.targets[] | select(.status != "READY")'
        """,
    )
    _add_app(ls)
    _add_json(ls)

    plan = command(
        "plan",
        "Show the setup changes (create ~ update - drop) that apply would make.",
        """
        exit codes with --detailed-exitcode: 0 nothing to do, 1 error, 2 changes pending.
        example:
          cocotui plan app.py --detailed-exitcode || echo "setup changes are pending"
        """,
    )
    _add_app(plan)
    _add_json(plan)
    plan.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 2 when changes are pending, 0 when there are none",
    )

    apply = command(
        "apply",
        "Apply pending setup changes, after showing the plan and asking for consent.",
        """
        Without a terminal, --yes is required. A connector error stops the apply; the change
        stays staged and the next apply rolls it forward.
        example:
          cocotui apply app.py --target pages --yes
        """,
    )
    _add_app(apply)
    _add_json(apply)
    apply.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="NAME",
        help="apply only this target's change (TARGET or FLOW.TARGET); repeatable",
    )
    apply.add_argument("--yes", "-y", action="store_true", help="apply without asking")

    drop = command(
        "drop",
        "Drop the targets of the given flows (all flows by default) and their row tracking.",
        """
        The connector removes each target's data in apply_setup_change(key, previous, None).
        example:
          cocotui drop app.py MyFlow --yes
        """,
    )
    _add_app(drop)
    _add_json(drop)
    drop.add_argument("flows", nargs="*", metavar="FLOW", help="flows to drop (default: all)")
    drop.add_argument("--yes", "-y", action="store_true", help="drop without asking")

    connectors = command(
        "connectors",
        "List installed connector kinds (cocotui.connectors entry points) and load errors.",
        """
        example:
          cocotui connectors --json
        """,
    )
    _add_json(connectors)

    from cocotui.cli import serve_command, tui_command, update_command

    update_command.add_parser(command)
    tui_command.add_parser(command)
    serve_command.add_parser(command)
    for module in _command_modules():
        module.add_parser(command)
    return parser


def _command_modules() -> list[Any]:
    """Commands that live in their own module: ``add_parser(command)`` and ``COMMANDS``."""
    from cocotui.cli import query_command, run_command

    return [query_command, run_command]


# ---------------------------------------------------------------------------------------------


def open_engine(args: argparse.Namespace) -> Engine:
    engine = Engine.open(args.app, app_name=args.app_name, state_dir=args.state_dir)
    if engine.state_notice:
        print(f"warning: {engine.state_notice}", file=sys.stderr)
    return engine


def _confirm(question: str, args: argparse.Namespace) -> bool:
    """Consent: ``--yes``, or 'yes' typed on a terminal. Never assumed without a terminal."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        print(
            "error: refusing to change targets without consent: stdin is not a terminal; "
            "pass --yes to proceed",
            file=sys.stderr,
        )
        return False
    try:
        answer = input(f"{question}\n  Only 'yes' will be accepted: ")
    except EOFError:
        answer = ""
    return answer.strip().lower() == "yes"


def cmd_ls(args: argparse.Namespace) -> int:
    engine = open_engine(args)
    rows = engine.status()
    app_file = engine.app.file
    if args.json:
        render.write_json(
            {
                "format_version": render.FORMAT_VERSION,
                "app": engine.app.name,
                "app_file": app_file,
                "state_file": str(engine.paths.setup_state),
                "targets": [render.status_json(r) for r in rows],
                "flows": flows_json(engine.app.flows),
            }
        )
    else:
        origin = f"file {app_file}" if app_file else f"module {engine.app.ref}"
        print(f"app {engine.app.name} ({origin}), state {engine.paths.setup_state}")
        print(render.status_text(rows, Style(sys.stdout)))
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    plan = open_engine(args).plan()
    if args.json:
        render.write_json(render.plan_json(plan))
    else:
        print(render.plan_text(plan, Style(sys.stdout)))
    return 2 if args.detailed_exitcode and plan.pending else 0


def _apply(engine: Engine, plan: Plan, args: argparse.Namespace, question: str) -> int:
    style = Style(sys.stdout)
    try:
        changes = plan.select(args.target) if getattr(args, "target", None) else plan.pending
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    selected = Plan(plan.app, plan.fingerprint, tuple(changes))
    if not args.json:
        print(render.plan_text(selected, style))
    if not changes:
        if args.json:
            render.write_json({"format_version": 1, "applied": [], "pending": [], "error": None})
        return 0
    if not args.json:
        print()
    if not _confirm(question, args):
        if args.json:
            render.write_json(
                {
                    "format_version": 1,
                    "applied": [],
                    "pending": [render.change_json(c) for c in plan.pending],
                    "error": {"message": "not confirmed"},
                }
            )
        else:
            print("Nothing applied.")
        return 1

    def progress(event: Event) -> None:
        if args.json:
            return
        if event.name == "apply.change_started":
            print(f"{event.data['target']}: {event.data['action']}...", end="", flush=True)
        elif event.name == "apply.change_done":
            print(" done")
        elif event.name == "apply.change_failed":
            print(" failed")

    applied_names: list[str] = []
    try:
        report = engine.apply(plan, changes, progress)
        applied_names = [c.name for c in report.applied]
    except ApplyError as exc:
        remaining = engine.plan().pending
        if args.json:
            render.write_json(
                {
                    "format_version": 1,
                    "applied": [
                        render.change_json(c)
                        for c in changes
                        if c.identity not in {r.identity for r in remaining}
                    ],
                    "pending": [render.change_json(c) for c in remaining],
                    "error": {
                        "target": exc.change.name,
                        "message": mask_secrets(str(exc)),
                        "traceback": mask_secrets(exc.connector_traceback),
                    },
                }
            )
        else:
            print(f"error: {display_text(str(exc))}", file=sys.stderr)
            if exc.connector_traceback:
                print(display_text(exc.connector_traceback), file=sys.stderr)
            if exc.staged:
                print(
                    f"The change to {display_line(exc.change.name)} stays staged; run apply "
                    f"again to roll it forward.",
                    file=sys.stderr,
                )
            else:
                print("Nothing applied.", file=sys.stderr)
        return 1
    remaining = engine.plan().pending
    if args.json:
        render.write_json(
            {
                "format_version": 1,
                "applied": [render.change_json(c) for c in changes],
                "pending": [render.change_json(c) for c in remaining],
                "error": None,
            }
        )
    else:
        print(style(f"Applied {len(applied_names)} change(s).", "1;32"))
        if remaining:
            print(_remaining_text(remaining, {c.identity for c in changes}, args))
    return 0


def _remaining_text(
    remaining: list[Change], done: set[tuple[str, str, str]], args: argparse.Namespace
) -> str:
    """The changes this command left for later, worded so they do not read as a failure: a
    dropped target the app still exports to is planned for creation again."""

    def one(change: Change) -> str:
        text = f"{change.name} ({change.action.status_word.lower()}"
        again = change.identity in done and change.action is Action.CREATE
        return text + (", as the app still exports to it)" if again else ")")

    return display_line(
        f"Not part of this command, waiting for approval: {', '.join(map(one, remaining))}; "
        f"review them with `{render.command_line('plan', args)}`"
    )


def cmd_apply(args: argparse.Namespace) -> int:
    engine = open_engine(args)
    return _apply(engine, engine.plan(), args, "Apply these setup changes?")


def cmd_drop(args: argparse.Namespace) -> int:
    engine = open_engine(args)
    known = {f.name for f in engine.app.flows} | {t.flow for t in engine.store.load().targets}
    unknown = [f for f in args.flows if f not in known]
    if unknown:
        raise ValueError(f"no flow named {', '.join(unknown)} in app {engine.app.name}")
    plan = engine.plan_drop(args.flows or None)
    return _apply(engine, plan, args, "Drop these targets? Their data is removed by the connector.")


def cmd_connectors(args: argparse.Namespace) -> int:
    failures = registry.load_plugins()
    kinds = registry.all_kinds()
    if args.json:
        render.write_json(
            {
                "format_version": 1,
                "connectors": [render.connector_json(k) for k in kinds],
                "failed": [
                    {"entry_point": f.entry_point, "value": f.value, "error": f.error}
                    for f in failures
                ],
            }
        )
        return 0
    for kind in kinds:
        optional = ", ".join(kind.optional_methods) or "none"
        print(f"{kind.kind:<20} {kind.origin}  (optional methods: {optional})")
    for failure in failures:
        print(f"{failure.entry_point:<20} FAILED to load {failure.value}:\n{failure.error}")
    if not kinds and not failures:
        print("No connectors installed.")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "ls": cmd_ls,
    "plan": cmd_plan,
    "apply": cmd_apply,
    "drop": cmd_drop,
    "connectors": cmd_connectors,
}


def main(argv: Sequence[str] | None = None) -> int:
    from cocotui.cli import serve_command, tui_command, update_command

    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    extra = {name: fn for module in _command_modules() for name, fn in module.COMMANDS.items()}
    known = {"ls", "plan", "apply", "drop", "connectors", "update", "tui", "serve", *extra}
    if not arguments or (arguments[0] not in known and not arguments[0].startswith("-")):
        arguments.insert(0, "tui")  # `cocotui` and `cocotui APP` open the UI
    args = parser.parse_args(arguments)
    handler = (
        COMMANDS.get(args.command)
        or extra.get(args.command)
        or update_command.COMMANDS.get(args.command)
        or serve_command.COMMANDS.get(args.command)
        or tui_command.COMMANDS[args.command]
    )
    try:
        return handler(args)
    except USER_ERRORS as exc:
        message = mask_secrets(str(exc))  # a password in a URL, say
        if isinstance(exc, ConnectorCallError) and not exc.deliberate:
            message += "\n" + mask_secrets(exc.connector_traceback)
        if getattr(args, "json", False):
            render.write_json({"format_version": 1, "error": {"message": message}})
        print(f"error: {display_text(message)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
