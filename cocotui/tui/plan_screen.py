"""Reviewing and approving setup changes, ``terraform plan`` style: toggle changes, confirm in a
modal that defaults to Cancel (a drop needs its target name typed), apply in a worker."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Header, Input, Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from cocotui import presenter
from cocotui.engine.errors import ApplyError, StalePlanError
from cocotui.engine.events import Event
from cocotui.engine.facade import Engine
from cocotui.engine.plan import Action, Change, Plan
from cocotui.presenter import present_change
from cocotui.tui.detail import change_detail, change_summary

__all__ = ["ConfirmModal", "PlanScreen", "change_detail", "change_summary"]

#: The order changes are listed in: grouped by action, drops last so they stand out.
GROUP_ORDER = {Action.CREATE: 0, Action.UPDATE: 1, Action.DROP: 2, Action.NONE: 3}


def grouped(changes: list[Change]) -> list[Change]:
    return sorted(changes, key=lambda c: GROUP_ORDER[c.action])


class ConfirmModal(ModalScreen[bool]):
    """Summarises what will run; Cancel is focused; drops need their name typed. ``y``
    confirms (once a drop's name is typed), ``n`` or ``Esc`` cancels; the buttons say so."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "Apply"),
        Binding("n,escape", "cancel", "Cancel"),
    ]

    def __init__(self, changes: list[Change]) -> None:
        super().__init__()
        self.changes = changes
        drops = [c for c in changes if c.action is Action.DROP]
        self.required = (
            drops[0].name if len(drops) == 1 else (f"drop {len(drops)}" if drops else "")
        )

    def compose(self) -> ComposeResult:
        counts = {a: sum(1 for c in self.changes if c.action is a) for a in Action}
        with Vertical(id="confirm"):
            yield Label("Apply these setup changes?", id="confirm-title")
            lines = Text()
            for change in grouped(self.changes):
                lines.append_text(change_summary(present_change(change)))
                lines.append("\n")
            lines.append(
                f"\nPlan: {counts[Action.CREATE]} to create, {counts[Action.UPDATE]} to update, "
                f"{counts[Action.DROP]} to drop.",
                "bold",
            )
            yield Static(lines, id="confirm-list")
            if self.required:
                prompt = Text("Dropping removes data. Type ")
                prompt.append(presenter.target_name(self.required), "bold")
                prompt.append(" to confirm:")
                yield Label(prompt, id="confirm-prompt")
                yield Input(placeholder=self.required, id="confirm-input")
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel (n/Esc)", id="cancel", variant="primary")
                yield Button(
                    "Apply (y)" if not self.required else "Apply (Enter)",
                    id="apply",
                    variant="error",
                    disabled=bool(self.required),
                )

    def on_mount(self) -> None:
        # A drop is confirmed by typing its name, so the name box gets the focus; otherwise
        # Cancel does: Enter cancels, ``y`` applies.
        if self.required:
            self.query_one("#confirm-input", Input).focus()
        else:
            self.query_one("#cancel", Button).focus()

    @on(Input.Changed, "#confirm-input")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#apply", Button).disabled = event.value.strip() != self.required

    @on(Input.Submitted, "#confirm-input")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.required:
            self.dismiss(True)

    @on(Button.Pressed, "#apply")
    def action_confirm(self) -> None:
        if self.query_one("#apply", Button).disabled:
            self.notify(
                f"Type {presenter.target_name(self.required)} to confirm the drop.",
                severity="warning",
                markup=False,
            )
            return
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.notify("Cancelled: nothing was applied.")
        self.dismiss(False)


