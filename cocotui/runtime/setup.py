"""``flow.setup()`` and ``flow.drop()`` from a program, with the CLI's engine and consent rules.

What a program applies without asking, like v0's ``flow.setup()``: creating targets, and
updating those whose connector judges the stored data compatible or partially compatible
with the new setup. What it refuses, because ``cocotui apply`` would show it and ask first:
dropping targets (an export removed, a persistent key changed), changes the connector judges
NOT compatible (the target's data would be rebuilt) and changes to targets other apps hold.
The safe changes are applied; the refused ones raise :class:`SetupConsentError`, naming them
and the command that applies them.

``flow.drop()`` is an explicit request to drop the flow's targets, as ``cocotui drop --yes``:
it is applied."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from cocotui.engine.facade import Engine
from cocotui.engine.plan import Action, Change, Plan
from cocotui.flow.builder import FlowDef, all_flows_defined
from cocotui.op import TargetStateCompatibility
from cocotui.runtime.binding import by_app, engine_for


class SetupConsentError(RuntimeError):
    """Setup changes a program may not apply without the user's review."""


def needs_consent(change: Change) -> str | None:
    """Why a program may not apply ``change`` by itself (``None``: it may)."""
    if change.refusal is not None:
        return change.refusal
    if change.action is Action.DROP:
        return f"drop ({change.reason})"
    if change.compatibility is TargetStateCompatibility.NOT_COMPATIBLE:
        return f"{change.action.value}, not compatible with the data it holds ({change.reason})"
    return None


def _report(changes: Sequence[Change], verb: str) -> None:
    for change in changes:
        reason = f": {change.reason}" if change.reason else ""
        print(f"{change.action.symbol} {change.name} ({change.description}) {verb}{reason}")


def _apply(engine: Engine, plan: Plan, changes: list[Change], report: bool, verb: str) -> None:
    if report:
        _report(changes, verb)
    if changes:
        engine.apply(plan, changes)


def setup_flows(definitions: Iterable[FlowDef], *, report_to_stdout: bool = False) -> None:
    refused: list[tuple[Change, str, str]] = []
    applied = 0
    for group in by_app(definitions).values():
        names = {d.name for d in group}
        with engine_for(group[0]) as engine:
            plan = engine.plan()
            mine = [c for c in plan.pending if c.flow in names]
            safe = [c for c in mine if needs_consent(c) is None]
            _apply(engine, plan, safe, report_to_stdout, "applied")
            applied += len(safe)
            refused += [(c, needs_consent(c) or "", engine.app.ref) for c in mine if c not in safe]
    if report_to_stdout and not refused and not applied:
        print("Setup is up to date.")
    if refused:
        lines = [f"  {c.name} ({c.description}): {why}" for c, why, _ in refused]
        apps = sorted({ref for _, _, ref in refused})
        raise SetupConsentError(
            "setup changes a program does not apply without review:\n"
            + "\n".join(lines)
            + f"\nreview and apply them with `cocotui apply {' '.join(apps)}`"
        )


def drop_flows(definitions: Iterable[FlowDef], *, report_to_stdout: bool = False) -> None:
    for group in by_app(definitions).values():
        with engine_for(group[0]) as engine:
            plan = engine.plan_drop([d.name for d in group])
            _apply(engine, plan, plan.pending, report_to_stdout, "dropped")


def setup_all_flows(report_to_stdout: bool = False) -> None:
    """``flow.setup()`` for every flow defined in this process."""
    setup_flows(all_flows_defined(), report_to_stdout=report_to_stdout)


def drop_all_flows(report_to_stdout: bool = False) -> None:
    """``flow.drop()`` for every flow defined in this process."""
    drop_flows(all_flows_defined(), report_to_stdout=report_to_stdout)
