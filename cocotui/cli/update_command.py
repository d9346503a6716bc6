"""``cocotui update``: export changed rows to the app's targets."""

from __future__ import annotations

import argparse
import functools
import gc
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from cocotui.cli import render
from cocotui.cli.command import Command, add_app_arguments, add_json_argument, open_engine
from cocotui.cli.output import Output
from cocotui.display import display_line, mask_text
from cocotui.engine import event_text
from cocotui.engine.errors import MetricsError
from cocotui.engine.events import (
    BatchApplied,
    Event,
    KeyDuplicate,
    LivePassFinished,
    LiveReady,
    RowFailed,
    SourceFailed,
    SourceFinished,
    SourceListed,
    StopToken,
    TrackingLost,
    WatcherError,
)
from cocotui.engine.metrics import (
    DEFAULT_HOST,
    MetricsAddress,
    MetricsObserver,
    parse_address,
)
from cocotui.engine.run_options import (
    DEFAULT_BATCH_BYTES,
    DEFAULT_BATCH_ROWS,
    LiveOptions,
    UpdateOptions,
    UpdateResult,
)
from cocotui.engine.status import Origin

EXIT_ROW_ERRORS = 1
EXIT_SKIPPED = 2
#: Both end a run at the next batch boundary (a second one aborts).
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _metrics_address(text: str) -> MetricsAddress:
    try:
        return parse_address(text)
    except MetricsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


class UpdateCommand(Command):
    name = "update"
    summary = "Export what changed in the sources to every target whose setup is up to date."
    example = """
        Only rows whose source changed are evaluated, and only target rows whose value changed
        are sent. Targets with a pending setup change are skipped (see `cocotui plan`).
        Ctrl-C stops at the next batch boundary; nothing applied is lost.
        exit codes: 0 all done, 1 some rows failed (they are retried next run),
                    2 targets were skipped because their setup is pending.
        examples:
          cocotui update app.py
          cocotui update app.py --reexport --json > events.jsonl
          cocotui update app.py --live --metrics 9464
        """

    def configure(self, parser: argparse.ArgumentParser) -> None:
        add_app_arguments(parser)
        add_json_argument(parser)
        add_update_arguments(parser)

    def run(self, args: argparse.Namespace, output: Output) -> int:
        return cmd_update(args)


def add_update_arguments(update: argparse.ArgumentParser) -> None:
    update.add_argument(
        "--reexport", action="store_true", help="send every row again, changed or not"
    )
    update.add_argument(
        "--live",
        action="store_true",
        help="keep running: export file changes as they happen (and re-list sources that "
        "set refresh_interval) until Ctrl-C",
    )
    update.add_argument(
        "--metrics",
        metavar="ADDRESS",
        type=_metrics_address,
        help=f"serve Prometheus metrics at http://ADDRESS/metrics while the update runs; "
        f"ADDRESS is PORT (on {DEFAULT_HOST}, this machine only) or HOST:PORT (e.g. "
        f"0.0.0.0:9464 for every interface)",
    )
    update.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="processes evaluating transforms in parallel (default: up to the number of CPUs, "
        "started only when the time the first rows took says they pay off)",
    )
    update.add_argument(
        "--batch-rows",
        type=_positive,
        default=DEFAULT_BATCH_ROWS,
        help=f"source rows per mutate batch (default {DEFAULT_BATCH_ROWS})",
    )
    update.add_argument(
        "--batch-bytes",
        type=_positive,
        default=DEFAULT_BATCH_BYTES,
        help=f"source bytes per mutate batch (default {DEFAULT_BATCH_BYTES})",
    )


#: Said in live mode as they come, between the redrawn status lines.
_NOTICES = (RowFailed, SourceFailed, KeyDuplicate, WatcherError, TrackingLost)


class _Progress:
    """Human output: a live progress line on a terminal, a summary line per source."""

    def __init__(self, app: str = "APP") -> None:
        self.app = app
        self.tty = sys.stderr.isatty()
        self.last_draw = 0.0
        self.started = time.perf_counter()

    def __call__(self, event: Event) -> None:
        match event:
            case BatchApplied() if self.tty:
                now = time.perf_counter()
                if now - self.last_draw >= 0.1:
                    self.last_draw = now
                    rate = event.done / max(now - self.started, 1e-9)
                    line = event_text.progress_line(event.source, event.done, event.total, rate)
                    sys.stderr.write(f"\r\x1b[K{line}")
                    sys.stderr.flush()
            case SourceListed():
                self.started = time.perf_counter()
            case SourceFinished():
                self._clear_line()
                print(event_text.source_summary(event))
            case RowFailed() | SourceFailed():
                self._clear_line()
                message = (
                    event_text.row_failure(event)
                    if isinstance(event, RowFailed)
                    else event_text.source_failure(event)
                )
                print(message, file=sys.stderr)
                if event.traceback:
                    print(event_text.traceback_text(event), file=sys.stderr)
            case WatcherError():
                print(event_text.watcher_warning(event), file=sys.stderr)
            case TrackingLost():
                print(event_text.lost_tracking_warning(event, self.app), file=sys.stderr)
            case KeyDuplicate():
                print(event_text.duplicate_warning(event), file=sys.stderr)

    def _clear_line(self) -> None:
        if self.tty:
            sys.stderr.write("\r\x1b[K")


