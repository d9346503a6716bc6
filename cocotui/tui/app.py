"""The terminal UI: targets with their setup status and live counters, plan review and
approval, and update runs in a background thread. It calls the same Engine API as the CLI."""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.command import CommandPalette
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
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

from cocotui import config, presenter
from cocotui.display import display_line
from cocotui.engine.event_text import describe_event
from cocotui.engine.events import FAILURES, RowFailed, StopToken
from cocotui.engine.facade import Engine
from cocotui.engine.monitor import RunMonitor, Snapshot
from cocotui.engine.plan import Plan
from cocotui.engine.update import LiveOptions, UpdateOptions, UpdateResult
from cocotui.presenter import TargetRow
from cocotui.tui.commands import CocotuiCommands
from cocotui.tui.detail import connectors_text, setup_text, target_text
from cocotui.tui.help import HelpScreen
from cocotui.tui.plan_screen import PlanScreen
from cocotui.tui.query_screen import QueryScreen
from cocotui.tui.run_text import RunMode, result_notice, run_detail, status_line
from cocotui.tui.screenshots import screenshot_dir
from cocotui.tui.targets_table import STATUS_LABELS, TargetsTable

__all__ = ["STATUS_LABELS", "CocotuiApp"]

MAIN_SCREEN_ACTIONS = {
    *("plan", "update", "live", "stop", "drop", "filter", "refresh", "help", "query"),
}


