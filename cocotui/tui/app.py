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

from cocotui import config, presenter
from cocotui.engine.event_text import describe_event
from cocotui.engine.events import FAILURES, RowFailed, StopToken
from cocotui.engine.facade import Engine
from cocotui.engine.monitor import RunMode, RunMonitor, Snapshot
from cocotui.engine.plan import Plan
from cocotui.engine.status import Origin
from cocotui.engine.update import LiveOptions, UpdateOptions, UpdateResult
from cocotui.presenter import TargetRow
from cocotui.tui.attach import ExporterWatch
from cocotui.tui.commands import CocotuiCommands
from cocotui.tui.detail import connectors_text, setup_text, target_text
from cocotui.tui.help import HelpScreen
from cocotui.tui.plan_screen import PlanScreen
from cocotui.tui.query_screen import QueryScreen
from cocotui.tui.run_text import run_notice, status_line
from cocotui.tui.run_view import RunView
from cocotui.tui.screenshots import save_screenshot
from cocotui.tui.targets_table import STATUS_LABELS, TargetsTable

__all__ = ["STATUS_LABELS", "CocotuiApp"]

MAIN_SCREEN_ACTIONS = frozenset(
    ["plan", "update", "live", "stop", "drop", "filter", "refresh", "help", "query"]
)


