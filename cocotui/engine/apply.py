"""Applying approved setup changes: stage the intent durably, call the connector once per stale
version in order, adjust row tracking, commit. A crash at any point rolls forward next time."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence

from cocotui import registry
from cocotui.engine.errors import ApplyError, ConnectorCallError, StalePlanError
from cocotui.engine.events import ApplyChangeDone, ApplyChangeFailed, ApplyChangeStarted, Observer
from cocotui.engine.plan import Action, Change, Plan
from cocotui.engine.stored_keys import read_keys_as_today
from cocotui.engine.targets import call_connector
from cocotui.engine_object import load
from cocotui.op import ConnectorKind, TargetStateCompatibility
from cocotui.state.function_cache import FunctionCacheStore
from cocotui.state.setup_store import AppState, SetupRecord, SetupStore, TargetState
from cocotui.state.tracking import SqliteTracking


@dataclasses.dataclass
class ApplyReport:
    applied: list[Change]


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def apply_order(changes: Sequence[Change]) -> list[Change]:
    """Drops first, then creates and updates. When a persistent key changes but both keys name
    the same physical resource, dropping the old one first cannot destroy the new one
    (CocoIndex v0 creates first, which can)."""
    pending = [c for c in changes if c.action is not Action.NONE]
    return [c for c in pending if c.action is Action.DROP] + [
        c for c in pending if c.action is not Action.DROP
    ]


def _kind(change: Change) -> ConnectorKind:
    kind = registry.get(change.kind)
    if kind is None:
        raise ApplyError(
            change,
            f"target {change.name}: no connector is registered for kind {change.kind}; import "
            f"the module that defines it in the app, or install the package providing it",
            "",
        )
    return kind


def _stage(state: AppState, change: Change) -> TargetState:
    target = state.find(change.identity)
    if target is None:
        target = TargetState(change.flow, change.kind, change.key, change.target)
        state.targets.append(target)
    intent = change.current
    last = target.staged[-1] if target.staged else False
    already = (last is None and intent is None) or (
        isinstance(last, SetupRecord) and intent is not None and last.same_as(intent)
    )
    if not already:
        target.staged.append(intent)
    return target


def _call_connector(kind: ConnectorKind, change: Change) -> None:
    def state_object(state: object) -> object:
        return None if state is None else load(kind.setup_state_cls, state)

    if _set_up_by_user(change):
        return
    key = load(kind.persistent_key_type, change.key)
    current = None if change.current is None else change.current.state
    for previous in change.previous_states:
        call_connector(
            kind,
            "apply_setup_change",
            f"target {change.name}",
            key,
            state_object(previous),
            state_object(current),
        )


def _set_up_by_user(change: Change) -> bool:
    """``setup_by_user=True``: the user creates, changes and drops the resource, as in v0 (a
    drop leaves it too when every version it may be in was the user's)."""
    if change.current is not None:
        return change.current.setup_by_user
    versions = [r for r in change.stale if r is not None]
    return bool(versions) and all(r.setup_by_user for r in versions)


def _adjust_tracking(tracking: SqliteTracking, change: Change) -> None:
    """What the change means for rows already exported (docs/architecture.md, "Setup changes and
    exported rows"). A create with a verdict re-creates a target whose drop or create was
    interrupted: it may still hold its rows, so their keys are kept (values unknown): every row
    is sent again, and rows no longer produced are deleted (a no-op where they are gone)."""
    if (
        change.action is Action.DROP
        or (change.action is Action.CREATE and change.compatibility is None)
        or change.compatibility is TargetStateCompatibility.NOT_COMPATIBLE
    ):
        tracking.reset_target(change.identity)
    elif (
        change.action is Action.CREATE
        or change.compatibility is TargetStateCompatibility.PARTIALLY_COMPATIBLE
    ):
        tracking.invalidate_values(change.identity)


def apply_changes(
    store: SetupStore,
    tracking: SqliteTracking,
    plan: Plan,
    changes: Sequence[Change],
    observer: Observer,
) -> ApplyReport:
    """Apply ``changes`` (from ``plan``); the caller holds the writer lock."""
    if store.fingerprint() != plan.fingerprint:
        raise StalePlanError(
            "the setup state changed since this plan was made (another process applied "
            "changes); plan again and review the new plan"
        )
    refused = next((c for c in changes if c.refusal is not None), None)
    if refused is not None:
        raise ApplyError(refused, refused.refusal or "", "", staged=False)
    state = read_keys_as_today(store.load())  # as the plan read it
    applied: list[Change] = []
    for change in apply_order(changes):
        observer(ApplyChangeStarted(target=change.name, action=change.action.value))
        kind = _kind(change)
        target = _stage(state, change)
        store.save(state)
        try:
            if not change.releases:  # another app's target too: never removed from under it
                _call_connector(kind, change)
        except ConnectorCallError as exc:
            target.last_error = exc.connector_traceback
            store.save(state)
            observer(
                ApplyChangeFailed(
                    target=change.name, error=str(exc), traceback=exc.connector_traceback
                )
            )
            raise ApplyError(change, str(exc), exc.connector_traceback) from exc
        _adjust_tracking(tracking, change)
        if change.action is Action.DROP:
            state.targets.remove(target)
            if not any(t.flow == change.flow for t in state.targets):
                tracking.forget_flow_rows(change.flow)
                FunctionCacheStore(tracking).forget_flow(change.flow)
        else:
            target.committed = change.current
            target.staged = []
            target.export = change.target
            target.description = change.description
            target.applied_at = _now()
            target.last_error = None
        store.save(state)
        applied.append(change)
        observer(ApplyChangeDone(target=change.name, action=change.action.value))
    return ApplyReport(applied)