class CocotuiApp(App[None]):
    """``cocotui [APP]``."""

    TITLE = "cocotui"
    #: Seconds between two reads of the run monitor (and redraws of what changed). Every read
    #: wakes the UI thread, which then competes with the engine thread for the GIL: at 4 reads
    #: a second the engine lost about twice as much throughput as at 2 on a loaded machine
    #: (benchmarks/bench_tui.py).
    POLL_INTERVAL = 0.5
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {CocotuiCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "plan", "Plan", id="plan"),
        Binding("u", "update", "Update", id="update"),
        Binding("l", "live", "Live", id="live"),
        Binding("s", "stop", "Stop", id="stop"),
        Binding("d", "drop", "Drop", id="drop"),
        Binding("slash", "filter", "Filter", key_display="/", id="filter"),
        Binding("r", "refresh", "Refresh", id="refresh"),
        Binding("k", "query", "Query", id="query", show=False),
        # A priority binding: it works in dialogs too (modal screens hide the app's others).
        Binding("f8", "save_svg", "Screenshot", id="screenshot", priority=True),
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(
        self,
        engine: Engine,
        *,
        read_only: bool = False,
        update_options: UpdateOptions | None = None,
        monitor_factory: Callable[[], RunMonitor] = RunMonitor,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.read_only = read_only
        self.update_options = update_options or UpdateOptions()
        self.monitor_factory = monitor_factory
        self.monitor = monitor_factory()
        self.stop_token: StopToken | None = None
        #: What the background worker runs, while it runs.
        self.run_mode: RunMode | None = None
        self.rows: tuple[TargetRow, ...] = ()
        self.filter_text = ""
        self._detail_shown: tuple[object, ...] = ()
        self._detail_run_lines = 0
        self._status_text = ""
        #: The latest ``row.failed`` event of each flow in the current run.
        self._row_failures: dict[str, RowFailed] = {}
        self._log_serial = 0
        self._quitting = False
        self.sub_title = presenter.present_app(engine).name + ("  [read-only]" if read_only else "")
        saved_theme = config.load_config().get("theme")
        if isinstance(saved_theme, str) and saved_theme in self.available_themes:
            self.theme = saved_theme

    # -- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # The targets table spans the whole width (it has many columns); below it the run
        # status, then the event log beside the selected target's detail.
        yield Header()
        yield Input(placeholder="filter targets (Esc to close)", id="filter")
        yield TargetsTable(id="targets", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="run-bar"):
            yield ProgressBar(id="progress", show_eta=False)
            yield Static("idle", id="run-status")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield Input(placeholder="filter the event log", id="log-filter")
                # min_width: RichLog renders at least 78 cells wide and cuts what its pane
                # cannot show; wrap at the pane's width instead.
                yield RichLog(id="log", max_lines=2000, markup=False, wrap=True, min_width=20)
            with Vertical(id="right"):
                with VerticalScroll(id="detail-scroll"):
                    yield Static(id="detail")
                    yield Static(id="detail-run")
                    yield Static(id="detail-setup")
                yield Static("mutations per second", id="spark-label")
                yield Sparkline([], id="spark")
                with VerticalScroll(id="connectors-scroll"):
                    yield Static(id="connectors")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#targets", TargetsTable)
        self.query_one("#filter", Input).display = False
        self.refresh_targets()
        self.show_connectors()
        self.set_interval(self.POLL_INTERVAL, self.poll_run)
        self.poll_run()
        self.query_one("#log", RichLog).write(
            Text(
                "Events of update runs appear here: u starts an update, l live mode (exports "
                "changes as they happen), s stops at the next batch boundary. Targets with a "
                "pending setup change (p to review) are skipped.",
                style="dim",
            )
        )
        table.focus()
        pending = [r for r in self.rows if r.pending]
        if pending:
            self.notify(
                f"{len(pending)} setup change(s) pending: press p to review them",
                title="Setup",
            )

    # -- targets --------------------------------------------------------------------------------

    def refresh_targets(self) -> None:
        """Reload statuses from the engine and rebuild the table (the target set may change)."""
        try:
            self.rows = presenter.present_targets(self.engine.status())
        except Exception as exc:
            message = presenter.error_message(exc)
            self.notify(message, title="Cannot read state", severity="error", markup=False)
            return
        self.render_table()

    def render_table(self) -> None:
        """Redraw every row from ``self.rows`` and the monitor (no engine call)."""
        table = self.query_one("#targets", TargetsTable)
        running = self.stop_token is not None
        snapshot = self.monitor.snapshot()
        selected = table.selected_id
        table.show_rows(
            self.rows, snapshot, visible=self.visible_rows(), running=running, selected=selected
        )
        self.show_detail()
        self.refresh_bindings()

    @on(TargetsTable.Resized)
    def _table_resized(self, event: TargetsTable.Resized) -> None:
        table = event.table
        if not table.is_attached:
            return
        if table.needs_refit(self.rows):
            self.render_table()

    def visible_rows(self) -> list[TargetRow]:
        text = self.filter_text.lower()
        return [
            r for r in self.rows if not text or text in f"{r.name} {r.kind} {r.description}".lower()
        ]

    def selected_row(self) -> TargetRow | None:
        selected = self.query_one("#targets", TargetsTable).selected_id
        return next((r for r in self.rows if r.target_id == selected), None)

    @on(DataTable.RowHighlighted, "#targets")
    def _on_highlight(self) -> None:
        self.show_detail()

    def _query_handlers_text(self, flow_name: str) -> Text:
        flow = next((f for f in self.engine.app.flows if f.name == flow_name), None)
        if flow is None or not flow.query_handlers:
            return Text()
        names = ", ".join(display_line(name) for name in flow.query_handlers)
        return Text.assemble("\n", ("query handlers ", "dim"), f"{names} (k to query)")

    def show_detail(self) -> None:
        """The selected target's detail: what it is, its last run, its stored setup."""
        row = self.selected_row()
        detail = self.query_one("#detail", Static)
        setup = self.query_one("#detail-setup", Static)
        label = self.query_one("#spark-label", Static)
        if row is None:
            detail.update("No target.")
            setup.update("")
            label.update("mutations per second")
        else:
            text = target_text(row, STATUS_LABELS[row.status])
            text.append_text(self._query_handlers_text(row.flow_id))
            detail.update(text)
            setup.update(setup_text(row))
            label.update(Text(f"{row.name}: mutations per second"))
        self._detail_shown = ()
        self._show_run_detail(row, self.monitor.snapshot())

    def _show_run_detail(self, row: TargetRow | None, snapshot: Snapshot) -> None:
        """The live part of the detail (the last run, its last failed row) and the sparkline.
        Called a few times a second during a run: it redraws only when something changed."""
        view = snapshot.targets.get(row.target_id) if row is not None else None
        failure = self._row_failures.get(row.flow_id) if row is not None else None
        shown = (
            (row.target_id if row else "", view.mutations, view.unchanged, view.errors)
            if view is not None
            else (row.target_id if row else "",)
        ) + (id(failure), len(view.history) if view is not None else 0)
        if shown == self._detail_shown:
            return
        self._detail_shown = shown
        text = run_detail(view, failure, "")
        run = self.query_one("#detail-run", Static)
        lines = len(text.plain.splitlines())
        # Same number of lines (counters moving on): no need to lay the pane out again.
        run.update(text, layout=lines != self._detail_run_lines)
        run.display = lines > 0  # an empty Static would still take a line
        self._detail_run_lines = lines
        history = view.history if view is not None else []
        spark = self.query_one("#spark", Sparkline)
        if list(spark.data or []) != history:  # new samples come once a second
            spark.data = history

    def show_connectors(self) -> None:
        view = presenter.present_connectors()
        self.query_one("#connectors", Static).update(connectors_text(view))

    # -- polling a run ----------------------------------------------------------------------------

    def poll_run(self) -> None:
        """Read the monitor's snapshot and redraw only the cells that changed."""
        try:
            table = self.query_one("#targets", TargetsTable)
        except NoMatches:
            return  # the app is shutting down: its widgets are gone, the timer not yet
        if self.stop_token is not None:
            self.monitor.tick()  # rate windows advance while a run goes on
        snapshot = self.monitor.snapshot()
        with self.batch_update():
            table.show_counters(snapshot, running=self.stop_token is not None)
            self._show_progress(snapshot)
            self._drain_log()
        self._show_run_detail(self.selected_row(), snapshot)

    def _show_progress(self, snapshot: Snapshot) -> None:
        bar = self.query_one("#progress", ProgressBar)
        running = self.stop_token is not None
        if snapshot.total:
            if (bar.total, bar.progress) != (snapshot.total, snapshot.done):
                bar.update(total=snapshot.total, progress=snapshot.done)
        elif not running:
            done = 1 if snapshot.log_serial else 0  # a finished run with no rows: 100 %
            if (bar.total, bar.progress) != (1, done):
                bar.update(total=1, progress=done)
        stopping = self.stop_token is not None and self.stop_token.stopped
        text = status_line(snapshot, self.run_mode, stopping=stopping)
        if text != self._status_text:
            self._status_text = text
            # One line of fixed height: no layout needed.
            self.query_one("#run-status", Static).update(text, layout=False)

    def _drain_log(self) -> None:
        log = self.query_one("#log", RichLog)
        text = self.query_one("#log-filter", Input).value.lower()
        for serial, event in self.monitor.log_since(self._log_serial):
            self._log_serial = serial
            if isinstance(event, RowFailed):
                self._row_failures[event.source.split(".", 1)[0]] = event
            line = describe_event(event)
            if not text or text in line.lower():
                style = "red" if isinstance(event, FAILURES) else ""
                log.write(Text(line, style=style))

    @on(Input.Changed, "#log-filter")
    def _refilter_log(self) -> None:
        self.query_one("#log", RichLog).clear()
        self._log_serial = 0
        self._drain_log()

    # -- actions --------------------------------------------------------------------------------

    def _main_screen_covered(self) -> bool:
        """True when another screen (plan, help, a modal) owns the keys. The command palette
        does not count: its entries run once it has closed."""
        return any(not isinstance(s, CommandPalette) for s in self.screen_stack[1:])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in MAIN_SCREEN_ACTIONS and self._main_screen_covered():
            return False
        running = self.stop_token is not None
        if action in ("update", "live", "drop", "apply_plan") and self.read_only:
            return False
        if action in ("update", "live", "drop", "plan") and running:
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
        if row is None or not row.has_setup:
            self.notify("The selected target has no setup to drop.", severity="warning")
            return
        plan = self.engine.plan_drop([row.flow_id])
        only = tuple(c for c in plan.changes if c.name == row.target_id)
        self.push_screen(
            PlanScreen(self.engine, Plan(plan.app, plan.fingerprint, only), read_only=False),
            lambda _: self.refresh_targets(),
        )

    def action_query(self) -> None:
        if not any(flow.query_handlers for flow in self.engine.app.flows):
            self.notify("The app's flows have no query handlers.", severity="warning")
            return
        self.push_screen(QueryScreen(self.engine.app.flows))

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        self.render_table()

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
        # One instance, kept: composing the help's Markdown again on every ``?`` is slow.
        if not self.is_screen_installed("help"):
            self.install_screen(HelpScreen(), "help")
        self.push_screen("help")

    def action_save_svg(self) -> None:
        directory = screenshot_dir()
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path = self.save_screenshot(path=str(directory))
        except OSError as exc:
            self.notify(
                presenter.message(f"cannot save in {directory}: {exc}"),
                title="Screenshot",
                severity="error",
                markup=False,
            )
            return
        self.notify(presenter.message(f"Saved to {path}"), title="Screenshot", markup=False)

    def action_update(self) -> None:
        self._start_run(RunMode.UPDATE)

    def action_live(self) -> None:
        self._start_run(RunMode.LIVE)

    def _start_run(self, mode: RunMode) -> None:
        if self.read_only:
            self.notify("Read-only mode: updates are disabled.", severity="warning")
            return
        if self.stop_token is not None:
            return
        self.stop_token = StopToken()
        self.run_mode = mode
        self.monitor = self.monitor_factory()
        self._log_serial = 0
        self._row_failures.clear()
        self.query_one("#targets", TargetsTable).forget_counters()
        # 0 % until the sources are listed and the number of rows is known (an indeterminate
        # bar would animate, taking CPU time from the engine thread while it lists).
        self.query_one("#progress", ProgressBar).update(total=100, progress=0)
        self.refresh_bindings()
        # The engine allocates a lot; Python's collector would scan the UI's many long-lived
        # objects each time. Set them aside for the run (about 10 % faster exports).
        gc.freeze()
        self.run_engine(self.stop_token, mode)

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
    def run_engine(self, stop: StopToken, mode: RunMode) -> UpdateResult:
        """The same engine calls as ``cocotui update [--live]``."""
        if mode is RunMode.LIVE:
            options = LiveOptions(**dataclasses.asdict(self.update_options))
            return self.engine.run_live(options, self.monitor, stop)
        return self.engine.update(self.update_options, self.monitor, stop)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "engine" or event.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            return
        mode = self.run_mode or RunMode.UPDATE
        self.stop_token = None
        self.run_mode = None
        gc.unfreeze()
        self.poll_run()
        if event.state is WorkerState.SUCCESS:
            result = event.worker.result
            assert isinstance(result, UpdateResult)
            title, message, severity = result_notice(result, mode)
            self.notify(message, title=title, severity=severity, markup=False)
        elif event.state is WorkerState.ERROR:
            self.notify(
                presenter.message(str(event.worker.error)),
                title="Live mode failed" if mode is RunMode.LIVE else "Update failed",
                severity="error",
                markup=False,
            )
        if self._quitting:
            self.exit()
            return
        self.refresh_targets()

    def watch_theme(self, theme: str) -> None:
        if self.is_running and (problem := config.save_setting("theme", theme)):
            self.notify(problem, severity="warning", markup=False)

    def select_target(self, name: str) -> None:
        """Move the cursor to target ``name`` (its ``target_id``; clearing a filter that hides
        it)."""
        table = self.query_one("#targets", TargetsTable)
        if name not in table.ids:
            self.filter_text = ""
            self.query_one("#filter", Input).value = ""
            self.render_table()
        if name in table.ids:
            table.move_cursor(row=table.ids.index(name))
        table.focus()
