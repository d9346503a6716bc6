"""Concurrency (issue 7, item 4): one writer per app. While one front end writes an app's state
(the TUI running an update, ``update --live``, an ``apply`` or an ``update`` in the middle of a
slow connector call), another one that would write fails fast with the lock message naming the
holder, reading commands keep working, and nothing is corrupted: the writer finishes as if
alone, and the next run has nothing left to do."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from conftest import CliResult, Workspace, base_env, export, run_cli
from snapshot import SIZE, StillMonitor, cells, recorder, write_recording_app

from cocotui.engine.facade import Engine
from cocotui.engine.update import UpdateOptions
from cocotui.tui.app import CocotuiApp

#: A second writer must give up at once: well under this (seconds), process start included.
FAST = 10.0

LOCKED = "is being written by"


def assert_locked_out(result: CliResult, holder_pid: int, elapsed: float) -> None:
    assert result.returncode == 1, result
    assert result.stderr.startswith("error: "), result.stderr
    # The holder is named: its pid, and what it is doing when its status says so.
    assert LOCKED in result.stderr, result.stderr
    assert re.search(rf"\(pid {holder_pid}\b", result.stderr), result.stderr
    assert "Traceback" not in result.stderr
    assert elapsed < FAST, elapsed


def timed(function: object, *args: object, **kwargs: object) -> tuple[CliResult, float]:
    started = time.monotonic()
    result = function(*args, **kwargs)  # type: ignore[operator]
    return result, time.monotonic() - started


# ---------------------------------------------------------------------------------------------
# The TUI and the CLI on one app


def test_tui_updating_and_the_cli_at_once(dirs: dict[str, Path]) -> None:
    app_path = write_recording_app(dirs["app"], dirs["source"])
    for i in range(6):
        (dirs["source"] / f"doc{i}.txt").write_text(f"document {i}\n")
    engine = Engine.open(str(app_path))
    engine.apply(engine.plan(), engine.plan().select(["first"]))  # "second" stays pending
    module = recorder()
    module.CALLS.clear()
    module.GATE = threading.Event()  # mutate waits: the UI's update is slow
    env = base_env(COCOTUI_STATE_DIR=str(dirs["state"]))
    state_file = engine.paths.setup_state
    app = CocotuiApp(
        engine, monitor_factory=StillMonitor, update_options=UpdateOptions(batch_rows=2)
    )

    def cli(*args: str) -> tuple[CliResult, float]:
        return timed(run_cli, *args, env=env, cwd=dirs["app"])

    async def scenario() -> None:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.press("u")
            assert await asyncio.to_thread(module.IN_MUTATE.wait, 10)
            state_before = state_file.read_bytes()
            for args in (
                ("apply", str(app_path), "--yes"),
                ("update", str(app_path)),
                ("drop", str(app_path), "--yes"),
                ("update", str(app_path), "--live"),
            ):
                result, elapsed = await asyncio.to_thread(cli, *args)
                assert_locked_out(result, os.getpid(), elapsed)
            # Reading is not writing.
            listing, _ = await asyncio.to_thread(cli, "ls", str(app_path), "--json")
            assert listing.returncode == 0, listing.stderr
            statuses = {t["target"]: t["status"] for t in json.loads(listing.stdout)["targets"]}
            assert statuses == {"first": "READY", "second": "TO CREATE"}
            assert state_file.read_bytes() == state_before
            module.GATE.set()
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            app.poll_run()
            assert cells(app)["Docs.first"]["inserted"] == "6"

    asyncio.run(asyncio.wait_for(scenario(), timeout=60))
    module.GATE = None
    sent = {key for name, target, key, _ in module.CALLS if name == "mutate"}
    assert sent == {f"doc{i}.txt" for i in range(6)}
    engine.close()
    # Nothing was half done: the CLI now applies the pending create, and an update sends only
    # the new target's rows.
    assert run_cli("apply", app_path, "--yes", env=env, cwd=dirs["app"]).returncode == 0
    result = run_cli("update", app_path, "--json", "--workers", "1", env=env, cwd=dirs["app"])
    assert result.returncode == 0, result.stderr
    finished = [json.loads(line) for line in result.stdout.splitlines()][-1]
    counters = finished["targets"]
    assert counters["Docs.first"]["inserted"] == counters["Docs.first"]["updated"] == 0
    assert counters["Docs.second"]["inserted"] == 6


# ---------------------------------------------------------------------------------------------
# CLI against CLI: a connector that waits for the test's go-ahead

GATED = """
import os
import time
from pathlib import Path