def _write_event(event: Event) -> None:
    data = event.to_json()
    for field in ("error", "traceback"):  # a user's messages may spell out a secret
        if isinstance(data.get(field), str):
            data[field] = mask_text(data[field])
    render.write_json({"format_version": render.FORMAT_VERSION, **data})


class _LiveStatus:
    """Live mode on a terminal: one status line per source, redrawn in place."""

    def __init__(self, progress: _Progress) -> None:
        self.progress = progress
        self.lines: dict[str, str] = {}
        self.drawn = 0

    def draw(self) -> None:
        out = sys.stderr
        if self.drawn:
            out.write(f"\x1b[{self.drawn}F")
        for line in self.lines.values():
            out.write(f"\x1b[2K{line}\n")
        self.drawn = len(self.lines)
        out.flush()

    def __call__(self, event: Event) -> None:
        if isinstance(event, LivePassFinished):
            self.lines[event.source] = event_text.live_pass_status(event)
            self.draw()
        elif isinstance(event, LiveReady):
            print(event_text.live_ready(event), file=sys.stderr)
            self.drawn = 0
            self.draw()
        elif isinstance(event, _NOTICES):
            self.drawn = 0
            self.progress(event)
            self.draw()


def _live_lines(event: Event, app: str = "APP") -> None:
    """Live mode without a terminal: one line per pass that changed something."""
    if isinstance(event, LivePassFinished):
        counts = event.counters
        if counts.added or counts.updated or counts.deleted or counts.errors:
            print(event_text.live_pass_line(event), flush=True)
    elif isinstance(event, LiveReady):
        print(event_text.live_ready(event), flush=True)
    elif isinstance(event, _NOTICES):
        _Progress(app)(event)


def _batching(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "reexport": args.reexport,
        "workers": args.workers,
        "batch_rows": args.batch_rows,
        "batch_bytes": args.batch_bytes,
    }


def _observer(args: argparse.Namespace) -> Callable[[Event], None]:
    """What the run tells on stdout / stderr."""
    if args.json:
        return _write_event
    if args.live:
        if sys.stderr.isatty():
            return _LiveStatus(_Progress(args.app))
        return functools.partial(_live_lines, app=args.app)
    return _Progress(args.app)


def _serve_metrics(address: MetricsAddress) -> MetricsObserver:
    metrics = MetricsObserver()
    metrics.serve(address)
    print(f"metrics: serving http://{metrics.bound}/metrics", file=sys.stderr, flush=True)
    return metrics


def cmd_update(args: argparse.Namespace) -> int:
    engine = open_engine(args)
    # What is loaded by now (cocotui, the app and their imports) lives as long as the process:
    # moved out of the cyclic collector's reach, so that the full collections a run's rows
    # trigger do not walk it every time.
    gc.freeze()
    stop = StopToken()

    def interrupt(signum: int, _frame: FrameType | None) -> None:
        if stop.stopped:
            raise KeyboardInterrupt
        stop.stop()
        again = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
        print(f"\nstopping at the next batch boundary ({again} again to abort)", file=sys.stderr)

    observer = _observer(args)
    metrics: MetricsObserver | None = None
    # SIGTERM (kill, systemd, docker stop) gets the same clean stop as Ctrl-C: what was
    # applied is recorded, nothing is cut mid-batch.
    previous = {sig: signal.signal(sig, interrupt) for sig in _STOP_SIGNALS}
    try:
        if args.metrics is not None:
            metrics = _serve_metrics(args.metrics)
            observer = _both(observer, metrics)
        if args.live:
            live = LiveOptions(**_batching(args))
            result = engine.run_live(live, observer, stop, origin=Origin.CLI)
        else:
            once = UpdateOptions(**_batching(args))
            result = engine.update(once, observer, stop, origin=Origin.CLI)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if metrics is not None:
            metrics.close()
        engine.close()
    return _finish(args, result)


def _both(
    first: Callable[[Event], None], second: Callable[[Event], None]
) -> Callable[[Event], None]:
    def observe(event: Event) -> None:
        first(event)
        second(event)

    return observe


def _finish(args: argparse.Namespace, result: UpdateResult) -> int:
    """Say what was left undone; the exit code."""
    if result.skipped and not args.json:
        print(
            f"skipped (setup change pending): {display_line(', '.join(result.skipped))}; "
            f"review it with `{render.command_line('plan', args)}` and apply it with "
            f"`{render.command_line('apply', args)}`",
            file=sys.stderr,
        )
    if result.stopped and not args.json and not args.live:
        print("stopped before the end; run update again to continue", file=sys.stderr)
    if result.errors:
        return EXIT_ROW_ERRORS
    if result.skipped or (result.stopped and not args.live):
        return EXIT_SKIPPED
    return 0
