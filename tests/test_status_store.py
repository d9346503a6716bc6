"""The run snapshot and the status store: what a front end shows of a run, in this process or
read from another one's status file."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
import update_helpers as h
from conftest import Workspace
from hypothesis import given
from hypothesis import strategies as st

from cocotui.engine import events as ev
from cocotui.engine.counters import SourceCounters, TargetCounters
from cocotui.engine.events import StopToken, ignore
from cocotui.engine.monitor import (
    PassView,
    Phase,
    RunMode,
    RunMonitor,
    Snapshot,
    SourceView,
    TargetView,
)
from cocotui.engine.status import PUBLISH_INTERVAL_S, read_exporter
from cocotui.engine.update import LiveOptions
from cocotui.state.lock import StateLockedError, WriterLock
from cocotui.state.paths import AppPaths, app_paths
from cocotui.state.status_store import (
    HISTORY_SIZE,
    ExporterIdentity,
    Origin,
    Outcome,
    StatusWriter,
    read_exporter_status,
)

# -- the snapshot -------------------------------------------------------------------------------


def _live_run(monitor: RunMonitor) -> None:
    """Feed ``monitor`` the events of a live run: an initial pass with a failing row, then a
    watch pass."""
    monitor(ev.RunStarted(app="a", targets=("F.t",), skipped=(), reexport=False))
    monitor(ev.LivePassStarted(source="F.s", reason=ev.PassReason.INITIAL, rows=None))
    monitor(ev.SourceListed(source="F.s", rows=3, to_process=3, gone=0))
    monitor(
        ev.RowFailed(
            source="F.s", row="r", keys=("k",), error="boom", traceback="", targets=("F.t",)
        )
    )
    counts = TargetCounters(inserted=2, errors=1)
    monitor(
        ev.BatchApplied(source="F.s", rows=3, committed=2, done=3, total=3, targets={"F.t": counts})
    )
    initial = SourceCounters(listed=3, total=3, done=3, added=2, errors=1, elapsed=0.5)
    monitor(ev.SourceFinished(source="F.s", counters=initial))
    monitor(
        ev.LivePassFinished(
            source="F.s", reason=ev.PassReason.INITIAL, counters=initial, elapsed=0.75
        )
    )
    monitor(ev.LiveReady(watched=("F.s",), interval={}, once=()))


def test_a_live_run_is_described_source_by_source() -> None:
    monitor = RunMonitor()
    _live_run(monitor)
    snap = monitor.snapshot()
    assert snap.mode is RunMode.LIVE and snap.running and snap.started_at is not None
    source = snap.sources["F.s"]
    assert source.phase is Phase.WATCHING
    assert source.last_pass is not None
    assert (source.last_pass.reason, source.last_pass.elapsed) == (ev.PassReason.INITIAL, 0.75)
    assert (source.last_pass.inserted, source.last_pass.errors) == (2, 1)
    assert source.last_error == "r: boom"
    assert snap.targets["F.t"].last_error == "r: boom"
    assert snap.targets["F.t"].inserted == 2 and snap.errors == 1

    monitor(ev.LivePassStarted(source="F.s", reason=ev.PassReason.WATCH, rows=1))
    assert monitor.snapshot().sources["F.s"].phase is Phase.CATCHING_UP
    monitor(
        ev.LivePassFinished(
            source="F.s",
            reason=ev.PassReason.WATCH,
            counters=SourceCounters(updated=1),
            elapsed=0.1,
            lag=0.2,
        )
    )
    monitor(ev.LivePassStarted(source="F.s", reason=ev.PassReason.INTERVAL, rows=None))
    snap = monitor.snapshot()
    assert snap.sources["F.s"].phase is Phase.RELISTING and snap.sources["F.s"].lag == 0.2


def test_a_one_shot_run_ends_finished() -> None:
    monitor = RunMonitor()
    monitor(ev.RunStarted(app="a", targets=("F.t",), skipped=(), reexport=False))
    monitor(ev.SourceListed(source="F.s", rows=1, to_process=1, gone=0))
    assert monitor.snapshot().sources["F.s"].phase is Phase.CATCHING_UP
    monitor(ev.SourceFinished(source="F.s", counters=SourceCounters(added=1)))
    monitor(
        ev.RunFinished(elapsed=1.0, stopped=False, errors=0, skipped=(), targets={}, sources={})
    )
    snap = monitor.snapshot()
    assert snap.mode is RunMode.ONE_SHOT and not snap.running
    assert snap.sources["F.s"].phase is Phase.FINISHED
    last = snap.sources["F.s"].last_pass
    assert last is not None and last.reason is None and last.inserted == 1


def test_a_monitored_snapshot_round_trips_through_json() -> None:
    monitor = RunMonitor()
    _live_run(monitor)
    snap = monitor.snapshot()
    assert Snapshot.from_json(json.loads(json.dumps(snap.to_json()))) == snap


finite = st.floats(allow_nan=False, allow_infinity=False)
counts = st.integers(min_value=0, max_value=2**53)
text = st.text(max_size=20)
passes = st.builds(
    PassView,
    finished_at=finite,
    elapsed=finite,
    reason=st.none() | st.sampled_from(ev.PassReason),
    inserted=counts,
    updated=counts,
    deleted=counts,
    errors=counts,
)
sources = st.builds(
    SourceView,
    phase=st.sampled_from(Phase),
    done=counts,
    total=counts,
    last_pass=st.none() | passes,
    lag=st.none() | finite,
    last_error=st.none() | text,
)
targets = st.builds(
    TargetView,
    inserted=counts,
    updated=counts,
    deleted=counts,
    unchanged=counts,
    errors=counts,
    in_flight=counts,
    rate=finite,
    history=st.lists(finite, max_size=5),
    last_error=st.none() | text,
)
snapshots = st.builds(
    Snapshot,
    running=st.booleans(),
    targets=st.dictionaries(text, targets, max_size=3),
    done=counts,
    total=counts,
    errors=counts,
    log_serial=counts,
    last_error=st.dictionaries(text, text, max_size=3),
    mode=st.sampled_from(RunMode),
    started_at=st.none() | finite,
    sources=st.dictionaries(text, sources, max_size=3),
)


@given(snapshots)
def test_every_snapshot_round_trips_through_json(snap: Snapshot) -> None:
    assert Snapshot.from_json(json.loads(json.dumps(snap.to_json()))) == snap


# -- the store ----------------------------------------------------------------------------------


@pytest.fixture
def ws(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    h.prepare(workspace, monkeypatch)
    h.write_files(workspace, {"a.md": "a"})
    h.flow_app(workspace)
    h.apply_all(workspace)
    return workspace


def paths_of(ws: Workspace) -> AppPaths:
    return app_paths(ws.state_name, ws.state_dir)


def test_history_keeps_the_last_runs_of_each_target(ws: Workspace) -> None:
    runs = HISTORY_SIZE + 5
    for number in range(runs):
        h.write_files(ws, {"a.md": f"version {number}"})
        assert h.update(ws).result.ok
        if number == HISTORY_SIZE:
            size = paths_of(ws).status.stat().st_size
    report = read_exporter(paths_of(ws))
    assert report is not None
    history = report.history["Docs.t"]
    assert len(history) == HISTORY_SIZE
    assert [r.updated for r in history] == [1] * HISTORY_SIZE
    assert [r.outcome for r in history] == [Outcome.FINISHED] * HISTORY_SIZE
    assert report.exporter.origin is Origin.API  # Engine.update, as a program calls it
    assert (
        history[-1].by == f"{report.exporter.user}@{socket.gethostname()} pid {os.getpid()} (api)"
    )
    assert history[-1].started_at == report.snapshot.started_at
    assert [r.started_at for r in history] == sorted(r.started_at for r in history)
    # No growth: a run more is the same number of records (give or take digits of floats).
    assert abs(paths_of(ws).status.stat().st_size - size) < 200
    assert paths_of(ws).status.stat().st_mode & 0o777 == 0o600


def test_a_running_status_is_believed_only_while_its_process_holds_the_lock(
    ws: Workspace,
) -> None:
    paths = paths_of(ws)
    writer = StatusWriter(paths, ExporterIdentity.of_this_process("live", Origin.API))
    writer.publish(RunMonitor().snapshot().to_json())
    status = read_exporter_status(paths)
    assert status is not None and status.outcome is Outcome.DIED  # nobody holds the lock
    with WriterLock.of(paths):
        status = read_exporter_status(paths)
        assert status is not None and status.outcome is Outcome.RUNNING
    dead = dataclasses.replace(writer.exporter, pid=_a_dead_pid())
    StatusWriter(paths, dead).publish(RunMonitor().snapshot().to_json())
    with WriterLock.of(paths):  # held, but by another process than the file's
        status = read_exporter_status(paths)
        assert status is not None and status.outcome is Outcome.DIED


def _a_dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


def test_a_writer_meeting_a_running_exporter_is_told_who_it_is(ws: Workspace) -> None:
    stop = StopToken()
    ready = threading.Event()
    with h.engine_of(ws) as engine:
        live = threading.Thread(
            target=engine.run_live,
            args=(LiveOptions(on_ready=ready.set), ignore, stop),
            kwargs={"origin": Origin.CLI},
        )
        live.start()
        try:
            assert ready.wait(30)
            with h.engine_of(ws) as other, pytest.raises(StateLockedError) as raised:
                other.apply(other.plan())
        finally:
            stop.stop()
            live.join(30)
    message = str(raised.value)
    assert f"a live export (pid {os.getpid()} on {socket.gethostname()}" in message
    assert "from the cli, since " in message


def test_a_run_that_raises_is_recorded_as_failed(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk on fire")

    with h.engine_of(ws) as engine:
        monkeypatch.setattr(engine.tracking, "commit", broken)
        with pytest.raises(OSError):
            engine.update()
    report = read_exporter(paths_of(ws))
    assert report is not None and report.outcome is Outcome.FAILED
    assert report.status.error == "OSError: disk on fire"
    assert [r.outcome for r in report.history["Docs.t"]] == [Outcome.FAILED]


def test_the_store_is_written_a_few_times_a_second_not_per_event(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    h.write_files(ws, {f"f{i:03d}.md": str(i) for i in range(300)})
    writes: list[float] = []
    publish = StatusWriter.publish

    def counted(self: StatusWriter, snapshot: Any) -> None:
        writes.append(time.monotonic())
        publish(self, snapshot)

    monkeypatch.setattr(StatusWriter, "publish", counted)
    started = time.monotonic()
    run = h.update(ws, batch_rows=1)
    elapsed = time.monotonic() - started
    batches = len(run.named("batch.applied"))
    assert batches == 301  # a.md and the 300 new files, one a batch
    # One write at the start, then at most one per interval.
    assert len(writes) <= 2 + elapsed / PUBLISH_INTERVAL_S
