"""``cocotui plan``, ``apply`` and ``drop``: review setup changes and apply them with
consent."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cocotui.cli.command import Command, add_app_arguments, add_json_argument, open_engine
from cocotui.cli.output import Output
from cocotui.engine.errors import ApplyError

if TYPE_CHECKING:
    from cocotui.engine.facade import Engine
    from cocotui.engine.plan import Change, Plan


class PlanCommand(Command):
    name = "plan"
    summary = "Show the setup changes (create ~ update - drop) that apply would make."
    example = """
        exit codes with --detailed-exitcode: 0 nothing to do, 1 error, 2 changes pending.
        example:
          cocotui plan app.py --detailed-exitcode || echo "setup changes are pending"
        """

    def configure(self, parser: argparse.ArgumentParser) -> None:
        add_app_arguments(parser)
        add_json_argument(parser)
        parser.add_argument(
            "--detailed-exitcode",
            action="store_true",
            help="exit 2 when changes are pending, 0 when there are none",
        )

    def run(self, args: argparse.Namespace, output: Output) -> int:
        plan = open_engine(args).plan()
        output.plan(plan)
        return 2 if args.detailed_exitcode and plan.pending else 0


def confirm(question: str, args: argparse.Namespace) -> bool:
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


def apply_with_consent(
    engine: Engine,
    plan: Plan,
    changes: Sequence[Change],
    args: argparse.Namespace,
    output: Output,
    question: str,
) -> int:
    """Show ``changes`` of ``plan``, ask, apply them, and report what is left pending."""
    output.review(dataclasses.replace(plan, changes=tuple(changes)))
    if not changes:
        output.nothing_to_apply()
        return 0
    if not confirm(question, args):
        output.not_confirmed(plan.pending)
        return 1
    try:
        engine.apply(plan, changes, output.progress)
    except ApplyError as exc:
        output.apply_failed(exc, changes, engine.plan().pending)
        return 1
    output.applied(changes, engine.plan().pending, args)
    return 0


class ApplyCommand(Command):
    name = "apply"
    summary = "Apply pending setup changes, after showing the plan and asking for consent."
    example = """
        Without a terminal, --yes is required. A connector error stops the apply; the change
        stays staged and the next apply rolls it forward.
        example:
          cocotui apply app.py --target pages --yes
        """

    def configure(self, parser: argparse.ArgumentParser) -> None:
        add_app_arguments(parser)
        add_json_argument(parser)
        parser.add_argument(
            "--target",
            action="append",
            default=[],
            metavar="NAME",
            help="apply only this target's change (TARGET or FLOW.TARGET); repeatable",
        )
        parser.add_argument("--yes", "-y", action="store_true", help="apply without asking")

    def run(self, args: argparse.Namespace, output: Output) -> int:
        engine = open_engine(args)
        plan = engine.plan()
        try:
            changes = plan.select(args.target) if args.target else plan.pending
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        question = "Apply these setup changes?"
        return apply_with_consent(engine, plan, changes, args, output, question)


class DropCommand(Command):
    name = "drop"
    summary = "Drop the targets of the given flows (all flows by default) and their row tracking."
    example = """
        The connector removes each target's data in apply_setup_change(key, previous, None).
        example:
          cocotui drop app.py MyFlow --yes
        """

    def configure(self, parser: argparse.ArgumentParser) -> None:
        add_app_arguments(parser)
        add_json_argument(parser)
        parser.add_argument("flows", nargs="*", metavar="FLOW", help="flows to drop (default: all)")
        parser.add_argument("--yes", "-y", action="store_true", help="drop without asking")

    def run(self, args: argparse.Namespace, output: Output) -> int:
        engine = open_engine(args)
        unknown = [f for f in args.flows if f not in engine.flow_names()]
        if unknown:
            raise ValueError(f"no flow named {', '.join(unknown)} in app {engine.app.name}")
        plan = engine.plan_drop(args.flows or None)
        question = "Drop these targets? Their data is removed by the connector."
        return apply_with_consent(engine, plan, plan.pending, args, output, question)
