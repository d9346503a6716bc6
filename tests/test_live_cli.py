"""``cocotui update --live`` as a user runs it: a fresh process, stopped with Ctrl-C (SIGINT).

Output lines are read by a thread into a queue; every wait has a timeout."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import update_helpers as h
from conftest import Workspace

TIMEOUT = 30.0


@pytest.fixture
def ws(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


def setup_app(ws: Workspace, files: dict[str, str | bytes]) -> None:
    h.write_files(ws, files)
    h.flow_app(ws)
    applied = ws.apply()
    assert applied.returncode == 0, applied.stderr


class LiveProcess:
    """``cocotui update APP --live ARGS`` in a subprocess; its stdout lines in a queue."""

    def __init__(self, ws: Workspace, *args: str, log: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cocotui", "update", str(ws.app), "--live", *args],
            env=ws.env(MEM_LOG=str(log)),
            cwd=ws.root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_line(self, predicate: Callable[[str], bool], what: str) -> str:
        while True:
            try:
                line = self.lines.get(timeout=TIMEOUT)
            except queue.Empty:
                raise AssertionError(f"timed out waiting for {what}; seen: {self.seen}") from None
            if line is None:
                raise AssertionError(f"the process ended before {what}; seen: {self.seen}")
            self.seen.append(line)
            if predicate(line):
                return line

    def interrupt(self) -> tuple[int, str]:
        """Ctrl-C; the exit code and stderr once it ended (the rest of stdout is in ``seen``)."""
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(TIMEOUT)
        self.reader.join(TIMEOUT)
        while (line := self.lines.get_nowait()) is not None:
            self.seen.append(line)
        assert self.proc.stderr is not None
        return code, self.proc.stderr.read()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(TIMEOUT)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def live_process() -> Iterator[Callable[..., LiveProcess]]:
    started: list[LiveProcess] = []

    def start(ws: Workspace, *args: str, log: Path) -> LiveProcess:
        process = LiveProcess(ws, *args, log=log)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


def event_of(line: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(line)
    assert parsed["format_version"] == 1
    return parsed


def is_event(name: str, **data: Any) -> Callable[[str], bool]:
    def check(line: str) -> bool:
        event = event_of(line)
        return event["event"] == name and all(event.get(k) == v for k, v in data.items())

    return check


def mutated(log: Path) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for line in log.read_text().splitlines() if log.exists() else []:
        call = json.loads(line)
        if call["method"] == "mutate":
            for _prepared, mutations in call["args"]:
                merged.update(mutations)
    return merged


def test_ctrl_c_ends_live_json_run_with_exit_0(
    ws: Workspace, tmp_path: Path, live_process: Callable[..., LiveProcess]
) -> None:
    log = tmp_path / "mem.jsonl"
    setup_app(ws, {"a.md": "a"})
    run = live_process(ws, "--json", "--workers", "1", log=log)

    ready = event_of(run.wait_line(is_event("live.ready"), "live.ready"))
    assert ready["watched"] == ["Docs.documents"] and ready["once"] == []
    h.write_files(ws, {"b.md": "b"})
    run.wait_line(is_event("live.pass_finished", reason="watch", added=1), "the watch pass")
    assert mutated(log) == {"a.md": {"content": "a"}, "b.md": {"content": "b"}}

    code, stderr = run.interrupt()
    assert code == 0, stderr
    events = [event_of(line) for line in run.seen]
    names = [e["event"] for e in events]
    assert names[0] == "run.started"
    assert names[-1] == "run.finished"
    started = [e for e in events if e["event"] == "live.pass_started"]
    assert [e["reason"] for e in started][:2] == ["initial", "watch"]
    assert started[1]["rows"] == 1 and started[1]["source"] == "Docs.documents"
    finished = [e for e in events if e["event"] == "live.pass_finished"]
    assert len(finished) == len(started)
    assert {"added", "updated", "deleted", "errors", "elapsed"} <= set(finished[0])
    assert events[-1]["stopped"] is True and events[-1]["errors"] == 0
    assert events[-1]["sources"]["Docs.documents"]["added"] == 2


def test_ctrl_c_ends_live_human_run_with_exit_0(
    ws: Workspace, tmp_path: Path, live_process: Callable[..., LiveProcess]
) -> None:
    log = tmp_path / "mem.jsonl"
    setup_app(ws, {"a.md": "a"})
    run = live_process(ws, "--workers", "1", log=log)

    run.wait_line(lambda line: line.startswith("live: watching Docs.documents"), "the ready line")
    (ws.source_dir / "a.md").unlink()
    line = run.wait_line(lambda line: "(watch)" in line, "the pass line")
    assert "0 added, 0 updated, 1 deleted, 0 errors" in line
    code, stderr = run.interrupt()
    assert code == 0, stderr
    assert "stopping at the next batch boundary" in stderr
    assert mutated(log) == {"a.md": None}


def test_ctrl_c_during_a_pass_stops_at_a_batch_boundary(
    ws: Workspace, tmp_path: Path, live_process: Callable[..., LiveProcess]
) -> None:
    """SIGINT while a watch pass is under way: the batch being applied is finished and
    recorded, the run ends with exit code 0, and a later run finishes the rest."""
    log = tmp_path / "mem.jsonl"
    setup_app(ws, {"a.md": "a"})
    run = live_process(ws, "--json", "--workers", "1", "--batch-rows", "1", log=log)
    run.wait_line(is_event("live.ready"), "live.ready")

    files = {f"f{i:03d}.md": f"v{i}" for i in range(300)}
    staging = ws.root / "staging"
    staging.mkdir()
    for name, content in files.items():
        (staging / name).write_text(content)
    # Moved in one by one: each file is one event, and one batch (--batch-rows 1).
    for name in files:
        os.replace(staging / name, ws.source_dir / name)
    run.wait_line(is_event("batch.applied"), "a batch of the watch pass")
    code, stderr = run.interrupt()
    assert code == 0, stderr
    events = [event_of(line) for line in run.seen]
    assert events[-1]["event"] == "run.finished" and events[-1]["stopped"] is True
    committed = sum(e["committed"] for e in events if e["event"] == "batch.applied")
    sent = {k for k in mutated(log) if k != "a.md"}
    assert len(sent) == committed - 1  # every row sent was recorded as done (a.md: initial)

    finish = ws.cli("update", ws.app, "--json", MEM_LOG=str(log))
    assert finish.returncode == 0, finish.stderr
    assert mutated(log) == {"a.md": {"content": "a"}} | {
        k: {"content": v} for k, v in files.items()
    }
    # The second run sent only what the first one had not recorded.
    [listed] = [
        json.loads(line)
        for line in finish.stdout.splitlines()
        if json.loads(line)["event"] == "source.listed"
    ]
    assert listed["to_process"] == len(files) - len(sent)


def test_terminal_status_line_per_source(capsys: pytest.CaptureFixture[str]) -> None:
    """On a terminal, live mode redraws one status line per source instead of scrolling."""
    from cocotui.cli.update_command import _LiveStatus, _Progress
    from cocotui.engine.counters import SourceCounters
    from cocotui.engine.events import LivePassFinished, LiveReady, PassReason

    status = _LiveStatus(_Progress())
    status(LiveReady(watched=("F.a", "F.b"), interval={}, once=()))
    counts = SourceCounters(added=1, updated=2, deleted=0, errors=0, done=3)
    for source in ("F.a", "F.b", "F.a"):
        status(
            LivePassFinished(source=source, reason=PassReason.WATCH, counters=counts, elapsed=0.002)
        )
    err = capsys.readouterr().err
    assert "live: watching F.a, F.b" in err
    assert "F.a: last pass" in err and "(watch, 3 rows in 2 ms, 1,500 rows/s)" in err
    assert "1 added, 2 updated, 0 deleted, 0 errors" in err
    # Each pass moves the cursor back over the lines drawn so far and redraws them in place.
    assert err.count("\x1b[1F") == 1 and err.count("\x1b[2F") == 1
    last = err.rsplit("\x1b[2F", 1)[1].splitlines()
    assert [line.split(":")[0] for line in last] == ["\x1b[2KF.a", "\x1b[2KF.b"]
