"""What the TUI says about a run, local or attached: the status line under the targets table,
the live part of a target's detail, and the notification a finished run ends with."""

from __future__ import annotations

from rich.text import Text
from textual.notifications import SeverityLevel

from cocotui import presenter
from cocotui.engine.event_text import target_counts
from cocotui.engine.events import RowFailed
from cocotui.engine.monitor import RunMode, Snapshot, TargetView
from cocotui.engine.update import UpdateResult


def status_line(
    snapshot: Snapshot, mode: RunMode | None, *, stopping: bool = False, local: bool = True
) -> str:
    """The one line beside the progress bar (for a run of this process when ``local``, else
    for the exporter of another process this TUI follows)."""
    counts = f"{snapshot.done}/{snapshot.total} rows  {snapshot.errors} error(s)"
    if mode is None:
        return f"idle  {counts}"
    state = "stopping" if stopping else "running" if mode is RunMode.ONE_SHOT else "live"
    rate = sum(v.rate for v in snapshot.targets.values())
    if mode is RunMode.LIVE:
        mutations = sum(v.mutations for v in snapshot.targets.values())
        return (
            f"{state}  {mutations} mutation(s)  {snapshot.errors} error(s)  "
            f"{rate:.0f} mutations/s" + ("  (s stops)" if local else "")
        )
    if not snapshot.total:
        return f"{state}  listing the sources…"
    return f"{state}  {counts}  {rate:.0f} mutations/s"


def run_detail(view: TargetView | None, failure: RowFailed | None, last_error: str) -> Text:
    """A target's last run counters and its last row error (``failure`` when this process
    saw the event, else ``last_error`` as another process published it)."""
    text = Text()
    if view is not None:
        text.append("\nlast run\n", style="bold")
        text.append(f"{target_counts(view)}\n")
    if failure is not None:
        text.append("\nlast row error\n", style="bold red")
        text.append(f"{presenter.target_name(failure.row)}: ")
        text.append(f"{presenter.message(failure.error)}\n")
        if failure.traceback:
            text.append(f"{presenter.message(failure.traceback)}\n", style="dim")
    elif last_error:
        text.append("\nlast error\n", style="bold red")
        text.append(f"{presenter.message(last_error)}\n")
    text.rstrip()
    return text


def run_notice(
    outcome: UpdateResult | BaseException, mode: RunMode
) -> tuple[str, str, SeverityLevel]:
    """(title, message, severity) of the notification that ends a run: its result, or the
    error it stopped on."""
    live = mode is RunMode.LIVE
    if isinstance(outcome, BaseException):
        title = "Live mode failed" if live else "Update failed"
        return title, presenter.message(str(outcome)), "error"
    total = sum(c.inserted + c.updated + c.deleted for c in outcome.targets.values())
    message = f"{total} mutation(s) sent in {outcome.elapsed:.2f}s"
    if outcome.skipped:
        message += f"; skipped (setup pending): {', '.join(outcome.skipped)}"
    severity: SeverityLevel = (
        "error" if outcome.errors else "warning" if outcome.skipped else "information"
    )
    if outcome.errors:
        message += f"; {outcome.errors} row(s) failed"
    if live:
        title = "Live mode stopped"
    else:
        title = "Update stopped" if outcome.stopped else "Update finished"
    return title, presenter.message(message), severity
