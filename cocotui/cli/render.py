"""Human and ``--json`` renderings of plans, target lists and apply outcomes."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from typing import Any, TextIO

from cocotui.display import display_line, mask_secrets
from cocotui.engine.facade import TargetStatus
from cocotui.engine.plan import Action, Change, Plan, spec_diff
from cocotui.op import ConnectorKind, TargetStateCompatibility
from cocotui.values import canonical_json, to_plain_json

FORMAT_VERSION = 1


class Style:
    """ANSI colours, only on a terminal and when ``NO_COLOR`` is not set."""

    def __init__(self, stream: TextIO) -> None:
        self.enabled = stream.isatty() and not os.environ.get("NO_COLOR")

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text

    def action(self, action: Action, text: str) -> str:
        code = {Action.CREATE: "32", Action.UPDATE: "33", Action.DROP: "1;31", Action.NONE: "2"}
        return self(text, code[action])


def status_box(word: str) -> str:
    return f"[ {word:^9} ]"


def show_value(value: Any, name: str = "") -> str:
    """A state value as shown, secrets masked and control characters escaped (``name``: the
    field it is the value of)."""
    if value is ...:
        return "(absent)"
    shown = json.dumps(to_plain_json(mask_secrets(value, name)), ensure_ascii=False, sort_keys=True)
    return display_line(shown)


def show_key(key: Any) -> str:
    """A persistent key as shown on one line."""
    return display_line(canonical_json(mask_secrets(key)))


_VERDICT_NOTE = {
    TargetStateCompatibility.COMPATIBLE: "compatible: exported rows are kept",
    TargetStateCompatibility.PARTIALLY_COMPATIBLE: (
        "partially compatible: every row is sent again on the next update"
    ),
    TargetStateCompatibility.NOT_COMPATIBLE: (
        "not compatible: row tracking is reset, every row is exported again as new"
    ),
}


_NOT_COMPATIBLE = TargetStateCompatibility.NOT_COMPATIBLE


def plan_text(plan: Plan, style: Style) -> str:
    lines: list[str] = []
    pending = plan.pending
    if pending:
        lines.append(f"cocotui will make these setup changes for app {display_line(plan.app)}:")
        lines.append("")
    for change in pending:
        verb = {Action.CREATE: "create", Action.UPDATE: "update", Action.DROP: "drop"}[
            change.action
        ]
        head = f"  {change.action.symbol} {verb:<6} {display_line(change.name)}"
        lines.append(
            style.action(change.action, head)
            + f"  {style(status_box(change.action.status_word), '36')} "
            + display_line(change.description)
        )
        lines.append(f"      kind: {change.kind}   key: {show_key(change.key)}")
        if change.reason:
            lines.append(f"      reason: {display_line(change.reason)}")
        if change.compatibility is not None and change.action is Action.UPDATE:
            lines.append(f"      data: {_VERDICT_NOTE[change.compatibility]}")
        if change.action is Action.CREATE and change.compatibility in (None, _NOT_COMPATIBLE):
            lines.append("      data: new target, every row will be exported")
        elif change.action is Action.CREATE:
            lines.append(
                "      data: it may still hold its rows: every row is sent again, and rows no "
                "longer produced are deleted"
            )
        before = change.before
        after = None if change.current is None else change.current.state
        if change.action is Action.CREATE:
            for path, _, new in spec_diff({}, after) if isinstance(after, dict) else []:
                lines.append(
                    style.action(Action.CREATE, f"      + {path} = {show_value(new, path)}")
                )
        elif change.action is Action.DROP:
            for path, old, _ in spec_diff(before, {}) if isinstance(before, dict) else []:
                lines.append(style.action(Action.DROP, f"      - {path} = {show_value(old, path)}"))
            if change.releases:
                lines.append("      released: the connector is not called, the data stays")
            else:
                lines.append(style("      the connector removes this target and its data", "1;31"))
        else:
            for path, old, new in spec_diff(before, after):
                label = path or "state"
                lines.append(
                    style.action(
                        Action.UPDATE,
                        f"      ~ {label}: {show_value(old, path)} → {show_value(new, path)}",
                    )
                )
        if len(change.previous_states) > 1:
            lines.append(
                f"      rolls forward from {len(change.previous_states)} stored versions "
                f"(an earlier change was interrupted)"
            )
        lines.append("")
    ready = [c for c in plan.changes if c.action is Action.NONE]
    if ready:
        lines.append(display_line(f"Up to date: {', '.join(c.name for c in ready)}"))
    for change in ready:
        if change.shared_with:
            lines.append(style(display_line(f"warning: {change.name}: {change.reason}"), "1;33"))
    lines.append(style(plan.summary, "1"))
    return "\n".join(lines)


def change_json(change: Change) -> dict[str, Any]:
    """A change as ``--json`` shows it: a display too, so secrets are masked."""
    current = None if change.current is None else mask_secrets(change.current.state)
    return {
        "flow": change.flow,
        "target": change.target,
        "kind": change.kind,
        "key": to_plain_json(mask_secrets(change.key)),
        "action": change.action.value,
        "status": change.action.status_word,
        "previous": [to_plain_json(mask_secrets(p)) for p in change.previous_states],
        "current": to_plain_json(current),
        "description": mask_secrets(change.description),
        "compatibility": None if change.compatibility is None else change.compatibility.value,
        "reason": change.reason,
        "shared_with": list(change.shared_with),
    }


def plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "app": plan.app,
        "fingerprint": plan.fingerprint,
        "changes": [change_json(c) for c in plan.changes],
        "summary": {a.value: plan.count(a) for a in Action},
    }


def status_json(status: TargetStatus) -> dict[str, Any]:
    stored = status.stored
    planned: dict[str, Any] = {"previous": [], "current": None, "compatibility": None, "reason": ""}
    if status.change is not None:
        change = change_json(status.change)
        planned = {name: change[name] for name in planned}
    return {
        "flow": status.flow,
        "target": status.target,
        "kind": status.kind,
        "key": to_plain_json(mask_secrets(status.key)),
        "description": mask_secrets(status.description),
        "status": status.status,
        "action": status.action.value,
        "interrupted": status.interrupted,
        "orphaned": status.orphaned,
        "applied_at": stored.applied_at if stored else None,
        "last_error": mask_secrets(stored.last_error) if stored else None,
        **planned,
    }


def status_text(rows: list[TargetStatus], style: Style) -> str:
    if not rows:
        return "This app exports to no target."
    table = [("FLOW.TARGET", "KIND", "STATUS", "DESCRIPTION", "KEY")]
    for r in rows:
        table.append(
            (
                display_line(r.name),
                display_line(r.kind),
                status_box(r.status),
                display_line(r.description),
                show_key(r.key),
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    out = []
    for i, row in enumerate(table):
        cells = [row[j].ljust(widths[j]) for j in range(4)] + [row[4]]
        line = "  ".join(cells).rstrip()
        out.append(style(line, "1") if i == 0 else line)
    return "\n".join(out)


def command_line(verb: str, args: argparse.Namespace) -> str:
    """The ``cocotui`` command ``verb`` for the same app and state as ``args``, as a user would
    type it (a hint that dropped ``--state-dir`` would look at another state)."""
    words = ["cocotui", verb, str(args.app)]
    for option, value in (("--app-name", args.app_name), ("--state-dir", args.state_dir)):
        if value:
            words += [option, str(value)]
    return display_line(shlex.join(words))


def connector_json(kind: ConnectorKind) -> dict[str, Any]:
    return {
        "kind": kind.kind,
        "connector": kind.origin,
        "optional_methods": kind.optional_methods,
        "doc": (kind.spec_cls.__doc__ or "").strip().split("\n")[0],
    }


def write_json(value: Any, stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    out.write(json.dumps(value, ensure_ascii=False) + "\n")
    out.flush()
