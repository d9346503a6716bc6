"""Draws a run's snapshot, local or attached, into the main screen's run widgets: the progress
bar and status line, the sources panel, and the live part of the selected target's detail
(its counters, its last error, its sparkline). Called a few times a second: every part is
redrawn only when what it shows changed, and without a new layout when its height stays."""

from __future__ import annotations

from rich.text import Text
from textual.app import App
from textual.widgets import ProgressBar, Sparkline, Static

from cocotui.engine.events import RowFailed
from cocotui.engine.monitor import RunMode, Snapshot
from cocotui.presenter import TargetRow
from cocotui.tui.run_text import run_detail
from cocotui.tui.sources_panel import sources_text


class RunView:
    def __init__(
        self,
        progress: ProgressBar,
        status: Static,
        sources: Static,
        detail: Static,
        spark: Sparkline,
    ) -> None:
        self.progress = progress
        self.status = status
        self.sources = sources
        self.detail = detail
        self.spark = spark
        self._status_text = ""
        self._sources_text = Text()
        self._detail_shown: tuple[object, ...] = ()
        self._detail_lines = 0

    @classmethod
    def of(cls, app: App[None]) -> RunView:
        """The run widgets of ``app``'s main screen."""
        return cls(
            app.query_one("#progress", ProgressBar),
            app.query_one("#run-status", Static),
            app.query_one("#sources", Static),
            app.query_one("#detail-run", Static),
            app.query_one("#spark", Sparkline),
        )

    def show_progress(self, snapshot: Snapshot, status: str, *, running: bool) -> None:
        bar = self.progress
        if snapshot.total:
            if (bar.total, bar.progress) != (snapshot.total, snapshot.done):
                bar.update(total=snapshot.total, progress=snapshot.done)
        elif not running:
            done = 1 if snapshot.log_serial else 0  # a finished run with no rows: 100 %
            if (bar.total, bar.progress) != (1, done):
                bar.update(total=1, progress=done)
        if status != self._status_text:
            self._status_text = status
            # One line of fixed height: no layout needed.
            self.status.update(status, layout=False)

    def show_sources(self, snapshot: Snapshot, headline: Text, *, alive: bool) -> None:
        """The panel above the log: the ``headline`` of another process's exporter when one is
        followed, then the sources of a live run (a one-shot run's progress bar says
        enough), as they last were when the run is no longer ``alive``."""
        live = snapshot.mode is RunMode.LIVE
        sources = sources_text(snapshot, alive=alive) if live else Text()
        text = Text("\n").join(t for t in (headline, sources) if t.plain)
        if text == self._sources_text:
            return
        relayout = len(text.plain.splitlines()) != len(self._sources_text.plain.splitlines())
        self._sources_text = text
        self.sources.update(text, layout=relayout)
        self.sources.display = bool(text.plain)

    def forget_detail(self) -> None:
        """The selected target changed: its detail is drawn again."""
        self._detail_shown = ()

    def show_detail(
        self, row: TargetRow | None, snapshot: Snapshot, failure: RowFailed | None
    ) -> None:
        """The live part of ``row``'s detail: its counters and last error, and its
        sparkline."""
        view = snapshot.targets.get(row.target_id) if row is not None else None
        last_error = (view.last_error or "") if view is not None else ""
        shown = (
            (row.target_id if row else "", view.mutations, view.unchanged, view.errors)
            if view is not None
            else (row.target_id if row else "",)
        ) + (id(failure), last_error, len(view.history) if view is not None else 0)
        if shown == self._detail_shown:
            return
        self._detail_shown = shown
        text = run_detail(view, failure, last_error)
        lines = len(text.plain.splitlines())
        # Same number of lines (counters moving on): no need to lay the pane out again.
        self.detail.update(text, layout=lines != self._detail_lines)
        self.detail.display = lines > 0  # an empty Static would still take a line
        self._detail_lines = lines
        history = view.history if view is not None else []
        if list(self.spark.data or []) != history:  # new samples come once a second
            self.spark.data = history
