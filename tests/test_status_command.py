"""``cocotui status`` against real exporters: ``cocotui update`` (one-shot and ``--live``) in
subprocesses, their status file polled with a deadline; killed, failing and finished runs."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import update_helpers as h
from conftest import Workspace

from cocotui.engine.status import ExporterReport, Outcome, read_exporter
from cocotui.state.paths import app_paths

TIMEOUT = 30.0


@pytest.fixture
def ws(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


def setup_app(ws: Workspace, files: dict[str, str]) -> None:
    h.write_files(ws, files)
    h.flow_app(ws)
    applied = ws.apply()
    assert applied.returncode == 0, applied.stderr


def exporter(ws: Workspace) -> ExporterReport | None:
    return read_exporter(app_paths(ws.state_name, ws.state_dir))


def wait_for(ws: Workspace, check: Callable[[ExporterReport], bool], what: str) -> ExporterReport:
    """Poll the app's status file until ``check`` holds."""
    deadline = time.monotonic() + TIMEOUT
    seen = None
    while time.monotonic() < deadline:
        seen = exporter(ws)
        if seen is not None and check(seen):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; last status: {seen}")


def status(ws: Workspace, *args: str) -> tuple[int, Any]:
    """``cocotui status APP --json``: exit code and document."""
    result = ws.cli("status", ws.app, "--json", *args)
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout)


