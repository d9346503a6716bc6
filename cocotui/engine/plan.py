"""Planning setup changes: for every desired and every stored target, one change with the
ordered stale versions to roll forward from, a compatibility verdict and a reason (see
docs/architecture.md, "Setup changes and exported rows")."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from cocotui import registry
from cocotui.engine.actions import Action as Action  # part of a Change: importable from here
from cocotui.engine.targets import DesiredTarget, compatibility, describe, worst
from cocotui.engine_object import dump
from cocotui.op import TargetStateCompatibility
from cocotui.state.owners import KindKey, Owner
from cocotui.state.setup_store import AppState, SetupRecord, TargetState
from cocotui.values.identity import canonical_json


@dataclasses.dataclass(frozen=True)
class Change:
    flow: str
    target: str
    kind: str
    key: Any
    action: Action
    #: The stale stored versions, in order; ``None`` means "may not exist yet".
    stale: tuple[SetupRecord | None, ...]
    current: SetupRecord | None
    description: str
    compatibility: TargetStateCompatibility | None
    reason: str
    #: Other apps whose setup states hold this target too (see cocotui.state.owners).
    shared_with: tuple[str, ...] = ()

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.flow, self.kind, canonical_json(self.key))

    @property
    def refusal(self) -> str | None:
        """Why this change may not be applied: it would create or change a target that other
        apps hold, whose rows it would overwrite or remove. A drop of such a target releases
        it instead (the connector is not called)."""
        if not self.shared_with or self.action not in (Action.CREATE, Action.UPDATE):
            return None
        return (
            f"target {self.name} ({self.description}) is also exported by "
            f"{'; '.join(self.shared_with)}. Two apps writing one target overwrite and delete "
            f"each other's rows: give this export another persistent key (another directory, "
            f"table, ...), or drop the target from the other app first"
        )

    @property
    def releases(self) -> bool:
        """A drop of a target other apps hold: forgotten here, its data left to them."""
        return self.action is Action.DROP and bool(self.shared_with)

    @property
    def name(self) -> str:
        return f"{self.flow}.{self.target}"

    @property
    def previous_states(self) -> list[Any]:
        """``previous`` for each ``apply_setup_change`` call, in order: stale versions whose
        connector-visible state differs from the desired one, de-duplicated."""
        seen: set[str] = set()
        result: list[Any] = []
        for record in self.stale:
            if record is not None and self.current is not None and record.same_state(self.current):
                continue  # only the field split changed: nothing for the connector to do
            ident = "<none>" if record is None else canonical_json(record.state)
            if ident not in seen:
                seen.add(ident)
                result.append(None if record is None else record.state)
        return result

    @property
    def before(self) -> Any:
        """The state shown as "before" in a diff: the last stored version, if any."""
        versions = [r for r in self.stale if r is not None]
        return versions[-1].state if versions else None


@dataclasses.dataclass(frozen=True)
class Plan:
    app: str
    fingerprint: str
    changes: tuple[Change, ...]

    @property
    def pending(self) -> list[Change]:
        return [c for c in self.changes if c.action is not Action.NONE]

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action is action)

    @property
    def summary(self) -> str:
        if not self.pending:
            return "No changes. Every target's setup is up to date."
        return (
            f"Plan: {self.count(Action.CREATE)} to create, {self.count(Action.UPDATE)} to "
            f"update, {self.count(Action.DROP)} to drop."
        )

    def select(self, names: Iterable[str]) -> list[Change]:
        """Pending changes matching target names (``target`` or ``flow.target``)."""
        wanted = set(names)
        unknown = wanted - {c.target for c in self.changes} - {c.name for c in self.changes}
        if unknown:
            raise KeyError(f"no target named {', '.join(sorted(unknown))} in this plan")
        return [c for c in self.pending if c.target in wanted or c.name in wanted]


def _fields_reason(desired: SetupRecord, stored: SetupRecord) -> list[str]:
    reasons = []
    if desired.key_fields != stored.key_fields:
        reasons.append(
            f"primary key fields changed: ({', '.join(stored.key_fields)}) → "
            f"({', '.join(desired.key_fields)}); rows will be exported again"
        )
    if desired.value_fields != stored.value_fields:
        reasons.append(
            f"value fields changed: ({', '.join(stored.value_fields)}) → "
            f"({', '.join(desired.value_fields)})"
        )
    return reasons


def _as_read_today(target: DesiredTarget, version: SetupRecord) -> SetupRecord:
    """``version`` as the connector's setup-state class reads it now. A field since removed
    from the class (a data-path setting moved out of the setup state) means nothing to the
    connector any more, so a stored state still holding it is not a setup change."""
    state = target.state_object(version.state)
    if state is version.state:
        return version
    return dataclasses.replace(version, state=dump(state, "stored setup state"))


def _stale(target: DesiredTarget, stored: TargetState | None) -> list[SetupRecord | None]:
    stale: list[SetupRecord | None] = []
    if stored is None or not stored.surely_exists:
        stale.append(None)
    for version in stored.versions if stored is not None else []:
        if not _as_read_today(target, version).same_as(target.record) and not any(
            s is not None and s.same_as(version) for s in stale
        ):
            stale.append(version)
    return stale


def _create_verdict(
    target: DesiredTarget, stored: TargetState | None, moved_from: str | None, tracked: int
) -> tuple[TargetStateCompatibility | None, str]:
    """What a create means for rows the target may already hold (``None``: it holds none, row
    tracking starts empty), and why it is created."""
    if stored is not None and stored.versions:
        # An interrupted drop or create: the target may still hold rows. What they mean for
        # the desired setup decides whether row tracking keeps them (apply.py).
        verdict = worst([compatibility(target, r) for r in stored.versions])
        if stored.committed is None:
            return verdict, "an earlier create did not finish; creating again"
        return verdict, "an earlier drop may have been applied; creating again"
    if tracked:
        # A drop forgets the target's rows, so rows still tracked were exported under a setup
        # the state no longer records (its file was removed): the target may hold them.
        # Keeping their keys lets the next update delete those no longer produced.
        return TargetStateCompatibility.PARTIALLY_COMPATIBLE, (
            f"the setup state does not record this target, but row tracking holds {tracked} "
            f"key(s) exported to it (was the state file removed?); they are kept"
        )
    return None, f"persistent key changed (was {moved_from})" if moved_from else "new"


def _desired_change(
    target: DesiredTarget, stored: TargetState | None, moved_from: str | None, tracked: int
) -> Change:
    stale = _stale(target, stored)
    verdict: TargetStateCompatibility | None = None
    reasons: list[str] = []
    if not stale:
        action = Action.NONE
        verdict = TargetStateCompatibility.COMPATIBLE
    elif None in stale:
        action = Action.CREATE
        verdict, reason = _create_verdict(target, stored, moved_from, tracked)
        reasons.append(reason)
    else:
        action = Action.UPDATE
        records = [r for r in stale if r is not None]
        verdict = worst([compatibility(target, r) for r in records])
        if any(not r.same_state(target.record) for r in records):
            reasons.append("spec changed")
        for record in records:
            reasons.extend(r for r in _fields_reason(target.record, record) if r not in reasons)
        if stored is not None and stored.staged:
            reasons.append("rolling forward an interrupted change")
    if stale and target.record.setup_by_user:
        reasons.append("setup_by_user: recorded only, the resource is left to you")
    return Change(
        flow=target.flow.name,
        target=target.export.name,
        kind=target.kind.kind,
        key=target.key,
        action=action,
        stale=tuple(stale),
        current=target.record,
        description=describe(target.kind, target.key),
        compatibility=verdict,
        reason="; ".join(reasons),
    )


def _drop_change(stored: TargetState, reason: str) -> Change:
    return Change(
        flow=stored.flow,
        target=stored.export,
        kind=stored.kind,
        key=stored.key,
        action=Action.DROP,
        stale=tuple(stored.versions),
        current=None,
        description=(
            describe(kind, stored.key)
            if (kind := registry.get(stored.kind)) is not None
            else stored.description or str(stored.key)
        ),
        compatibility=None,
        reason=reason,
    )


def _none_tracked(identity: tuple[str, str, str]) -> int:
    return 0


def compute_plan(
    app: str,
    fingerprint: str,
    desired: list[DesiredTarget],
    state: AppState,
    tracked_keys: Callable[[tuple[str, str, str]], int] = _none_tracked,
    owners: Mapping[KindKey, Sequence[Owner]] | None = None,
) -> Plan:
    """The setup plan that brings ``state`` to ``desired``. ``tracked_keys`` counts the keys row
    tracking holds for a target identity; it is asked only about targets the state lacks.
    ``owners`` are the other apps holding targets: creating or changing one of theirs is
    refused, dropping one only releases it."""
    wanted = {t.identity: t for t in desired}
    flows = {t.flow.name for t in desired}
    # Stored targets whose export still exists under another key: that key changed.
    by_export = {(t.flow, t.export): t for t in state.targets if t.identity not in wanted}
    changes: list[Change] = []
    for target in desired:
        old = by_export.get((target.flow.name, target.export.name))
        moved_from = canonical_json(old.key) if old is not None else None
        stored = state.find(target.identity)
        tracked = tracked_keys(target.identity) if stored is None or not stored.versions else 0
        changes.append(_desired_change(target, stored, moved_from, tracked))
    desired_exports = {(t.flow.name, t.export.name): t for t in desired}
    for stored in state.targets:
        if stored.identity in wanted:
            continue
        if stored.flow not in flows:
            reason = f"flow {stored.flow} was removed from the app"
        elif (stored.flow, stored.export) in desired_exports:
            new_key = desired_exports[(stored.flow, stored.export)].key
            reason = f"persistent key changed (now {canonical_json(new_key)})"
        else:
            reason = f"export {stored.export} was removed from flow {stored.flow}"
        if not stored.versions:
            reason += "; it was never created"
        changes.append(_drop_change(stored, reason))
    return Plan(app, fingerprint, _with_owners(changes, owners or {}))


def compute_drop_plan(
    app: str,
    fingerprint: str,
    state: AppState,
    flows: Iterable[str] | None,
    owners: Mapping[KindKey, Sequence[Owner]] | None = None,
) -> Plan:
    """Drops of every stored target of ``flows`` (all flows when ``None``)."""
    selected = None if flows is None else set(flows)
    changes = [
        _drop_change(t, "dropped on request")
        for t in state.targets
        if selected is None or t.flow in selected
    ]
    return Plan(app, fingerprint, _with_owners(changes, owners or {}))


def _with_owners(
    changes: list[Change], owners: Mapping[KindKey, Sequence[Owner]]
) -> tuple[Change, ...]:
    """``changes`` with the other apps holding each target, and what that means in the reason."""
    result = []
    for change in changes:
        shared = owners.get((change.kind, canonical_json(change.key)), ())
        if shared:
            names = "; ".join(str(o) for o in shared)
            note = {
                Action.DROP: (
                    f"also exported by {names}: released, not removed (its data is left to "
                    f"that app)"
                ),
                Action.NONE: (
                    f"also exported by {names}: the two apps overwrite and delete each other's "
                    f"rows; drop it from one of them"
                ),
            }.get(change.action, f"refused: also exported by {names}")
            reason = f"{change.reason}; {note}" if change.reason else note
            change = dataclasses.replace(
                change, shared_with=tuple(str(o) for o in shared), reason=reason
            )
        result.append(change)
    return tuple(result)


def spec_diff(before: Any, after: Any) -> list[tuple[str, Any, Any]]:
    """Field-level differences between two states: (path, before, after); missing = ``...``."""
    if isinstance(before, dict) and isinstance(after, dict):
        diffs: list[tuple[str, Any, Any]] = []
        for name in [*before, *(k for k in after if k not in before)]:
            old = before.get(name, ...)
            new = after.get(name, ...)
            if canonical_json(old if old is not ... else "<absent>") != canonical_json(
                new if new is not ... else "<absent>"
            ):
                diffs.append((str(name), old, new))
        return diffs
    if canonical_json(before) == canonical_json(after):
        return []
    return [("", before, after)]
