"""Every human line said about engine events, for the CLI and the TUI alike.

Each function returns text ready to show: secrets masked and control characters escaped here
(:mod:`cocotui.display`), so front ends print what they get.
"""

from __future__ import annotations

import time

from cocotui.display import display_line, display_text
from cocotui.engine.counters import SourceCounters, TargetCounters
from cocotui.engine.events import (
    ApplyChangeDone,
    ApplyChangeFailed,
    ApplyChangeStarted,
    Event,
    KeyDuplicate,
    LivePassFinished,
    LivePassStarted,
    LiveReady,
    RowFailed,
    RunFinished,
    RunStarted,
    SourceFailed,
    SourceFinished,
    SourceListed,
    TrackingLost,
    WatcherError,
)


def change_counts(counters: SourceCounters, *, unchanged: bool = True) -> str:
    """``N added, N updated, N deleted[, N unchanged], N errors``."""
    text = f"{counters.added} added, {counters.updated} updated, {counters.deleted} deleted, "
    if unchanged:
        text += f"{counters.unchanged} unchanged, "
    return text + f"{counters.errors} errors"


def target_counts(counters: TargetCounters) -> str:
    """``N inserted, N updated, N deleted, N unchanged, N errors`` of one target."""
    return (
        f"{counters.inserted} inserted, {counters.updated} updated, {counters.deleted} deleted, "
        f"{counters.unchanged} unchanged, {counters.errors} errors"
    )


def source_summary(event: SourceFinished, *, digits: int = 3) -> str:
    """The line a finished source pass ends with."""
    seconds = f"{event.counters.elapsed:.{digits}f}"
    return display_line(f"{event.source}: {change_counts(event.counters)} [{seconds}s]")


def progress_line(source: str, done: int, total: int, rate: float) -> str:
    return display_line(f"{source}: {done}/{total} rows ({rate:,.0f} rows/s)")


def row_failure(event: RowFailed) -> str:
    row, source = display_line(event.row), display_line(event.source)
    return f"error: row {row} of {source}: {display_text(event.error)}"


def source_failure(event: SourceFailed) -> str:
    return f"error: {display_line(event.source)}: {display_text(event.error)}"


def traceback_text(event: RowFailed | SourceFailed) -> str:
    return display_text(event.traceback)


def watcher_warning(event: WatcherError) -> str:
    return f"warning: file watcher: {display_text(event.error)}; re-listing"


def duplicate_warning(event: KeyDuplicate) -> str:
    if event.same_row:
        text = (
            f"key {event.key} of target {event.target} is collected more than once from "
            f"source row {event.rows[0]}; the last value collected is kept"
        )
    else:
        text = (
            f"key {event.key} of target {event.target} is produced by several source rows "
            f"({', '.join(event.rows)}); it is kept while any produces it"
        )
    return display_line(f"warning: {text}")


def lost_tracking_warning(event: TrackingLost, app: str) -> str:
    flows = " ".join(event.flows)
    return display_text(
        f"warning: row tracking ({event.tracking}) knows nothing of {', '.join(event.targets)}"
        f", whose setup is applied: it was removed or replaced, so tracking starts afresh. Every "
        f"row is exported again, but rows exported before whose source rows are gone now are "
        f"no longer known and stay in the target. To rebuild the target(s) without them: "
        f"`cocotui drop {app} {flows} --yes`, `cocotui apply {app} --yes`, "
        f"`cocotui update {app}`"
    )


def live_ready(event: LiveReady) -> str:
    text = f"live: watching {', '.join(event.watched) or 'no source'}"
    if event.once:
        text += f"; processed once (no change capture): {', '.join(event.once)}"
    return display_line(text + " — Ctrl-C stops at the next batch boundary")


def live_pass_status(event: LivePassFinished) -> str:
    """A source's status line on a terminal, redrawn after each live pass."""
    done = event.counters.done
    rate = done / event.elapsed if event.elapsed > 0 else 0.0
    return display_line(
        f"{event.source}: last pass {time.strftime('%H:%M:%S')} ({event.reason}, "
        f"{done} rows in {event.elapsed * 1000:.0f} ms, {rate:,.0f} rows/s): "
        f"{change_counts(event.counters, unchanged=False)}"
    )


def live_pass_line(event: LivePassFinished) -> str:
    """A live pass as a log line (without a terminal)."""
    return display_line(
        f"{event.source} ({event.reason}): {change_counts(event.counters, unchanged=False)} "
        f"[{event.elapsed:.3f}s]"
    )


def describe_event(event: Event) -> str:
    """One line per event, for the TUI's log and any text log."""
    return display_line(_describe(event))


def _describe(event: Event) -> str:
    match event:
        case RunStarted():
            text = f"update started: {len(event.targets)} target(s)"
            if event.skipped:
                text += f"; skipped (setup pending): {', '.join(event.skipped)}"
            return text
        case SourceListed():
            return (
                f"{event.source}: {event.rows} rows listed, {event.to_process} to process, "
                f"{event.gone} gone"
            )
        case SourceFinished():
            return (
                f"{event.source}: {change_counts(event.counters)} [{event.counters.elapsed:.2f}s]"
            )
        case RowFailed():
            return f"row {event.row} of {event.source} failed: {event.error}"
        case RunFinished():
            state = "stopped" if event.stopped else "finished"
            return f"update {state} in {event.elapsed:.2f}s with {event.errors} error(s)"
        case KeyDuplicate():
            return (
                f"key {event.key} of {event.target} is produced by several rows: "
                f"{', '.join(event.rows)}"
            )
        case TrackingLost():
            return (
                f"row tracking starts afresh for {', '.join(event.targets)} (its database was "
                f"removed or replaced): rows exported before whose source rows are gone stay in "
                f"the target"
            )
        case SourceFailed():
            return f"{event.source}: {event.error}"
        case LivePassStarted():
            rows = "a full listing" if event.rows is None else f"{event.rows} changed row(s)"
            return f"{event.source}: {event.reason} pass over {rows}"
        case LivePassFinished():
            return live_pass_line(event)
        case LiveReady():
            return f"live: watching {', '.join(event.watched) or 'no source'}" + (
                f"; processed once: {', '.join(event.once)}" if event.once else ""
            )
        case ApplyChangeStarted():
            return f"{event.target}: started"
        case ApplyChangeDone():
            return f"{event.target}: done"
        case ApplyChangeFailed():
            return f"{event.target}: failed — {event.error}"
    return f"{event.kind}: {event.data}"
