"""``cocotui update``: export changed rows to the app's targets."""

from __future__ import annotations

import argparse
import functools
import os
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from cocotui.cli import render
from cocotui.cli.command import Command, add_app_arguments, add_json_argument, open_engine
from cocotui.cli.output import Output
from cocotui.display import display_line, display_text, mask_text
from cocotui.engine.events import Event, StopToken
from cocotui.engine.update import DEFAULT_BATCH_BYTES, DEFAULT_BATCH_ROWS, UpdateOptions

EXIT_ROW_ERRORS = 1
EXIT_SKIPPED = 2
#: Both end a run at the next batch boundary (a second one aborts).
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


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
        "--workers",
        type=_positive,
        default=os.cpu_count() or 1,
        help="processes evaluating transforms in parallel (default: the number of CPUs)",
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


class _Progress:
    """Human output: a live progress line on a terminal, a summary line per source."""

    def __init__(self, app: str = "APP") -> None:
        self.app = app
        self.tty = sys.stderr.isatty()
        self.last_draw = 0.0
        self.started = time.perf_counter()

    def __call__(self, event: Event) -> None:
        data = event.data
        if event.name == "batch.applied" and self.tty:
            now = time.perf_counter()
            if now - self.last_draw >= 0.1:
                self.last_draw = now
                rate = data["done"] / max(now - self.started, 1e-9)
                sys.stderr.write(
                    f"\r\x1b[K{display_line(data['source'])}: {data['done']}/{data['total']} rows "
                    f"({rate:,.0f} rows/s)"
                )
                sys.stderr.flush()
        elif event.name == "source.listed":
            self.started = time.perf_counter()
        elif event.name == "source.finished":
            if self.tty:
                sys.stderr.write("\r\x1b[K")
            print(
                f"{display_line(data['source'])}: {data['added']} added, "
                f"{data['updated']} updated, {data['deleted']} deleted, "
                f"{data['unchanged']} unchanged, "
                f"{data['errors']} errors [{data['elapsed']:.3f}s]"
            )
        elif event.name == "row.failed":
            if self.tty:
                sys.stderr.write("\r\x1b[K")
            row, source = display_line(data["row"]), display_line(data["source"])
            print(f"error: row {row} of {source}: {display_text(data['error'])}", file=sys.stderr)
            if data["traceback"]:
                print(display_text(data["traceback"]), file=sys.stderr)
        elif event.name == "source.failed":
            print(
                f"error: {display_line(data['source'])}: {display_text(data['error'])}",
                file=sys.stderr,
            )
            if data.get("traceback"):
                print(display_text(data["traceback"]), file=sys.stderr)
        elif event.name == "watcher.error":
            print(
                f"warning: file watcher: {display_text(data['error'])}; re-listing", file=sys.stderr
            )
        elif event.name == "tracking.lost":
            print(display_text(_lost_tracking_text(data, self.app)), file=sys.stderr)
        elif event.name == "key.duplicate":
            print(f"warning: {display_line(_duplicate_text(data))}", file=sys.stderr)


def _duplicate_text(data: dict[str, Any]) -> str:
    if data.get("same_row"):
        return (
            f"key {data['key']} of target {data['target']} is collected more than once from "
            f"source row {data['rows'][0]}; the last value collected is kept"
        )
    return (
        f"key {data['key']} of target {data['target']} is produced by several source rows "
        f"({', '.join(data['rows'])}); it is kept while any produces it"
    )


def _lost_tracking_text(data: dict[str, Any], app: str) -> str:
    flows = " ".join(data["flows"])
    return (
        f"warning: row tracking ({data['tracking']}) knows nothing of {', '.join(data['targets'])}"
        f", whose setup is applied: it was removed or replaced, so tracking starts afresh. Every "
        f"row is exported again, but rows exported before whose source rows are gone now are "
        f"no longer known and stay in the target. To rebuild the target(s) without them: "
        f"`cocotui drop {app} {flows} --yes`, `cocotui apply {app} --yes`, "
        f"`cocotui update {app}`"
    )


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
        data = event.data
        if event.name == "live.pass_finished":
            rate = data["done"] / data["elapsed"] if data["elapsed"] > 0 else 0.0
            self.lines[data["source"]] = display_line(
                f"{data['source']}: last pass {time.strftime('%H:%M:%S')} ({data['reason']}, "
                f"{data['done']} rows in {data['elapsed'] * 1000:.0f} ms, {rate:,.0f} rows/s): "
                f"{data['added']} added, {data['updated']} updated, {data['deleted']} deleted, "
                f"{data['errors']} errors"
            )
            self.draw()
        elif event.name == "live.ready":
            print(_ready_text(data), file=sys.stderr)
            self.drawn = 0
            self.draw()
        elif event.name in (
            "row.failed",
            "watcher.error",
            "source.failed",
            "key.duplicate",
            "tracking.lost",
        ):
            self.drawn = 0
            self.progress(event)
            self.draw()


def _ready_text(data: dict[str, Any]) -> str:
    text = f"live: watching {', '.join(data['watched']) or 'no source'}"
    if data["once"]:
        text += f"; processed once (no change capture): {', '.join(data['once'])}"
    return display_line(text + " — Ctrl-C stops at the next batch boundary")


def _live_lines(event: Event, app: str = "APP") -> None:
    """Live mode without a terminal: one line per pass that changed something."""
    data = event.data
    if event.name == "live.pass_finished":
        if data["added"] or data["updated"] or data["deleted"] or data["errors"]:
            print(
                f"{display_line(data['source'])} ({data['reason']}): {data['added']} added, "
                f"{data['updated']} updated, {data['deleted']} deleted, {data['errors']} errors "
                f"[{data['elapsed']:.3f}s]",
                flush=True,
            )
    elif event.name == "live.ready":
        print(_ready_text(data), flush=True)
    elif event.name in (
        "row.failed",
        "source.failed",
        "key.duplicate",
        "watcher.error",
        "tracking.lost",
    ):
        _Progress(app)(event)


def cmd_update(args: argparse.Namespace) -> int:
    engine = open_engine(args)
    stop = StopToken()

    def interrupt(signum: int, _frame: FrameType | None) -> None:
        if stop.stopped:
            raise KeyboardInterrupt
        stop.stop()
        again = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
        print(f"\nstopping at the next batch boundary ({again} again to abort)", file=sys.stderr)

    # SIGTERM (kill, systemd, docker stop) gets the same clean stop as Ctrl-C: what was
    # applied is recorded, nothing is cut mid-batch.
    previous = {sig: signal.signal(sig, interrupt) for sig in _STOP_SIGNALS}
    observer: Callable[[Event], None]
    if args.json:
        observer = _write_event
    elif args.live:
        observer = (
            _LiveStatus(_Progress(args.app))
            if sys.stderr.isatty()
            else functools.partial(_live_lines, app=args.app)
        )
    else:
        observer = _Progress(args.app)
    try:
        result = engine.update(
            UpdateOptions(
                reexport=args.reexport,
                workers=args.workers,
                batch_rows=args.batch_rows,
                batch_bytes=args.batch_bytes,
            ),
            observer,
            stop,
            live=args.live,
        )
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        engine.close()
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
