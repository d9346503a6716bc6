"""The terminal UI: targets with their setup status and live counters, plan review and
approval, and update runs in a background thread. It calls the same Engine API as the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import tomli_w
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.notifications import SeverityLevel
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Input,
    ProgressBar,
    RichLog,
    Sparkline,
    Static,
)
from textual.worker import Worker, WorkerState

from cocotui import config, registry
from cocotui.engine.events import StopToken
from cocotui.engine.facade import Engine, TargetStatus
from cocotui.engine.monitor import RunMonitor, Snapshot, describe_event
from cocotui.engine.plan import Action, Plan
from cocotui.engine.update import UpdateOptions, UpdateResult
from cocotui.state.setup_store import SetupRecord
from cocotui.tui.commands import CocotuiCommands
from cocotui.tui.help import HelpScreen
from cocotui.tui.plan_screen import PlanScreen
from cocotui.values import canonical_json, encode, to_plain_json

STATUS_LABELS = {
    "READY": Text("in sync", style="green"),
    "TO CREATE": Text("+ to create", style="bold green"),
    "TO UPDATE": Text("~ to update", style="bold yellow"),
    "TO DELETE": Text("- to drop", style="bold red"),
    "INTERRUPTED": Text("! interrupted", style="bold magenta"),
    "ORPHANED": Text("orphaned", style="dim red"),
}
COUNTER_COLUMNS = ("inserted", "updated", "deleted", "errors")
MAIN_SCREEN_ACTIONS = {"plan", "update", "stop", "drop", "filter", "refresh", "help"}


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _record_toml(record: SetupRecord | None) -> str:
    if record is None:
        return "(a drop)\n"
    doc = {
        "state": encode(record.state),
        "key_fields": list(record.key_fields),
        "value_fields": list(record.value_fields),
    }
    return tomli_w.dumps(doc)


class CocotuiApp(App[None]):
    """``cocotui [APP]``."""

    TITLE = "cocotui"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {CocotuiCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "plan", "Plan", id="plan"),
        Binding("u", "update", "Update", id="update"),
        Binding("s", "stop", "Stop", id="stop"),
        Binding("d", "drop", "Drop", id="drop"),
        Binding("slash", "filter", "Filter", key_display="/", id="filter"),
        Binding("r", "refresh", "Refresh", id="refresh"),
        Binding("f8", "save_svg", "Screenshot", id="screenshot"),
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(self, engine: Engine, *, read_only: bool = False) -> None:
        super().__init__()
        self.engine = engine
        self.read_only = read_only
        self.monitor = RunMonitor()
        self.stop_token: StopToken | None = None
        self.rows: list[TargetStatus] = []
        self.filter_text = ""
        self._shown: dict[tuple[str, str], str] = {}
        self._log_serial = 0
        self._quitting = False
        self.sub_title = f"{engine.app.name}" + ("  [read-only]" if read_only else "")
        saved_theme = config.load_config().get("theme")
        if isinstance(saved_theme, str) and saved_theme in self.available_themes:
            self.theme = saved_theme

    # -- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield Input(placeholder="filter targets (Esc to close)", id="filter")
                yield DataTable(id="targets", cursor_type="row", zebra_stripes=True)
                with Horizontal(id="run-bar"):
                    yield ProgressBar(id="progress", show_eta=False)
                    yield Static("idle", id="run-status")
                yield Input(placeholder="filter the event log", id="log-filter")
                yield RichLog(id="log", max_lines=2000, markup=False, wrap=True)
            with Vertical(id="right"):
                with VerticalScroll(id="detail-scroll"):
                    yield Static(id="detail")
                yield Static("mutations per second", id="spark-label")
                yield Sparkline([], id="spark")
                with VerticalScroll(id="connectors-scroll"):
                    yield Static(id="connectors")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#targets", DataTable)
        # Live counters come right after the status so they stay visible on narrow terminals.
        table.add_column("Target", key="name")
        table.add_column("Status", key="status", width=13)
        for column in COUNTER_COLUMNS:
            table.add_column(column.capitalize(), key=column, width=8)
        table.add_column("Rate/s", key="rate", width=7)
        table.add_column("Kind", key="kind")
        table.add_column("Description", key="description")
        table.add_column("Key", key="key")
        self.query_one("#filter", Input).display = False
        self.refresh_targets()
        self.show_connectors()
        self.set_interval(0.25, self.poll_run)
        table.focus()
        pending = [r for r in self.rows if r.action is not Action.NONE]
        if pending:
            self.notify(
                f"{len(pending)} setup change(s) pending: press p to review them",
                title="Setup",
            )

    # -- targets --------------------------------------------------------------------------------

    def refresh_targets(self) -> None:
        """Reload statuses from the engine and rebuild the table (the target set may change)."""
        try:
            self.rows = self.engine.status()
        except Exception as exc:
            self.notify(str(exc), title="Cannot read state", severity="error", markup=False)
            return
        table = self.query_one("#targets", DataTable)
        selected = self.selected_row()
        table.clear()
        self._shown.clear()
        snapshot = self.monitor.snapshot()
        for row in self.rows:
            if self.filter_text and self.filter_text.lower() not in (
                f"{row.name} {row.kind} {row.description}".lower()
            ):
                continue
            view = snapshot.targets.get(row.name)
            counters = [str(getattr(view, c)) if view else "" for c in COUNTER_COLUMNS]
            table.add_row(
                row.name,
                STATUS_LABELS[row.status],
                *counters,
                f"{view.rate:.0f}" if view else "",
                row.kind,
                Text(_clip(row.description, 40)),
                Text(_clip(canonical_json(row.key), 30)),
                key=row.name,
            )
        if selected is not None:
            for index, row in enumerate(self.visible_rows()):
                if row.name == selected.name:
                    table.move_cursor(row=index)
        self.show_detail()
        self.refresh_bindings()

    def visible_rows(self) -> list[TargetStatus]:
        text = self.filter_text.lower()
        return [
            r for r in self.rows if not text or text in f"{r.name} {r.kind} {r.description}".lower()
        ]

    def selected_row(self) -> TargetStatus | None:
        table = self.query_one("#targets", DataTable)
        rows = self.visible_rows()
        if not rows or table.row_count == 0:
            return None
        index = min(table.cursor_row, len(rows) - 1)
        return rows[index] if index >= 0 else None

    @on(DataTable.RowHighlighted, "#targets")
    def _on_highlight(self) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        row = self.selected_row()
        detail = self.query_one("#detail", Static)
        if row is None:
            detail.update("No target.")
            return
        text = Text()
        text.append(f"{row.name}\n", style="bold")
        text.append(f"{row.description}\n\n")
        text.append("kind ", style="dim")
        text.append(f"{row.kind}\n")
        text.append("status ", style="dim")
        text.append_text(STATUS_LABELS[row.status])
        text.append("\n\npersistent key\n", style="bold")
        text.append(json.dumps(to_plain_json(row.key), indent=2, ensure_ascii=False) + "\n")
        stored = row.stored
        text.append("\ncommitted setup\n", style="bold")
        text.append(_record_toml(stored.committed) if stored and stored.committed else "none\n")
        if stored and stored.staged:
            text.append("\nstaged (interrupted) changes\n", style="bold magenta")
            for record in stored.staged:
                text.append(_record_toml(record))
        if stored and stored.applied_at:
            text.append(f"\nlast applied {stored.applied_at}\n", style="dim")
        if stored and stored.last_error:
            text.append("\nlast error\n", style="bold red")
            text.append(stored.last_error + "\n")
        snapshot = self.monitor.snapshot()
        view = snapshot.targets.get(row.name)
        if view is not None:
            text.append("\nlast run\n", style="bold")
            text.append(
                f"{view.inserted} inserted, {view.updated} updated, {view.deleted} deleted, "
                f"{view.unchanged} unchanged, {view.errors} errors\n"
            )
            self.query_one("#spark", Sparkline).data = view.history
        detail.update(text)

    def show_connectors(self) -> None:
        failures = registry.load_plugins()
        text = Text()
        text.append("connector kinds\n", style="bold")
        for kind in registry.all_kinds():
            optional = ", ".join(kind.optional_methods) or "no optional methods"
            text.append(f"{kind.kind}", style="bold")
            text.append(f"  {kind.origin}\n", style="dim")
            text.append(f"  optional: {optional}\n")
        for failure in failures:
            text.append(f"{failure.entry_point} failed to load\n", style="bold red")
            text.append(failure.error.strip().splitlines()[-1] + "\n")
        self.query_one("#connectors", Static).update(text)

    # -- polling a run ----------------------------------------------------------------------------

    def poll_run(self) -> None:
        """Read the monitor's snapshot and redraw only the cells that changed."""
        self.monitor.tick()
        snapshot = self.monitor.snapshot()
        table = self.query_one("#targets", DataTable)
        visible = {r.name for r in self.visible_rows()}
        with self.batch_update():
            for name, view in snapshot.targets.items():
                if name not in visible:
                    continue
                cells = {c: str(getattr(view, c)) for c in COUNTER_COLUMNS}
                cells["rate"] = f"{view.rate:.0f}"
                for column, value in cells.items():
                    if self._shown.get((name, column)) != value:
                        self._shown[(name, column)] = value
                        table.update_cell(name, column, value)
            self._show_progress(snapshot)
            self._drain_log()
        row = self.selected_row()
        if row is not None and row.name in snapshot.targets:
            history = snapshot.targets[row.name].history
            spark = self.query_one("#spark", Sparkline)
            if history and list(spark.data or []) != history:
                spark.data = history

    def _show_progress(self, snapshot: Snapshot) -> None:
        bar = self.query_one("#progress", ProgressBar)
        status = self.query_one("#run-status", Static)
        if snapshot.total:
            bar.update(total=snapshot.total, progress=snapshot.done)
        rate = sum(v.rate for v in snapshot.targets.values())
        state = "running" if self.stop_token is not None else "idle"
        if self.stop_token is not None and self.stop_token.stopped:
            state = "stopping"
        status.update(
            f"{state}  {snapshot.done}/{snapshot.total} rows  {rate:.0f} mutations/s  "
            f"{snapshot.errors} errors"
        )

    def _drain_log(self) -> None:
        log = self.query_one("#log", RichLog)
        text = self.query_one("#log-filter", Input).value.lower()
        for serial, event in self.monitor.log_since(self._log_serial):
            self._log_serial = serial
            line = describe_event(event)
            if not text or text in line.lower():
                style = "red" if "failed" in event.name else ""
                log.write(Text(line, style=style))

    @on(Input.Changed, "#log-filter")
    def _refilter_log(self) -> None:
        self.query_one("#log", RichLog).clear()
        self._log_serial = 0
        self._drain_log()

    # -- actions --------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in MAIN_SCREEN_ACTIONS and len(self.screen_stack) > 1:
            return False  # another screen (plan, help) owns the keys
        running = self.stop_token is not None
        if action in ("update", "drop", "apply_plan") and self.read_only:
            return False
        if action in ("update", "drop", "plan") and running:
            return None
        if action == "stop":
            return running or None
        return True

    def action_plan(self) -> None:
        self.push_screen(
            PlanScreen(self.engine, self.engine.plan(), read_only=self.read_only),
            lambda _: self.refresh_targets(),
        )

    def action_drop(self) -> None:
        row = self.selected_row()
        if row is None or row.stored is None:
            self.notify("The selected target has no setup to drop.", severity="warning")
            return
        plan = self.engine.plan_drop([row.flow])
        only = tuple(c for c in plan.changes if c.name == row.name)
        self.push_screen(
            PlanScreen(self.engine, Plan(plan.app, plan.fingerprint, only), read_only=False),
            lambda _: self.refresh_targets(),
        )

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        self.refresh_targets()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one("#targets", DataTable).focus()

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", "")
        box = self.query_one("#filter", Input)
        if key == "escape" and box.has_focus:
            box.value = ""
            box.display = False
            self.query_one("#targets", DataTable).focus()

    def action_refresh(self) -> None:
        self.refresh_targets()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_save_svg(self) -> None:
        path = self.save_screenshot(path=str(Path.cwd()))
        self.notify(f"Screenshot saved to {path}", title="Screenshot", markup=False)

    def action_update(self) -> None:
        if self.read_only:
            self.notify("Read-only mode: updates are disabled.", severity="warning")
            return
        if self.stop_token is not None:
            return
        self.stop_token = StopToken()
        self.monitor = RunMonitor()
        self._log_serial = 0
        self._shown.clear()
        self.refresh_bindings()
        self.run_update(self.stop_token)

    def action_stop(self) -> None:
        if self.stop_token is not None:
            self.stop_token.stop()
            self.notify("Stopping at the next batch boundary…")

    async def action_quit(self) -> None:
        if self.stop_token is None:
            self.exit()
            return
        self._quitting = True
        self.stop_token.stop()
        self.notify("Stopping the running update before quitting…")

    @work(thread=True, exclusive=True, group="engine", exit_on_error=False)
    def run_update(self, stop: StopToken) -> UpdateResult:
        return self.engine.update(UpdateOptions(), self.monitor, stop)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "engine" or event.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            return
        self.stop_token = None
        self.poll_run()
        if event.state is WorkerState.SUCCESS:
            result = event.worker.result
            assert isinstance(result, UpdateResult)
            self.notify_result(result)
        elif event.state is WorkerState.ERROR:
            self.notify(
                str(event.worker.error), title="Update failed", severity="error", markup=False
            )
        if self._quitting:
            self.exit()
            return
        self.refresh_targets()

    def notify_result(self, result: UpdateResult) -> None:
        total = sum(c.inserted + c.updated + c.deleted for c in result.targets.values())
        message = f"{total} mutation(s) sent in {result.elapsed:.2f}s"
        if result.skipped:
            message += f"; skipped (setup pending): {', '.join(result.skipped)}"
        severity: SeverityLevel = (
            "error" if result.errors else "warning" if result.skipped else "information"
        )
        if result.errors:
            message += f"; {result.errors} row(s) failed"
        title = "Update stopped" if result.stopped else "Update finished"
        self.notify(message, title=title, severity=severity, markup=False)

    def watch_theme(self, theme: str) -> None:
        if self.is_running:
            config.save_setting("theme", theme)

    def select_target(self, name: str) -> None:
        """Move the cursor to target ``name`` (clearing a filter that hides it)."""
        if name not in {r.name for r in self.visible_rows()}:
            self.filter_text = ""
            self.query_one("#filter", Input).value = ""
            self.refresh_targets()
        for index, row in enumerate(self.visible_rows()):
            if row.name == name:
                table = self.query_one("#targets", DataTable)
                table.move_cursor(row=index)
                table.focus()
