"""The two output modes of the CLI: text for people, ``--json`` for scripts. A command reports
what happened to the :class:`Output` chosen once from its arguments, never testing the mode
itself. Both draw the presenter's views (masked); errors always go to stderr as text too."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cocotui import presenter
from cocotui.cli import render
from cocotui.cli.render import Style
from cocotui.engine.errors import ApplyError
from cocotui.engine.events import Event
from cocotui.engine.facade import Engine
from cocotui.engine.plan import Change, Plan
from cocotui.engine.queries import flows_json
from cocotui.engine.status import ExporterReport
from cocotui.presenter import documents
from cocotui.presenter.exporter import present_exporter, status_document

#: Moves the cursor home and clears the screen (``status --watch`` on a terminal).
_CLEAR = "\x1b[H\x1b[2J"


class Output:
    """Text output: plans and tables on stdout, progress as it goes, errors on stderr."""

    def __init__(self) -> None:
        self.style = Style(sys.stdout)

    def targets(self, engine: Engine) -> None:
        app = presenter.present_app(engine)
        print(f"app {app.name} ({app.origin}), state {app.state_file}")
        print(render.status_text(presenter.present_targets(engine.status()), self.style))

    def plan(self, plan: Plan) -> None:
        print(render.plan_text(presenter.present_plan(plan), self.style))

    def review(self, selected: Plan) -> None:
        """The changes about to be applied, before consent is asked."""
        self.plan(selected)
        if selected.changes:
            print()

    def nothing_to_apply(self) -> None:
        """No change was selected (the plan above says so)."""

    def not_confirmed(self, pending: Sequence[Change]) -> None:
        print("Nothing applied.")

    def progress(self, event: Event) -> None:
        if event.name == "apply.change_started":
            name = presenter.target_name(event.data["target"])
            print(f"{name}: {event.data['action']}...", end="", flush=True)
        elif event.name == "apply.change_done":
            print(" done")
        elif event.name == "apply.change_failed":
            print(" failed")

    def apply_failed(
        self, error: ApplyError, tried: Sequence[Change], pending: Sequence[Change]
    ) -> None:
        failure = presenter.present_apply_error(error)
        print(f"error: {failure.message}", file=sys.stderr)
        if failure.traceback:
            print(failure.traceback, file=sys.stderr)
        if failure.staged:
            print(
                f"The change to {failure.target} stays staged; run apply again to roll it forward.",
                file=sys.stderr,
            )
        else:
            print("Nothing applied.", file=sys.stderr)

    def applied(
        self, applied: Sequence[Change], pending: Sequence[Change], args: argparse.Namespace
    ) -> None:
        print(self.style(f"Applied {len(applied)} change(s).", "1;32"))
        if pending:
            review = render.command_line("plan", args)
            print(presenter.remaining_note(pending, applied, review))

    def connectors(self) -> None:
        print(render.connectors_text(presenter.present_connectors()))

    def exporter(self, app: str, report: ExporterReport | None, *, redraw: bool = False) -> None:
        """``status``; with ``redraw``, in place of the previous one on a terminal."""
        text = render.exporter_text(app, present_exporter(report), self.style)
        if redraw and sys.stdout.isatty():
            text = _CLEAR + text
        elif redraw:
            text += "\n"
        print(text, flush=True)

    def error(self, error: BaseException) -> None:
        print(f"error: {presenter.error_message(error)}", file=sys.stderr)


class JsonOutput(Output):
    """``--json``: one document on stdout per command (see the README); errors on stderr as
    well, for the person watching the script."""

    def targets(self, engine: Engine) -> None:
        app = engine.app
        state_file = str(engine.paths.setup_state)
        render.write_json(
            documents.targets_document(
                app.name, app.file, state_file, engine.status(), flows_json(app.flows)
            )
        )

    def plan(self, plan: Plan) -> None:
        render.write_json(documents.plan_document(plan))

    def review(self, selected: Plan) -> None:
        pass

    def nothing_to_apply(self) -> None:
        render.write_json(documents.apply_document([], []))

    def not_confirmed(self, pending: Sequence[Change]) -> None:
        render.write_json(documents.apply_document([], pending, "not confirmed"))

    def progress(self, event: Event) -> None:
        pass

    def apply_failed(
        self, error: ApplyError, tried: Sequence[Change], pending: Sequence[Change]
    ) -> None:
        left = {c.identity for c in pending}
        applied = [c for c in tried if c.identity not in left]
        render.write_json(documents.apply_document(applied, pending, error))

    def applied(
        self, applied: Sequence[Change], pending: Sequence[Change], args: argparse.Namespace
    ) -> None:
        render.write_json(documents.apply_document(applied, pending))

    def connectors(self) -> None:
        render.write_json(documents.connectors_document())

    def exporter(self, app: str, report: ExporterReport | None, *, redraw: bool = False) -> None:
        render.write_json(status_document(app, report))

    def error(self, error: BaseException) -> None:
        render.write_json(documents.error_document(error))
        super().error(error)


def output_for(args: argparse.Namespace) -> Output:
    """The output mode, chosen once per command run."""
    return JsonOutput() if getattr(args, "json", False) else Output()