@pytest.fixture
def start_live(ws: Workspace) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def start(*args: str, **env: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cocotui", "update", str(ws.app), "--live", *args],
            env=ws.env(**env),
            cwd=ws.root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(TIMEOUT)
        if proc.stderr is not None:
            proc.stderr.close()


def inserted(report: ExporterReport) -> int:
    return sum(t.inserted for t in report.snapshot.targets.values())


def test_no_run_yet_is_idle(ws: Workspace) -> None:
    setup_app(ws, {"a.md": "a"})
    code, document = status(ws)
    assert code == 0
    assert (document["status"], document["health"], document["exporter"]) == ("idle", "idle", None)


def test_a_live_exporter_publishes_as_files_change(
    ws: Workspace, start_live: Callable[..., subprocess.Popen[str]]
) -> None:
    setup_app(ws, {"a.md": "a"})
    proc = start_live("--workers", "1")

    report = wait_for(
        ws,
        lambda r: (
            r.outcome is Outcome.RUNNING
            and r.snapshot.sources.get("Docs.documents") is not None
            and r.snapshot.sources["Docs.documents"].phase.value == "watching"
        ),
        "the live exporter watching",
    )
    assert report.exporter.pid == proc.pid and report.exporter.mode == "live"
    assert report.exporter.origin.value == "cli" and inserted(report) == 1
    h.write_files(ws, {"b.md": "b"})
    report = wait_for(ws, lambda r: inserted(r) == 2, "the new file counted")
    source = report.snapshot.sources["Docs.documents"]
    assert source.last_pass is not None and source.last_pass.reason is not None
    assert source.last_pass.reason.value == "watch" and source.lag is not None

    code, document = status(ws)
    assert code == 0 and document["status"] == "running" and document["health"] == "healthy"
    assert document["run"]["targets"]["Docs.t"]["inserted"] == 2
    assert document["exporter"]["pid"] == proc.pid

    proc.send_signal(signal.SIGINT)
    assert proc.wait(TIMEOUT) == 0
    code, document = status(ws)
    assert (code, document["status"], document["health"]) == (0, "stopped", "idle")
    [run] = document["history"]["Docs.t"]
    assert (run["inserted"], run["outcome"], run["mode"]) == (2, "stopped", "live")
    assert f"pid {proc.pid} (cli)" in run["by"]


def test_a_killed_live_exporter_is_reported_died(
    ws: Workspace, start_live: Callable[..., subprocess.Popen[str]]
) -> None:
    setup_app(ws, {"a.md": "a"})
    proc = start_live("--workers", "1")
    wait_for(ws, lambda r: r.outcome is Outcome.RUNNING and inserted(r) == 1, "the first pass")

    proc.send_signal(signal.SIGKILL)
    proc.wait(TIMEOUT)
    code, document = status(ws)
    assert (code, document["status"], document["health"]) == (4, "died", "died")
    text = ws.cli("status", ws.app)
    assert text.returncode == 4 and "DIED" in text.stdout and "running" not in text.stdout

    # The next run keeps the dead one in the targets' history.
    assert ws.cli("update", ws.app).returncode == 0
    code, document = status(ws)
    assert code == 0
    assert [r["outcome"] for r in document["history"]["Docs.t"]] == ["died", "finished"]


def test_a_running_exporter_with_errors_exits_3(
    ws: Workspace, start_live: Callable[..., subprocess.Popen[str]]
) -> None:
    setup_app(ws, {"a.md": "a", "bad.md": "b"})
    start_live("--workers", "1", "--batch-rows", "1", MEM_FAIL_KEYS="bad.md")
    wait_for(ws, lambda r: r.snapshot.errors == 1, "the failing row")

    code, document = status(ws)
    assert (code, document["status"], document["health"]) == (3, "running", "errors")
    target = document["run"]["targets"]["Docs.t"]
    assert target["errors"] == 1 and "cannot write key 'bad.md'" in target["last_error"]
    text = ws.cli("status", ws.app)
    assert text.returncode == 3 and "cannot write key" in text.stdout


def test_a_one_shot_update_killed_mid_run_is_reported_died(ws: Workspace) -> None:
    setup_app(ws, {f"f{i}.md": str(i) for i in range(3)})
    killed = ws.cli("update", ws.app, "--batch-rows", "1", MEM_KILL_AFTER_MUTATE="2")
    assert killed.returncode == -signal.SIGKILL

    report = exporter(ws)
    assert report is not None and report.outcome is Outcome.DIED
    assert report.exporter.mode == "one-shot"
    code, _ = status(ws)
    assert code == 4


def test_a_finished_update_is_idle_with_its_run_in_history(ws: Workspace) -> None:
    setup_app(ws, {"a.md": "a", "b.md": "b"})
    assert ws.cli("update", ws.app).returncode == 0
    code, document = status(ws)
    assert (code, document["status"], document["health"]) == (0, "finished", "idle")
    assert set(document) == {
        "format_version",
        "app",
        "health",
        "status",
        "exporter",
        "heartbeat",
        "finished_at",
        "error",
        "run",
        "history",
    }
    assert set(document["exporter"]) == {"pid", "host", "user", "started_at", "mode", "origin"}
    assert document["run"]["running"] is False
    assert document["run"]["sources"]["Docs.documents"]["phase"] == "finished"
    [run] = document["history"]["Docs.t"]
    assert (run["inserted"], run["errors"], run["outcome"]) == (2, 0, "finished")


def test_watch_redraws_until_ctrl_c(ws: Workspace) -> None:
    setup_app(ws, {"a.md": "a"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "cocotui", "status", str(ws.app), "--watch", "--json"],
        env=ws.env(),
        cwd=ws.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout or ()])
    reader.start()
    try:
        first = json.loads(lines.get(timeout=TIMEOUT))
        assert first["status"] == "idle"
        assert ws.cli("update", ws.app).returncode == 0
        second = json.loads(lines.get(timeout=TIMEOUT))  # redrawn once the update is published
        assert second["status"] in ("running", "finished")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(TIMEOUT)
        reader.join(TIMEOUT)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_the_status_file_is_private(ws: Workspace) -> None:
    setup_app(ws, {"a.md": "a"})
    assert ws.cli("update", ws.app).returncode == 0
    path: Path = app_paths(ws.state_name, ws.state_dir).status
    assert path.stat().st_mode & 0o777 == 0o600


def test_the_readme_documents_every_json_field(ws: Workspace) -> None:
    setup_app(ws, {"a.md": "a"})
    assert ws.cli("update", ws.app).returncode == 0
    _, document = status(ws)
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    start = readme.index("- `status` (with `--watch`")
    documented = readme[start : readme.index("\n- ", start + 1)]
    run = document["run"]
    fields = {
        *document,
        *document["exporter"],
        *run,
        *run["sources"]["Docs.documents"],
        *run["sources"]["Docs.documents"]["last_pass"],
        *run["targets"]["Docs.t"],
        *document["history"]["Docs.t"][0],
    } - {"format_version"}
    missing = {name for name in fields if f"`{name}`" not in documented}
    assert not missing
