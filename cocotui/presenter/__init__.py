"""The presenter: plans, targets, connectors, apply progress and outcomes, and the app's exporter
turned into view models that are safe to show (secrets masked, terminal controls escaped) for
the CLI and the TUI alike, and into the ``--json`` documents. The front ends draw these; they
never mask by hand.

Names are imported on first use (PEP 562), as :mod:`cocotui` does: every CLI command imports
the presenter, and a command draws only a few of its views (``update`` draws none of the
plan's), so loading all of them up front would slow every command down."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: The version of every ``--json`` document and event line; raised when one changes shape.
FORMAT_VERSION = 1

#: Each public name, by the module of this package that defines it.
_NAMES = {
    **dict.fromkeys(
        (
            "AppHeader",
            "ApplyFailure",
            "ChangeView",
            "ConnectorsView",
            "Line",
            "PlanView",
            "Section",
            "TargetRow",
            "Tone",
        ),
        "models",
    ),
    **dict.fromkeys(
        (
            "command_line",
            "error_message",
            "message",
            "present_apply_error",
            "remaining_note",
            "target_name",
        ),
        "outcomes",
    ),
    **dict.fromkeys(("present_change", "present_plan"), "plans"),
    **dict.fromkeys(
        ("present_app", "present_connectors", "present_target", "present_targets"), "targets"
    ),
    **dict.fromkeys(("ApplyProgress", "ChangeState", "present_apply_event"), "apply_progress"),
    **dict.fromkeys(("ExporterView", "Health", "present_exporter"), "exporter"),
}
_SUBMODULES = (
    "apply_progress",
    "documents",
    "exporter",
    "models",
    "outcomes",
    "plans",
    "shown",
    "targets",
)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        value: Any = importlib.import_module(f"{__name__}.{name}")
    elif name in _NAMES:
        value = getattr(importlib.import_module(f"{__name__}.{_NAMES[name]}"), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_SUBMODULES, *_NAMES])


if TYPE_CHECKING:
    from cocotui.presenter import apply_progress as apply_progress
    from cocotui.presenter import documents as documents
    from cocotui.presenter import exporter as exporter
    from cocotui.presenter import models as models
    from cocotui.presenter import outcomes as outcomes
    from cocotui.presenter import plans as plans
    from cocotui.presenter import shown as shown
    from cocotui.presenter import targets as targets
    from cocotui.presenter.apply_progress import ApplyProgress, ChangeState, present_apply_event
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
    "ApplyProgress",
    "ChangeState",
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
    "present_apply_event",
    "present_change",
    "present_connectors",
    "present_exporter",
    "present_plan",
    "present_target",
    "present_targets",
    "remaining_note",
    "target_name",
]
