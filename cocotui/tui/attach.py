"""Following an exporter that runs in another process (``cocotui update --live`` in a service,
a container, a tmux pane): the status it publishes, read a few times a second through
``Engine.exporter()``, stands for a local run's monitor; and who holds the app's lock is said
before an action that needs it starts."""

from __future__ import annotations

import os
import socket

from rich.text import Text

from cocotui import presenter
from cocotui.engine.facade import Engine
from cocotui.engine.status import ExporterReport, Outcome
from cocotui.presenter.exporter import RunLine
from cocotui.tui.detail import TONE_STYLES


def _headline(report: ExporterReport) -> str:
    """``live export running (pid 12 on host, user ann, from the cli, since …)``: the words of
    ``cocotui status``."""
    return presenter.present_exporter(report).headline


def _is_this_process(report: ExporterReport) -> bool:
    return (report.exporter.pid, report.exporter.host) == (os.getpid(), socket.gethostname())


class ExporterWatch:
    """The exporter of another process this TUI follows: running, or dead without saying."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        #: ``None`` when no other process exports, or the last one ended cleanly.
        self.report: ExporterReport | None = None
        #: Each target's recent runs (by any process, this one included), as last published.
        self.runs: dict[str, list[RunLine]] = {}
        self._runs_of: tuple[float, float | None] | None = None
        self._headline = Text()
        self._unreadable = ""
        #: The status file's (mtime, size) at the last read that found no exporter running.
        self._settled: tuple[int, int] | None = None

    @property
    def running(self) -> bool:
        return self.report is not None and self.report.outcome is Outcome.RUNNING

    @property
    def died(self) -> bool:
        return self.report is not None and self.report.outcome is Outcome.DIED

    def poll(self) -> str | None:
        """Read the status store; returns what to tell the user when an exporter appeared,
        died or ended since the last read (or the store could not be read)."""
        before = self.report
        stamp = self._stamp()
        if stamp is not None and stamp == self._settled:
            return None  # unchanged since it said no run goes on: nothing to read again
        try:
            report = self.engine.exporter()
        except Exception as exc:  # an unreadable status file: said once, not fatal
            message = presenter.error_message(exc)
            self.report = None
            if message == self._unreadable:
                return None
            self._unreadable = message
            return f"Cannot read the exporter's status: {message}"
        self._unreadable = ""
        # A running exporter is read again even when its file did not change: only a read
        # tells whether it died.
        running = report is not None and report.outcome is Outcome.RUNNING
        self._settled = None if running else stamp
        self._read_runs(report)
        followed = report is not None and report.outcome in (Outcome.RUNNING, Outcome.DIED)
        if report is None or _is_this_process(report) or not followed:
            # No exporter elsewhere; or this process's own run, already on screen.
            self.report = None
            if before is not None and before.outcome is Outcome.RUNNING:
                return "Ended: " + _headline(before)
            return None
        self.report = report
        if before is None or (before.exporter, before.outcome) != (
            report.exporter,
            report.outcome,
        ):
            # The headline depends on nothing else: presented once, not at every read.
            view = presenter.present_exporter(report)
            self._headline = Text(view.headline, style=TONE_STYLES[view.tone])
            return view.headline
        return None

    def _stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.engine.paths.status.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def _read_runs(self, report: ExporterReport | None) -> None:
        """Present the runs again only when a run ended (they change only then)."""
        ended = (report.exporter.started_at, report.status.finished_at) if report else None
        if ended == self._runs_of:
            return
        self._runs_of = ended
        self.runs = {}
        for line in presenter.present_exporter(report).history:
            self.runs.setdefault(line.target, []).append(line)

    def headline(self) -> Text:
        """``live export running (pid …, since …)`` or ``… DIED …`` while following another
        process (empty when there is none), in the tone ``cocotui status`` gives it."""
        return self._headline if self.report is not None else Text()

    def lock_holder(self) -> str | None:
        """Who holds the app's lock, when another process's running exporter does."""
        self.poll()
        report = self.report
        if report is None or report.outcome is not Outcome.RUNNING:
            return None
        return (
            f"The app's state is locked by another process: {_headline(report)}. Stop it first "
            f"(Ctrl-C there, or `kill {report.exporter.pid}`); its progress is shown here "
            "meanwhile."
        )
