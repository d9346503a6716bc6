"""What the TUI says about a run, local or attached: the status line under the targets table,
the live part of a target's detail, and the notification a finished run ends with."""

from __future__ import annotations

import enum

from rich.text import Text
from textual.notifications import SeverityLevel

from cocotui.display import display_line, display_text
from cocotui.engine.event_text import target_counts
from cocotui.engine.events import RowFailed
from cocotui.engine.monitor import Snapshot, TargetView
from cocotui.engine.update import UpdateResult


class RunMode(enum.StrEnum):
    """What the background worker runs: one update (``u``), or live mode (``l``)."""

    UPDATE = "update"
    LIVE = "live"


def status_line(snapshot: Snapshot, mode: RunMode | None, *, stopping: bool) -> str:
    """The one line beside the progress bar."""
    counts = f"{snapshot.done}/{snapshot.total} rows  {snapshot.errors} error(s)"
    if mode is None:
        return f"idle  {counts}"
    state = "stopping" if stopping else "running" if mode is RunMode.UPDATE else "live"
    rate = sum(v.rate for v in snapshot.targets.values())
    if mode is RunMode.LIVE:
        mutations = sum(v.mutations for v in snapshot.targets.values())
        return (
            f"{state}  {mutations} mutation(s)  {snapshot.errors} error(s)  "
            f"{rate:.0f} mutations/s  (s stops)"
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
        text.append(f"{display_line(failure.row)}: ")
        text.append(f"{display_text(failure.error)}\n")
        if failure.traceback:
            text.append(f"{display_text(failure.traceback)}\n", style="dim")
    elif last_error:
        text.append("\nlast error\n", style="bold red")
        text.append(f"{display_text(last_error)}\n")
    text.rstrip()
    return text


def result_notice(result: UpdateResult, mode: RunMode) -> tuple[str, str, SeverityLevel]:
    """(title, message, severity) of the notification that ends a run."""
    total = sum(c.inserted + c.updated + c.deleted for c in result.targets.values())
    message = f"{total} mutation(s) sent in {result.elapsed:.2f}s"
    if result.skipped:
        message += f"; skipped (setup pending): {', '.join(result.skipped)}"
    severity: SeverityLevel = (
        "error" if result.errors else "warning" if result.skipped else "information"
    )
    if result.errors:
        message += f"; {result.errors} row(s) failed"
    if mode is RunMode.LIVE:
        title = "Live mode stopped"
    else:
        title = "Update stopped" if result.stopped else "Update finished"
    return title, display_line(message), severity