class GatedTarget(cocoindex.op.TargetSpec):
    resource: str
    version: int = 1

def _gate(method):
    gate = os.environ.get("GATE_DIR")
    if not gate or method not in os.environ.get("GATED", ""):
        return
    Path(gate, f"in-{method}").write_text(str(os.getpid()))
    deadline = time.monotonic() + 30
    while not Path(gate, "release").exists() and time.monotonic() < deadline:
        time.sleep(0.02)

@cocoindex.op.target_connector(spec_cls=GatedTarget)
class GatedConnector:
    @staticmethod
    def get_persistent_key(spec, name):
        return spec.resource

    @staticmethod
    def apply_setup_change(key, previous, current):
        _gate("apply_setup_change")
        marker = Path(os.environ["COCOTUI_TEST_RESOURCES"]) / f"{key}.setup"
        marker.parent.mkdir(parents=True, exist_ok=True)
        if current is None:
            marker.unlink(missing_ok=True)
        else:
            marker.write_text(str(current.version))

    @staticmethod
    def mutate(*all_mutations):
        _gate("mutate")
        for spec, rows in all_mutations:
            path = Path(os.environ["COCOTUI_TEST_RESOURCES"]) / f"{spec.resource}.rows"
            stored = json.loads(path.read_text()) if path.exists() else {}
            for key, value in rows.items():
                if value is None:
                    stored.pop(key, None)
                else:
                    stored[key] = value["content"]
            path.write_text(json.dumps(stored, sort_keys=True))
"""


def gated_app(ws: Workspace, *, other: bool = False) -> None:
    """Flow ``Docs`` exporting to ``out`` (resource ``g``), and to ``other`` (``h``)."""
    exports = [export("out", spec_cls="GatedTarget", resource="g")]
    if other:
        exports.append(export("other", spec_cls="GatedTarget", resource="h"))
    ws.write_app(*exports, header="import json\n" + GATED)


@contextlib.contextmanager
def background(
    ws: Workspace, *args: str, gate: Path, gated: str = "", **env: str
) -> Iterator[subprocess.Popen[str]]:
    """``cocotui ARGS`` running in the background; on exit it is released and waited for."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "cocotui", *args],
        env=ws.env(GATE_DIR=str(gate), GATED=gated, **env),
        cwd=ws.root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        (gate / "release").write_text("")
        if proc.poll() is None and "--live" in args:
            proc.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.02)


def rows(ws: Workspace, resource: str = "g") -> dict[str, str]:
    path = ws.resources / f"{resource}.rows"
    return json.loads(path.read_text()) if path.exists() else {}


def test_apply_while_an_update_runs(workspace: Workspace, tmp_path: Path) -> None:
    ws = workspace
    gated_app(ws)
    assert ws.apply().returncode == 0
    gated_app(ws, other=True)  # a pending create for the apply to try
    gate = tmp_path / "gate"
    gate.mkdir()
    with background(ws, "update", str(ws.app), "--workers", "1", gate=gate, gated="mutate") as up:
        wait_for(gate / "in-mutate", up)
        before = ws.state_file.read_bytes()
        result, elapsed = timed(ws.apply)
        assert_locked_out(result, up.pid, elapsed)
        assert ws.state_file.read_bytes() == before
        (gate / "release").write_text("")
        _out, err = up.communicate(timeout=30)
    # The update exported to ``out`` and skipped ``other`` (exit 2: a setup change pending).
    assert up.returncode == 2, err
    assert rows(ws) == {"a.txt": "alpha"}
    assert not (ws.resources / "h.setup").exists()
    # Once it is done, the apply works, and so does the next update.
    assert ws.apply().returncode == 0
    assert (ws.resources / "h.setup").read_text() == "1"
    assert ws.cli("update", ws.app, "--workers", "1").returncode == 0
    assert rows(ws, "h") == {"a.txt": "alpha"}


