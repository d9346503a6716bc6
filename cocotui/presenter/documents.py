"""The ``--json`` documents (see the README): masked like every other view, but not escaped
(JSON escapes control characters itself, and a script must get the exact names back)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from cocotui import registry
from cocotui.display import mask_secrets, mask_text
from cocotui.engine.errors import ApplyError, user_message
from cocotui.engine.facade import TargetStatus
from cocotui.engine.plan import Action, Change, Plan
from cocotui.op import ConnectorKind
from cocotui.values import to_plain_json

#: The version of every ``--json`` document and event line; raised when one changes shape.
FORMAT_VERSION = 1

Document = dict[str, Any]


def versioned(**fields: Any) -> Document:
    return {"format_version": FORMAT_VERSION, **fields}


def change_json(change: Change) -> Document:
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
        "reason": mask_text(change.reason),
        "shared_with": [mask_text(s) for s in change.shared_with],
    }


def plan_document(plan: Plan) -> Document:
    return versioned(
        app=plan.app,
        fingerprint=plan.fingerprint,
        changes=[change_json(c) for c in plan.changes],
        summary={a.value: plan.count(a) for a in Action},
    )


def status_json(status: TargetStatus) -> Document:
    stored = status.stored
    planned: Document = {"previous": [], "current": None, "compatibility": None, "reason": ""}
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


def targets_document(
    app: str,
    app_file: str | None,
    state_file: str,
    rows: Iterable[TargetStatus],
    flows: list[Document],
) -> Document:
    return versioned(
        app=app,
        app_file=app_file,
        state_file=state_file,
        targets=[status_json(r) for r in rows],
        flows=mask_secrets(flows),
    )


def apply_document(
    applied: Sequence[Change],
    pending: Sequence[Change],
    error: ApplyError | str | None = None,
) -> Document:
    """The outcome of ``apply`` or ``drop``: what was applied, what is still pending, and the
    error that stopped it (a connector's, with its target, or a refusal's message)."""
    problem: Document | None = None
    if isinstance(error, ApplyError):
        problem = {
            "target": error.change.name,
            "message": mask_text(str(error)),
            "traceback": mask_text(error.connector_traceback),
        }
    elif error is not None:
        problem = {"message": mask_text(error)}
    return versioned(
        applied=[change_json(c) for c in applied],
        pending=[change_json(c) for c in pending],
        error=problem,
    )


def _connector_json(kind: ConnectorKind) -> Document:
    return {
        "kind": kind.kind,
        "connector": kind.origin,
        "optional_methods": kind.optional_methods,
        "doc": mask_text((kind.spec_cls.__doc__ or "").strip().split("\n")[0]),
    }


def connectors_document() -> Document:
    failures = registry.load_plugins()
    return versioned(
        connectors=[_connector_json(k) for k in registry.all_kinds()],
        failed=[
            {"entry_point": f.entry_point, "value": f.value, "error": mask_text(f.error)}
            for f in failures
        ],
    )


def error_document(error: BaseException) -> Document:
    """A command that ``error`` stopped before it produced its document."""
    return versioned(error={"message": mask_text(user_message(error))})