class CocotuiApp(App[None]):
    """``cocotui [APP]``."""

    TITLE = "cocotui"
    #: Seconds between two reads of the run monitor (and redraws of what changed). Every read
    #: wakes the UI thread, which then competes with the engine thread for the GIL: at 4 reads
    #: a second the engine lost about twice as much throughput as at 2 on a loaded machine
    #: (benchmarks/bench_tui.py).
    POLL_INTERVAL = 0.5
    #: Seconds between two reads of the status store, when following another process's
    #: exporter (no engine thread here then to compete with).
    ATTACH_INTERVAL = 0.25
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
        self.run_mode: RunMode | None = None  # what the worker runs, while it runs
        self.rows: tuple[TargetRow, ...] = ()
        self.filter_text = ""
        self.exporter = ExporterWatch(engine)
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
        yield Static(id="sources")
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
        self.query_one("#sources", Static).display = False
        self.run_view = RunView.of(self)
        self.refresh_targets()
        self.show_connectors()
        self.set_interval(self.POLL_INTERVAL, self.poll_run)
        self.set_interval(self.ATTACH_INTERVAL, self.poll_exporter)
        self.poll_run()
        self.query_one("#log", RichLog).write(
            Text(
                "Events of update runs appear here: u starts an update, l live mode (exports "
                "changes as they happen), s stops at the next batch boundary. Targets with a "
                "pending setup change (p to review) are skipped.",
                style="dim",
            )
        )
        self.poll_exporter()  # an exporter already running elsewhere is said at once
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
        running = self.stop_token is not None or self.exporter.running
        snapshot = self.current_snapshot()
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
            flow = next((f for f in self.engine.app.flows if f.name == row.flow_id), None)
            handlers = flow.query_handlers if flow else {}
            detail.update(target_text(row, STATUS_LABELS[row.status], handlers))
            setup.update(setup_text(row, self.exporter.runs.get(row.target_id, [])))
            label.update(Text(f"{row.name}: mutations per second"))
        self.run_view.forget_detail()
        self._show_run_detail(row, self.current_snapshot())

    def _show_run_detail(self, row: TargetRow | None, snapshot: Snapshot) -> None:
        failure = self._row_failures.get(row.flow_id) if row is not None else None
        self.run_view.show_detail(row, snapshot, failure)

    def show_connectors(self) -> None:
        view = presenter.present_connectors()
        self.query_one("#connectors", Static).update(connectors_text(view))

    # -- polling a run ----------------------------------------------------------------------------

    def current_snapshot(self) -> Snapshot:
        """The run on screen: this process's, else the attached exporter's."""
        if self.stop_token is None and self.exporter.report is not None:
            return self.exporter.report.snapshot
        return self.monitor.snapshot()

    def poll_run(self) -> None:
        """Read the run's snapshot and redraw only the cells that changed."""
        try:
            table = self.query_one("#targets", TargetsTable)
        except NoMatches:
            return  # the app is shutting down: its widgets are gone, the timer not yet
        token = self.stop_token
        if token is not None:
            self.monitor.tick()  # rate windows advance while a run goes on
        snapshot = self.current_snapshot()
        running = token is not None or self.exporter.running
        if token is not None:
            status = status_line(snapshot, self.run_mode, stopping=token.stopped)
        else:  # idle, or following another process's exporter
            status = status_line(snapshot, snapshot.mode if running else None, local=False)
        with self.batch_update():
            table.show_counters(snapshot, running=running)
            self.run_view.show_progress(snapshot, status, running=running)
            headline = Text() if token else self.exporter.headline()
            self.run_view.show_sources(snapshot, headline, alive=running)
            self._drain_log()
        self._show_run_detail(self.selected_row(), snapshot)

    def poll_exporter(self) -> None:
        """Follow an exporter running in another process (while none runs here)."""
        if self.stop_token is not None:
            return
        runs = self.exporter.runs
        notice = self.exporter.poll()
        if notice is not None:
            severity: SeverityLevel = "error" if self.exporter.died else "information"
            self.notify(notice, title="Exporter", severity=severity, markup=False)
        try:
            if notice is not None:  # the log keeps what happened while nobody watched
                log_style = "red" if self.exporter.died else "bold"
                self.query_one("#log", RichLog).write(Text(notice, style=log_style))
            if self.exporter.runs is not runs:
                self.show_detail()  # a run ended: the targets' recent runs changed
        except NoMatches:
            return  # the app is shutting down (its widgets are gone, the timer not yet)
        if self.exporter.report is not None or notice is not None:
            self.poll_run()

    def _lock_free(self) -> bool:
        """False (and says who holds the lock) while another process's exporter runs."""
        holder = self.exporter.lock_holder()
        if holder is not None:
            self.notify(holder, title="State locked", severity="warning", markup=False)
        return holder is None

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
            PlanScreen(
                self.engine,
                self.engine.plan(),
                read_only=self.read_only,
                lock_holder=self.exporter.lock_holder,
            ),
            lambda _: self.refresh_targets(),
        )

    def action_drop(self) -> None:
        row = self.selected_row()
        if row is None or not row.has_setup:
            self.notify("The selected target has no setup to drop.", severity="warning")
            return
        if not self._lock_free():
            return
        plan = self.engine.plan_drop([row.flow_id])
        only = tuple(c for c in plan.changes if c.name == row.target_id)
        self.push_screen(
            PlanScreen(
                self.engine,
                Plan(plan.app, plan.fingerprint, only),
                read_only=False,
                lock_holder=self.exporter.lock_holder,
            ),
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
        message, saved = save_screenshot(lambda directory: self.save_screenshot(path=directory))
        severity: SeverityLevel = "information" if saved else "error"
        self.notify(message, title="Screenshot", severity=severity, markup=False)

    def action_update(self) -> None:
        self._start_run(RunMode.ONE_SHOT)

    def action_live(self) -> None:
        self._start_run(RunMode.LIVE)

    def _start_run(self, mode: RunMode) -> None:
        if self.read_only:
            self.notify("Read-only mode: updates are disabled.", severity="warning")
            return
        if self.stop_token is not None or not self._lock_free():
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
            return self.engine.run_live(options, self.monitor, stop, origin=Origin.TUI)
        return self.engine.update(self.update_options, self.monitor, stop, origin=Origin.TUI)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "engine" or event.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            return
        mode = self.run_mode or RunMode.ONE_SHOT
        self.stop_token = None
        self.run_mode = None
        gc.unfreeze()
        self.poll_run()
        if event.state is not WorkerState.CANCELLED:
            success = event.state is WorkerState.SUCCESS
            outcome = event.worker.result if success else event.worker.error
            assert isinstance(outcome, UpdateResult | BaseException)
            title, message, severity = run_notice(outcome, mode)
            self.notify(message, title=title, severity=severity, markup=False)
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
