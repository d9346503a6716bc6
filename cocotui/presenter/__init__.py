"""The presenter: plans, targets, connectors, apply outcomes and the app's exporter turned into
view models that are safe to show (secrets masked, terminal controls escaped) for the CLI and
the TUI alike, and into the ``--json`` documents. The front ends draw these; they never mask by
hand."""

from __future__ import annotations

from cocotui.presenter.documents import FORMAT_VERSION
from cocotui.presenter.exporter import ExporterView, Health, present_exporter
from cocotui.presenter.models import (
    AppHeader,
    ApplyFailure,
    ChangeView,
    ConnectorsView,
    Line,
    PlanView,
    Section,
    TargetRow,
    Tone,
)
from cocotui.presenter.outcomes import (
    command_line,
    error_message,
    message,
    present_apply_error,
    remaining_note,
    target_name,
)
from cocotui.presenter.plans import present_change, present_plan
from cocotui.presenter.targets import (
    present_app,
    present_connectors,
    present_target,
    present_targets,
)

__all__ = [
    "FORMAT_VERSION",
    "AppHeader",
    "ApplyFailure",
    "ChangeView",
    "ConnectorsView",
    "ExporterView",
    "Health",
    "Line",
    "PlanView",
    "Section",
    "TargetRow",
    "Tone",
    "command_line",
    "error_message",
    "message",
    "present_app",
    "present_apply_error",
    "present_change",
    "present_connectors",
    "present_exporter",
    "present_plan",
    "present_target",
    "present_targets",
    "remaining_note",
    "target_name",
]