class PlanScreen(Screen[None]):
    """``p``: the pending setup changes, each selectable for approval."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "apply_selected", "Apply selected", id="apply"),
        Binding("A", "apply_all", "Apply all", id="apply_all"),
        Binding("r", "replan", "Re-plan", id="replan"),
        Binding("escape,q", "close", "Back", id="back"),
    ]

    class Progress(Message):
        def __init__(self, event: Event) -> None:
            super().__init__()
            self.event = event

    def __init__(
        self,
        engine: Engine,
        plan: Plan,
        *,
        read_only: bool,
        lock_holder: Callable[[], str | None] = lambda: None,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.plan = plan
        self.read_only = read_only
        #: Who holds the app's lock, when another process's exporter does.
        self.lock_holder = lock_holder
        self.status: dict[str, presenter.ChangeState] = {}
        self.applying = False
        self._failure_shown = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="plan"):
            yield Static(id="plan-summary")
            yield SelectionList[int](id="changes")
            with VerticalScroll(id="change-detail-scroll"):
                yield Static(id="change-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.show_plan()
        self.query_one("#changes", SelectionList).focus()

    @property
    def pending(self) -> list[Change]:
        """The plan's pending changes in display order (the selection list's values index it)."""
        return grouped(self.plan.pending)

    def show_plan(self) -> None:
        changes = self.query_one("#changes", SelectionList)
        changes.clear_options()
        pending = self.pending
        for index, change in enumerate(pending):
            status = self.status.get(change.name, "")
            summary = change_summary(present_change(change), status)
            changes.add_option(Selection(summary, index, initial_state=True))
        if pending:
            changes.highlighted = 0
        summary = Text(self.plan.summary, "bold")
        if pending:
            summary.append("   space: toggle · a: apply selected · A: apply all · esc: back", "dim")
        if self.read_only:
            summary.append("   read-only: applying is disabled", "bold red")
        self.query_one("#plan-summary", Static).update(summary)
        self._show_detail()

    @on(SelectionList.SelectionHighlighted, "#changes")
    def _show_detail(self) -> None:
        changes = self.query_one("#changes", SelectionList)
        pending = self.pending
        index = changes.highlighted
        detail = self.query_one("#change-detail", Static)
        if index is None or index >= len(pending):
            detail.update("Nothing to review: every target's setup is up to date.")
            return
        detail.update(change_detail(present_change(pending[index])))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("apply_selected", "apply_all"):
            if self.read_only:
                return False
            return None if self.applying or not self.pending else True
        return True

    def selected_changes(self) -> list[Change]:
        chosen = set(self.query_one("#changes", SelectionList).selected)
        return [c for i, c in enumerate(self.pending) if i in chosen]

    def action_apply_selected(self) -> None:
        self._confirm(self.selected_changes())

    def action_apply_all(self) -> None:
        self._confirm(self.pending)

    def _confirm(self, changes: list[Change]) -> None:
        if not changes:
            self.notify("Select at least one change (space toggles).", severity="warning")
            return
        holder = self.lock_holder()
        if holder is not None:
            self.notify(holder, title="State locked", severity="warning", markup=False)
            return

        def decided(confirmed: bool | None) -> None:
            if confirmed:
                self.applying = True
                self._failure_shown = False
                self.refresh_bindings()
                self.run_apply(changes)

        self.app.push_screen(ConfirmModal(changes), decided)

    @work(thread=True, exclusive=True, group="apply", exit_on_error=False)
    def run_apply(self, changes: list[Change]) -> str:
        try:
            self.engine.apply(self.plan, changes, self._progress)
        except StalePlanError as exc:
            return f"stale:{exc}"
        except ApplyError as exc:
            return f"failed:{exc}"
        return "ok"

    def _progress(self, event: Event) -> None:
        self.post_message(self.Progress(event))  # thread-safe: called from the apply worker

    def on_plan_screen_progress(self, message: Progress) -> None:
        step = presenter.present_apply_event(message.event)
        if step is None:
            return
        self.status[step.target] = step.state
        changes = self.query_one("#changes", SelectionList)
        for index, change in enumerate(self.pending):
            if change.name == step.target:
                summary = change_summary(present_change(change), step.state)
                changes.replace_option_prompt_at_index(index, summary)
        if step.state is presenter.ChangeState.FAILED:
            self._failure_shown = True
            self.notify(
                f"{step.shown_target}: {step.error}",
                title="Apply failed",
                severity="error",
                markup=False,
            )

    def on_worker_state_changed(self, event: object) -> None:
        worker = getattr(event, "worker", None)
        if worker is None or worker.group != "apply" or not worker.is_finished:
            return
        self.applying = False
        outcome = worker.result or f"failed:{worker.error}"
        if outcome.startswith("stale:"):
            self.notify(
                presenter.message(outcome.removeprefix("stale:")) + " — the plan was refreshed.",
                title="Plan is stale",
                severity="warning",
                markup=False,
            )
        elif outcome == "ok":
            done = sum(1 for s in self.status.values() if s is presenter.ChangeState.DONE)
            self.notify(f"Applied {done} change(s).", title="Apply finished")
            # Back to the targets, where ``u`` exports to what was just set up.
            self.dismiss(None)
            return
        elif not self._failure_shown:
            # Failed before any connector call (the state is locked by another process, no
            # connector for the kind, ...): no change reported it, so say it here.
            self.notify(
                presenter.message(outcome.removeprefix("failed:")),
                title="Apply failed",
                severity="error",
                markup=False,
            )
        self.plan = self.engine.plan()
        self.status = {k: v for k, v in self.status.items() if v is presenter.ChangeState.FAILED}
        self.show_plan()
        self.refresh_bindings()

    def action_replan(self) -> None:
        self.plan = self.engine.plan()
        self.status.clear()
        self.show_plan()

    def action_close(self) -> None:
        if self.applying:
            self.notify("Wait for the apply to finish.", severity="warning")
            return
        self.dismiss(None)
