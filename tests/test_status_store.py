"""The run snapshot and the status store: what a front end shows of a run, in this process or
read from another one's status file."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from cocotui.engine import events as ev
from cocotui.engine.counters import SourceCounters, TargetCounters
from cocotui.engine.monitor import (
    PassView,
    Phase,
    RunMode,
    RunMonitor,
    Snapshot,
    SourceView,
    TargetView,
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
