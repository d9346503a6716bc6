"""Plans as view models: the one description of a setup change that ``cocotui plan``,
``apply``, ``drop`` and the TUI's plan review all show."""

from __future__ import annotations

from cocotui.engine.plan import Action, Change, Plan, spec_diff
from cocotui.op import TargetStateCompatibility
from cocotui.presenter import shown
from cocotui.presenter.models import ACTION_TONE, ChangeView, Line, PlanView, Tone

_VERDICT_NOTE = {
    TargetStateCompatibility.COMPATIBLE: "compatible: exported rows are kept",
    TargetStateCompatibility.PARTIALLY_COMPATIBLE: (
        "partially compatible: every row is sent again on the next update"
    ),
    TargetStateCompatibility.NOT_COMPATIBLE: (
        "not compatible: row tracking is reset, every row is exported again as new"
    ),
}


def present_plan(plan: Plan) -> PlanView:
    ready = [c for c in plan.changes if c.action is Action.NONE]
    return PlanView(
        app=shown.line(plan.app),
        summary=plan.summary,
        pending=tuple(present_change(c) for c in plan.pending),
        ready=tuple(shown.line(c.name) for c in ready),
        warnings=tuple(shown.line(f"{c.name}: {c.reason}") for c in ready if c.shared_with),
    )


def present_change(change: Change) -> ChangeView:
    details = [Line(f"kind: {shown.line(change.kind)}   key: {shown.key(change.key)}")]
    if change.reason:
        details.append(Line(f"reason: {shown.line(change.reason)}"))
    details += _data_note(change)
    details += _diff(change)
    if change.action is Action.DROP:
        if change.releases:
            details.append(Line("released: the connector is not called, the data stays"))
        else:
            details.append(Line("the connector removes this target and its data", Tone.DANGER))
    if len(change.previous_states) > 1:
        details.append(
            Line(
                f"rolls forward from {len(change.previous_states)} stored versions "
                f"(an earlier change was interrupted)",
                Tone.INTERRUPTED,
            )
        )
    return ChangeView(
        action=change.action,
        verb=change.action.value,
        name=shown.line(change.name),
        description=shown.line(change.description),
        details=tuple(details),
    )


def _data_note(change: Change) -> list[Line]:
    """What happens to the rows already in the target."""
    verdict = change.compatibility
    if change.action is Action.UPDATE and verdict is not None:
        return [Line(f"data: {_VERDICT_NOTE[verdict]}")]
    if change.action is not Action.CREATE:
        return []
    if verdict in (None, TargetStateCompatibility.NOT_COMPATIBLE):
        return [Line("data: new target, every row will be exported")]
    return [
        Line(
            "data: it may still hold its rows: every row is sent again, and rows no longer "
            "produced are deleted"
        )
    ]


def _diff(change: Change) -> list[Line]:
    """The setup state's fields that change, secrets masked by their field's name."""
    before = change.before
    after = None if change.current is None else change.current.state
    tone = ACTION_TONE[change.action]
    if change.action is Action.CREATE:
        if not isinstance(after, dict):
            return []
        return [
            Line(f"+ {shown.line(path)} = {shown.value(new, path)}", tone)
            for path, _, new in spec_diff({}, after)
        ]
    if change.action is Action.DROP:
        if not isinstance(before, dict):
            return []
        return [
            Line(f"- {shown.line(path)} = {shown.value(old, path)}", tone)
            for path, old, _ in spec_diff(before, {})
        ]
    return [
        Line(
            f"~ {shown.line(path or 'state')}: {shown.value(old, path)} → {shown.value(new, path)}",
            tone,
        )
        for path, old, new in spec_diff(before, after)
    ]
