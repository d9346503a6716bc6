"""The CLI's text layout of the presenter's view models, and the ``--json`` writer."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from cocotui import presenter
from cocotui.presenter import FORMAT_VERSION

if TYPE_CHECKING:  # the view models come with the commands that draw them
    from cocotui.presenter import PlanView, TargetRow, Tone
    from cocotui.presenter.exporter import ExporterView

__all__ = [
    "FORMAT_VERSION",
    "Style",
    "command_line",
    "connectors_text",
    "exporter_text",
    "plan_text",
    "status_box",
    "status_text",
    "write_json",
]

#: ANSI codes of each tone, by its value (``None``: uncoloured).
_TONE_CODES: dict[str, str | None] = {
    "plain": None,
    "create": "32",
    "update": "33",
    "drop": "1;31",
    "danger": "1;31",
    "warning": "1;33",
    "interrupted": "35",
    "heading": "1",
    "dim": "2",
}


class Style:
    """ANSI colours, only on a terminal and when ``NO_COLOR`` is not set."""

    def __init__(self, stream: TextIO) -> None:
        self.enabled = stream.isatty() and not os.environ.get("NO_COLOR")

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text

    def tone(self, tone: Tone, text: str) -> str:
        code = _TONE_CODES[tone.value]
        return text if code is None else self(text, code)


def status_box(word: str) -> str:
    return f"[ {word:^9} ]"


def plan_text(plan: PlanView, style: Style) -> str:
    lines: list[str] = []
    if plan.pending:
        lines += [f"cocotui will make these setup changes for app {plan.app}:", ""]
    for change in plan.pending:
        head = f"  {change.action.symbol} {change.verb:<6} {change.name}"
        lines.append(
            style.tone(change.tone, head)
            + f"  {style(status_box(change.action.status_word), '36')} "
            + change.description
        )
        lines += [style.tone(d.tone, f"      {d.text}") for d in change.details]
        lines.append("")
    if plan.ready:
        lines.append(f"Up to date: {', '.join(plan.ready)}")
    lines += [style(f"warning: {warning}", "1;33") for warning in plan.warnings]
    lines.append(style(plan.summary, "1"))
    return "\n".join(lines)


def status_text(rows: Sequence[TargetRow], style: Style) -> str:
    if not rows:
        return "This app exports to no target."
    table = [("FLOW.TARGET", "KIND", "STATUS", "DESCRIPTION", "KEY")]
    table += [(r.name, r.kind, status_box(r.status), r.description, r.key) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    out = []
    for i, row in enumerate(table):
        cells = [row[j].ljust(widths[j]) for j in range(4)] + [row[4]]
        line = "  ".join(cells).rstrip()
        out.append(style(line, "1") if i == 0 else line)
    return "\n".join(out)


def _table(rows: Sequence[Sequence[str]], style: Style) -> list[str]:
    """``rows`` (the first is the heading) in columns two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return [style(lines[0], "1"), *lines[1:]]


def exporter_text(app: str, view: ExporterView, style: Style) -> str:
    """``cocotui status``: the exporter, its sources and targets, its targets' recent runs."""
    lines = [f"app {app}: " + style.tone(view.tone, view.headline)]
    lines += [f"  {note}" for note in view.notes]
    if view.sources:
        rows: list[tuple[str, ...]] = [
            ("SOURCE", "PHASE", "DONE", "LAST PASS", "LAG", "LAST ERROR")
        ]
        rows += [
            (s.name, s.phase, s.progress, s.last_pass, s.lag, s.last_error) for s in view.sources
        ]
        lines += ["", *_table(rows, style)]
    if view.targets:
        heading = ("TARGET", "INSERTED", "UPDATED", "DELETED", "ERRORS", "RATE", "LAST ERROR")
        rows = [heading]
        rows += [
            (
                t.name,
                str(t.inserted),
                str(t.updated),
                str(t.deleted),
                str(t.errors),
                t.rate,
                t.last_error,
            )
            for t in view.targets
        ]
        lines += ["", *_table(rows, style)]
    if view.history:
        lines += ["", style("RECENT RUNS", "1")]
        lines += [
            f"  {r.target}  {r.when}  " + style.tone(r.tone, r.text) + f"  {r.by}"
            for r in view.history
        ]
    return "\n".join(lines)


def connectors_text(view: presenter.ConnectorsView) -> str:
    lines = [
        f"{k.kind:<20} {k.origin}  (optional methods: {', '.join(k.optional_methods) or 'none'})"
        for k in view.kinds
    ]
    lines += [f"{f.entry_point:<20} FAILED to load {f.value}:\n{f.error}" for f in view.failures]
    return "\n".join(lines) or "No connectors installed."


def command_line(verb: str, args: argparse.Namespace) -> str:
    """The ``cocotui`` command ``verb`` for the same app and state as ``args``."""
    return presenter.command_line(verb, args.app, args.app_name, args.state_dir)


def write_json(value: Any, stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    out.write(json.dumps(value, ensure_ascii=False) + "\n")
    out.flush()
