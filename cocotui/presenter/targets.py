"""Targets (``ls``, the TUI's table and detail) and connector kinds as view models."""

from __future__ import annotations

from collections.abc import Iterable

from cocotui import registry
from cocotui.engine.facade import Engine, TargetStatus
from cocotui.engine.plan import Action
from cocotui.presenter import shown
from cocotui.presenter.models import (
    AppHeader,
    ConnectorFailure,
    ConnectorsView,
    ConnectorView,
    Section,
    TargetRow,
    Tone,
)


def present_targets(rows: Iterable[TargetStatus]) -> tuple[TargetRow, ...]:
    return tuple(present_target(r) for r in rows)


def present_target(row: TargetStatus) -> TargetRow:
    return TargetRow(
        target_id=row.name,
        flow_id=row.flow,
        name=shown.line(row.name),
        kind=shown.line(row.kind),
        status=row.status,
        description=shown.line(row.description),
        key=shown.key(row.key),
        pending=row.action is not Action.NONE,
        has_setup=row.stored is not None,
        setup=_setup_sections(row),
    )


def _setup_sections(row: TargetStatus) -> tuple[Section, ...]:
    sections = [Section("persistent key", shown.key_block(row.key) + "\n")]
    stored = row.stored
    if row.action is not Action.NONE and row.desired is not None:
        sections.append(Section("desired setup (pending)", shown.record(row.desired.record)))
    committed = stored.committed if stored else None
    sections.append(Section("committed setup", shown.record(committed) if committed else "none\n"))
    if stored and stored.staged:
        body = "".join(shown.record(r) for r in stored.staged)
        sections.append(Section("staged (interrupted) changes", body, Tone.INTERRUPTED))
    if stored and stored.applied_at:
        sections.append(Section(f"last applied {shown.line(stored.applied_at)}", "", Tone.DIM))
    if stored and stored.last_error:
        sections.append(
            Section("last setup error", shown.text(stored.last_error) + "\n", Tone.DANGER)
        )
    return tuple(sections)


def present_connectors() -> ConnectorsView:
    """The installed connector kinds, and the entry points that failed to load."""
    failures = registry.load_plugins()
    return ConnectorsView(
        kinds=tuple(
            ConnectorView(
                kind=shown.line(k.kind),
                origin=shown.line(k.origin),
                optional_methods=tuple(k.optional_methods),
            )
            for k in registry.all_kinds()
        ),
        failures=tuple(
            ConnectorFailure(
                entry_point=shown.line(f.entry_point),
                value=shown.line(f.value),
                error=shown.text(f.error),
            )
            for f in failures
        ),
    )


def present_app(engine: Engine) -> AppHeader:
    app = engine.app
    origin = f"file {app.file}" if app.file else f"module {app.ref}"
    return AppHeader(
        name=shown.line(app.name),
        origin=shown.line(origin),
        state_file=shown.line(str(engine.paths.setup_state)),
    )