def test_update_while_an_apply_runs(workspace: Workspace, tmp_path: Path) -> None:
    ws = workspace
    gated_app(ws)
    gate = tmp_path / "gate"
    gate.mkdir()
    with background(ws, "apply", str(ws.app), "--yes", gate=gate, gated="apply_setup_change") as ap:
        wait_for(gate / "in-apply_setup_change", ap)
        before = ws.state_file.read_bytes()  # the staged intent, written before the call
        for args in (("update", ws.app, "--workers", "1"), ("apply", ws.app, "--yes")):
            result, elapsed = timed(ws.cli, *args)
            assert_locked_out(result, ap.pid, elapsed)
        assert ws.state_file.read_bytes() == before
        (gate / "release").write_text("")
        _out, err = ap.communicate(timeout=30)
    assert ap.returncode == 0, err
    result = ws.cli("update", ws.app, "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert rows(ws) == {"a.txt": "alpha"}
    assert ws.plan_json()["summary"]["none"] == 1


def test_an_update_and_an_update_at_once(workspace: Workspace, tmp_path: Path) -> None:
    ws = workspace
    gated_app(ws)
    assert ws.apply().returncode == 0
    ws.write_source_file("b.txt", "beta")
    gate = tmp_path / "gate"
    gate.mkdir()
    with background(ws, "update", str(ws.app), "--workers", "1", gate=gate, gated="mutate") as up:
        wait_for(gate / "in-mutate", up)
        result, elapsed = timed(ws.cli, "update", ws.app, "--workers", "1")
        assert_locked_out(result, up.pid, elapsed)
        (gate / "release").write_text("")
        _out, err = up.communicate(timeout=30)
    assert up.returncode == 0, err
    assert rows(ws) == {"a.txt": "alpha", "b.txt": "beta"}


def test_two_live_updates_on_one_app(workspace: Workspace, tmp_path: Path) -> None:
    ws = workspace
    gated_app(ws)
    assert ws.apply().returncode == 0
    gate = tmp_path / "gate"
    gate.mkdir()
    args = ("update", str(ws.app), "--live", "--json", "--workers", "1")
    with background(ws, *args, gate=gate) as first:
        assert first.stdout is not None
        deadline = time.monotonic() + 30
        for line in first.stdout:  # until it is watching
            if '"live.ready"' in line:
                break
            assert time.monotonic() < deadline
        result, elapsed = timed(ws.cli, *args[:2], "--live", "--workers", "1")
        assert_locked_out(result, first.pid, elapsed)
        # The first one still works: a new file is exported while it watches.
        ws.write_source_file("b.txt", "beta")
        deadline = time.monotonic() + 20
        while rows(ws) != {"a.txt": "alpha", "b.txt": "beta"}:
            assert time.monotonic() < deadline, rows(ws)
            time.sleep(0.05)
        first.send_signal(signal.SIGINT)
        first.wait(timeout=30)
    assert first.returncode == 0
    # Stopped cleanly: the lock is free, nothing is left to do.
    result = ws.cli("update", ws.app, "--json", "--workers", "1")
    assert result.returncode == 0, result.stderr
    finished = [json.loads(line) for line in result.stdout.splitlines()][-1]
    assert finished["targets"]["Docs.out"]["inserted"] == 0
