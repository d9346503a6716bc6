"""Apply progress as the front ends show it: each typed apply event (started, done, failed)
becomes one view model naming the change's target, its new state and, on failure, why."""

from __future__ import annotations

import dataclasses
import enum

from cocotui.engine.events import ApplyChangeDone, ApplyChangeFailed, ApplyChangeStarted, Event
from cocotui.presenter import shown


class ChangeState(enum.StrEnum):
    """Where one change of an apply is (its value is the word shown beside the change)."""

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclasses.dataclass(frozen=True)
class ApplyProgress:
    """One step of an apply. ``target`` is the change's name as the plan holds it (to find the
    change by); ``shown_target``, ``action`` and ``error`` are safe to show."""

    target: str
    shown_target: str
    state: ChangeState
    action: str = ""
    error: str = ""


def present_apply_event(event: Event) -> ApplyProgress | None:
    """The progress an apply event reports, or ``None`` for any other event."""
    match event:
        case ApplyChangeStarted():
            return _progress(event.target, ChangeState.RUNNING, action=shown.line(event.action))
        case ApplyChangeDone():
            return _progress(event.target, ChangeState.DONE, action=shown.line(event.action))
        case ApplyChangeFailed():
            return _progress(event.target, ChangeState.FAILED, error=shown.text(event.error))
    return None


def _progress(
    target: str, state: ChangeState, *, action: str = "", error: str = ""
) -> ApplyProgress:
    return ApplyProgress(target, shown.line(target), state, action, error)
