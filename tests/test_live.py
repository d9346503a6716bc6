"""Live mode (``Engine.run_live``): file events and interval re-lists keep the target in
step with the source until the run is stopped.

Each test runs the engine in a thread and waits for what it expects with a timeout (the run's
events wake the waiting test up); nothing is asserted after a mere sleep. A *barrier* file,
written after the changes under test and waited for in the target, proves that every event of
those changes was handled: the watcher hands events over in order, and the engine takes every
path marked so far into one pass.
"""

from __future__ import annotations

import collections
import dataclasses
import gc
import itertools
import json
import os
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import update_helpers as h
from conftest import Workspace

from cocotui.engine import live as live_module
from cocotui.engine.events import Event, StopToken
from cocotui.engine.update import LiveOptions, UpdateOptions, UpdateResult

#: Upper bound of any single wait: generous, for a loaded machine; a passing run takes far less.
TIMEOUT = 20.0


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


def live_app(
    ws: Workspace,
    *,
    source_args: str = "",
    interval_ms: int | None = None,
    source: str | None = None,
    header: str = "",
) -> None:
    """One flow ``Docs`` exporting ``filename`` -> ``content`` of every row to ``MemTarget``
    ``a``; the source is ``LocalFile(SOURCE, ...)`` unless ``source`` is given."""
    spec = source or f"cocoindex.sources.LocalFile(path=SOURCE{source_args})"
    interval = (
        "" if interval_ms is None else f", refresh_interval=timedelta(milliseconds={interval_ms})"
    )
    h.write_app(
        ws,
        f"""
        @cocoindex.flow_def(name="Docs")
        def docs_flow(flow_builder, data_scope):
            data_scope["documents"] = flow_builder.add_source({spec}{interval})
            out = data_scope.add_collector()
            with data_scope["documents"].row() as doc:
                out.collect(filename=doc["filename"], content=doc["content"])
            out.export("t", MemTarget(resource="a"), primary_key_fields=["filename"])
        """,
        "from datetime import timedelta\n" + header,
    )
    h.apply_all(ws)


def source_rows(ws: Workspace) -> dict[str, dict[str, str]]:
    """What the target should hold: every file of the source directory."""
    rows = {}
    for path in sorted(ws.source_dir.rglob("*")):
        if path.is_file():
            rows[path.relative_to(ws.source_dir).as_posix()] = {"content": path.read_text()}
    return rows


def put(ws: Workspace, name: str, content: str) -> None:
    """Write a file in one filesystem event: written beside the source, then moved in."""
    staging = ws.root / f".staging-{name.replace('/', '-')}"
    staging.write_text(content)
    os.replace(staging, ws.source_dir / name)


def upserts_of(key: str) -> list[Any]:
    """Every value ``mutate`` received for ``key`` (``None`` for a delete), in order."""
    return [
        mutations[key] for args in h.mutate_calls() for _, mutations in args if key in mutations
    ]


class LiveRun:
    """``Engine.run_live`` in a thread, with its events; always :meth:`close` it."""

    def __init__(
        self, ws: Workspace, *, watch: bool = True, keep_events: int = 5000, **options: Any
    ) -> None:
        self.ws = ws
        self.stop = StopToken()
        self.cond = threading.Condition()
        #: The latest events (bounded: a long run must not grow the test's memory either).
        self.events: collections.deque[Event] = collections.deque(maxlen=keep_events)
        self.counts: collections.Counter[str] = collections.Counter()
        self.ready = False
        self.done = False
        #: Between a live.pass_started and its live.pass_finished.
        self.in_pass = False
        self.result: UpdateResult | None = None
        self.error: BaseException | None = None
        self.barriers = 0
        #: Called with every event, in the engine thread (e.g. to stop the run mid-pass).
        self.hook: Callable[[Event], None] | None = None
        self.engine = h.open_engine(ws)
        self.thread = threading.Thread(
            target=self._run, args=(UpdateOptions(**options), watch), daemon=True
        )

    def _observe(self, event: Event) -> None:
        json.dumps(event.to_json())  # every event must be JSON-serialisable
        with self.cond:
            self.events.append(event)
            self.counts[event.name] += 1
            if event.name.startswith("live.pass_"):
                self.in_pass = event.name == "live.pass_started"
            self.cond.notify_all()
        if self.hook is not None:
            self.hook(event)

    def _on_ready(self) -> None:
        with self.cond:
            self.ready = True
            self.cond.notify_all()

    def _run(self, options: UpdateOptions, watch: bool) -> None:
        try:
            live = LiveOptions(**dataclasses.asdict(options), watch=watch, on_ready=self._on_ready)
            self.result = self.engine.run_live(live, self._observe, self.stop)
        except BaseException as exc:
            self.error = exc
        finally:
            with self.cond:
                self.done = True
                self.cond.notify_all()

    def start(self) -> LiveRun:
        self.thread.start()
        self.wait_for(lambda: self.ready, "the initial catch-up")
        return self

    def wait_for(self, predicate: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
        """Until ``predicate()`` holds (checked at every event); fails after ``timeout`` or when
        the run ends first."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate():
                if self.done:
                    raise AssertionError(f"the run ended before {what}: {self.error!r}")
                left = deadline - time.monotonic()
                if left <= 0:
                    names = [e.name for e in list(self.events)[-20:]]
                    raise AssertionError(f"timed out waiting for {what}; last events: {names}")
                self.cond.wait(left)

    def wait_settled(self, predicate: Callable[[], bool], what: str) -> None:
        """Until ``predicate()`` holds once a pass finished (its events all emitted)."""
        self.wait_for(lambda: not self.in_pass and predicate(), what)

    def wait_target(self, expected: dict[str, Any], what: str = "") -> None:
        self.wait_settled(lambda: h.store() == expected, what or f"the target to be {expected}")

    def barrier(self) -> None:
        """Write a new file and wait until it is in the target: every event of the changes made
        before has been handled by then."""
        self.barriers += 1
        name = f"zz-barrier-{self.barriers}.md"
        put(self.ws, name, "barrier")
        self.wait_settled(lambda: name in h.store(), f"barrier {name}")

    def named(self, name: str) -> list[dict[str, Any]]:
        with self.cond:
            return [e.data for e in self.events if e.name == name]

    def join(self) -> UpdateResult:
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive(), "the run did not end"
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result

    def close(self) -> None:
        self.stop.stop()
        try:
            self.thread.join(TIMEOUT)
        finally:
            self.engine.close()


@pytest.fixture
def running() -> Iterator[Callable[..., LiveRun]]:
    """``running(ws, **options)``: a started live run, stopped at the end of the test."""
    runs: list[LiveRun] = []

    def start(ws: Workspace, **options: Any) -> LiveRun:
        run = LiveRun(ws, **options)
        runs.append(run)
        return run.start()

    yield start
    for run in runs:
        run.close()
    for run in runs:
        assert not run.thread.is_alive(), "a live run did not stop"


# -- change capture ---------------------------------------------------------------------------


def test_new_modified_deleted_and_renamed_files_reach_the_target(
    ws: Workspace, running: Callable[..., LiveRun]
) -> None:
    h.write_files(ws, {"a.md": "alpha", "b.md": "beta", "sub/c.md": "gamma"})
    live_app(ws)
    run = running(ws)
    assert h.store() == source_rows(ws)
    [ready] = run.named("live.ready")
    assert ready == {"watched": ["Docs.documents"], "interval": {}, "once": []}

    # Written in one filesystem event each, so that the counters below are exact (a plain write
    # may be seen half-done, then again: the target converges, with one more update).
    put(ws, "new.md", "fresh")
    run.wait_target(source_rows(ws), "a new file")
    put(ws, "a.md", "ALPHA")
    run.wait_target(source_rows(ws), "a modified file")
    (ws.source_dir / "b.md").unlink()
    run.wait_target(source_rows(ws), "a deleted file")
    (ws.source_dir / "new.md").rename(ws.source_dir / "renamed.md")
    run.wait_target(source_rows(ws), "a renamed file")
    assert h.store()["renamed.md"] == {"content": "fresh"}

    watch_passes = [p for p in run.named("live.pass_finished") if p["reason"] == "watch"]
    assert sum(p["added"] for p in watch_passes) == 2
    assert sum(p["updated"] for p in watch_passes) == 1
    assert sum(p["deleted"] for p in watch_passes) == 2
    assert sum(p["errors"] for p in watch_passes) == 0
    # The same counters as a normal update, accumulated over the passes.
    assert run.named("batch.applied")[-1]["targets"]["Docs.t"]["deleted"] == 2


def test_directories_created_moved_and_removed(
    ws: Workspace, running: Callable[..., LiveRun]
) -> None:
    h.write_files(ws, {"keep.md": "k", "old/x.md": "x", "old/deep/y.md": "y"})
    live_app(ws)
    run = running(ws)

    # A whole directory moved in at once reports only itself: its files are listed.
    outside = ws.root / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "n.md").write_text("n")
    (outside / "deep" / "m.md").write_text("m")
    outside.rename(ws.source_dir / "moved_in")
    run.wait_target(source_rows(ws), "a directory moved in")
    # A directory moved away reports only itself too: its tracked rows are deleted.
    (ws.source_dir / "old").rename(ws.root / "gone")
    run.wait_target(source_rows(ws), "a directory moved away")
    assert set(h.store()) == {"keep.md", "moved_in/n.md", "moved_in/deep/m.md"}


def test_burst_of_saves_to_one_file_is_one_upsert_of_the_final_content(
    ws: Workspace, running: Callable[..., LiveRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    h.write_files(ws, {"busy.md": "0", "hot.md": "0"})
    live_app(ws)
    mem = h.mem()
    entered, release = threading.Event(), threading.Event()
    original = mem._mutate

    def blocking_mutate(all_mutations: tuple[Any, ...]) -> None:
        if any("busy.md" in mutations for _, mutations in all_mutations):
            entered.set()
            assert release.wait(TIMEOUT)
        original(all_mutations)

    run = running(ws)
    monkeypatch.setattr(mem, "_mutate", blocking_mutate)
    mem.CALLS.clear()
    try:
        # The engine is now busy in a pass (its mutate blocked) while the burst is written.
        h.write_files(ws, {"busy.md": "1"})
        assert entered.wait(TIMEOUT), "the pass over busy.md never called mutate"
        for i in range(1, 51):
            h.write_files(ws, {"hot.md": f"save {i}"})
    finally:
        release.set()
    run.wait_target(source_rows(ws), "the burst")
    run.barrier()

    assert upserts_of("hot.md") == [{"content": "save 50"}]
    assert h.store()["hot.md"] == {"content": "save 50"}


def test_quick_saves_while_idle_end_with_the_final_content(
    ws: Workspace, running: Callable[..., LiveRun]
) -> None:
    """Without holding the engine up, saves may be split over passes (each one upserts what
    the file held then); the last value always wins."""
    h.write_files(ws, {"hot.md": "0"})
    live_app(ws)
    run = running(ws)
    mem = h.mem()
    mem.CALLS.clear()
    for i in range(1, 31):
        h.write_files(ws, {"hot.md": f"save {i:02d}"})  # same size: same-stamp saves
    run.wait_target(source_rows(ws), "the last save")
    run.barrier()
    sent = upserts_of("hot.md")
    assert sent[-1] == {"content": "save 30"}
    assert len(sent) <= 30
    assert h.store()["hot.md"] == {"content": "save 30"}


def test_editor_atomic_save_is_one_update(ws: Workspace, running: Callable[..., LiveRun]) -> None:
    h.write_files(ws, {"doc.md": "draft", "other.md": "o"})
    live_app(ws, source_args=', included_patterns=["*.md"]')
    run = running(ws)
    h.mem().CALLS.clear()

    temp = ws.source_dir / ".doc.md.swp-4913"
    with open(temp, "w") as f:
        f.write("final text")
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, ws.source_dir / "doc.md")
    run.wait_target(source_rows(ws), "the saved file")
    run.barrier()

    assert upserts_of("doc.md") == [{"content": "final text"}]
    sent_keys = {k for args in h.mutate_calls() for _, mutations in args for k in mutations}
    assert sent_keys == {"doc.md", "zz-barrier-1.md"}
    watch_passes = [p for p in run.named("live.pass_finished") if p["reason"] == "watch"]
    assert sum(p["updated"] for p in watch_passes) == 1
    assert sum(p["added"] for p in watch_passes) == 1  # the barrier
    assert sum(p["deleted"] for p in watch_passes) == 0


def test_excluded_paths_start_no_pass(ws: Workspace, running: Callable[..., LiveRun]) -> None:
    h.write_files(ws, {"a.md": "a"})
    live_app(ws, source_args=', excluded_patterns=["**/.git"]')
    run = running(ws)
    passes = run.counts["live.pass_started"]
    h.write_files(ws, {".git/objects/x": "blob", ".git/HEAD": "ref"})
    run.barrier()
    assert run.counts["live.pass_started"] == passes + 1  # the barrier's pass only
    assert set(h.store()) == {"a.md", "zz-barrier-1.md"}


# -- interval re-lists --------------------------------------------------------------------------


def test_change_while_not_watched_is_caught_by_the_interval_relist(
    ws: Workspace, running: Callable[..., LiveRun]
) -> None:
    h.write_files(ws, {"a.md": "a", "b.md": "b"})
    live_app(ws, interval_ms=200)
    run = running(ws, watch=False)
    [ready] = run.named("live.ready")
    assert ready == {"watched": [], "interval": {"Docs.documents": 0.2}, "once": []}

    h.write_files(ws, {"a.md": "A", "c.md": "c"})
    (ws.source_dir / "b.md").unlink()
    run.wait_target(source_rows(ws), "the interval re-list")
    reasons = {p["reason"] for p in run.named("live.pass_finished")}
    assert reasons == {"initial", "interval"}


def test_dropped_watcher_events_are_caught_by_the_interval_relist(
    ws: Workspace, running: Callable[..., LiveRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watcher is up but its events are lost (as on a queue overflow)."""
    h.write_files(ws, {"a.md": "a"})
    live_app(ws, interval_ms=200)
    dropped = threading.Event()

    def drop(self: live_module.LiveRun, changes: set[tuple[int, str]]) -> None:
        dropped.set()

    monkeypatch.setattr(live_module.LiveRun, "_mark", drop)
    run = running(ws)
    h.write_files(ws, {"a.md": "changed", "new.md": "n"})
    run.wait_target(source_rows(ws), "the interval re-list")
    assert dropped.is_set()
    assert {p["reason"] for p in run.named("live.pass_finished")} == {"initial", "interval"}


def test_a_slow_pass_does_not_pile_relists_up(
    ws: Workspace, running: Callable[..., LiveRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    h.write_files(ws, {"a.md": "a"})
    live_app(ws, interval_ms=50)
    mem = h.mem()
    original = mem._mutate
    entered, release = threading.Event(), threading.Event()

    def slow_mutate(all_mutations: tuple[Any, ...]) -> None:
        entered.set()
        release.wait(TIMEOUT)
        original(all_mutations)

    run = running(ws, watch=False)
    monkeypatch.setattr(mem, "_mutate", slow_mutate)
    h.write_files(ws, {"a.md": "changed"})
    assert entered.wait(TIMEOUT), "no interval pass called mutate"
    time.sleep(0.5)  # ten intervals go by while the pass is held up (not an assertion)
    release.set()
    run.wait_target(source_rows(ws), "the slow pass")
    finished = run.counts["live.pass_finished"]
    run.wait_for(lambda: run.counts["live.pass_finished"] >= finished + 3, "three more passes")

    with run.cond:
        passes = [e for e in run.events if e.name.startswith("live.pass")]
    slow = next(
        i for i, e in enumerate(passes) if e.name == "live.pass_finished" and e.data["updated"]
    )
    # One re-list at a time, each an interval after the previous one ended: the ten missed
    # ticks do not run as a backlog.
    for ended, began in itertools.pairwise(passes[slow:]):
        if ended.name == "live.pass_finished":
            assert began.name == "live.pass_started"
            assert began.time - ended.time >= 0.04


# -- failures ---------------------------------------------------------------------------------


def test_failing_row_is_retried_on_the_next_pass_touching_it(
    ws: Workspace, running: Callable[..., LiveRun]
) -> None:
    h.write_files(ws, {"a.md": "a"})
    live_app(ws)
    run = running(ws)
    mem = h.mem()
    mem.FAIL_KEYS.add("bad.md")

    put(ws, "bad.md", "bad 1")
    put(ws, "good.md", "good")
    run.wait_for(lambda: bool(run.named("row.failed")), "the row failure")
    run.wait_settled(lambda: "good.md" in h.store(), "the good row")
    [failure] = run.named("row.failed")
    assert failure["row"] == "bad.md" and "MemFailure" in failure["traceback"]
    # The run keeps going.
    put(ws, "later.md", "later")
    run.wait_settled(lambda: "later.md" in h.store(), "a later change")
    assert "bad.md" not in h.store()

    mem.FAIL_KEYS.clear()
    h.write_files(ws, {"bad.md": "bad 2"})
    run.wait_target(source_rows(ws), "the retried row")
    assert sum(p["errors"] for p in run.named("live.pass_finished")) == 1


def test_failing_row_is_retried_by_the_interval_relist(
    ws: Workspace, running: Callable[..., LiveRun]
) -> None:
    h.write_files(ws, {"a.md": "a"})
    live_app(ws, interval_ms=200)
    run = running(ws)
    mem = h.mem()
    mem.FAIL_KEYS.add("bad.md")
    put(ws, "bad.md", "bad")  # one event: no later watch pass retries it
    run.wait_for(lambda: bool(run.named("row.failed")), "the row failure")

    mem.FAIL_KEYS.clear()  # the file is not touched again
    run.wait_target(source_rows(ws), "the retried row")
    retried = [p for p in run.named("live.pass_finished") if p["added"]]
    assert retried[-1]["reason"] == "interval"


# -- stopping and starting ----------------------------------------------------------------------


def test_stop_mid_burst_then_start_again_ends_equal_to_the_source(ws: Workspace) -> None:
    h.write_files(ws, {f"f{i:03d}.md": f"v0 {i}" for i in range(20)})
    live_app(ws)
    first = LiveRun(ws, batch_rows=5)

    def stop_after_first_watch_batch(event: Event) -> None:
        if event.name == "batch.applied" and first.counts["live.pass_started"] > 1:
            first.stop.stop()

    try:
        first.start()
        assert h.store() == source_rows(ws)
        first.hook = stop_after_first_watch_batch
        burst = {f"f{i:03d}.md": f"v1 {i}" for i in range(0, 200, 2)}
        for name, content in burst.items():
            put(ws, name, content)
        result = first.join()
    finally:
        first.close()
    assert result.stopped
    applied = {k: v for k, v in h.store().items() if v["content"].startswith("v1")}
    assert 0 < len(applied) <= 5  # one batch, then the stop
    for name in applied:
        assert burst[name] == applied[name]["content"]

    # While nothing runs: the rest of the burst, and more.
    for i in range(1, 20, 3):
        (ws.source_dir / f"f{i:03d}.md").unlink()
    h.write_files(ws, {"late.md": "late"})

    second = LiveRun(ws, batch_rows=5)
    try:
        h.mem().CALLS.clear()
        second.start()
        assert h.store() == source_rows(ws)
        # Nothing applied by the stopped run is sent again.
        assert not set(applied) & {k for k, v in h.sent().items() if v is not None}
        h.write_files(ws, {"after.md": "after"})
        second.wait_target(source_rows(ws), "a change after the restart")
    finally:
        second.close()


def test_stop_token_ends_an_idle_run(ws: Workspace) -> None:
    h.write_files(ws, {"a.md": "a"})
    live_app(ws)
    run = LiveRun(ws)
    try:
        run.start()
        run.stop.stop()
        result = run.join()
    finally:
        run.close()
    assert result.stopped and result.errors == 0
    assert result.sources["Docs.documents"].added == 1


SEQUENCE_SOURCE = """
from cocotui.sources import ListedRow


class SequenceSource:
    '''A source without change capture: rows come from a list, not from files.'''

    def __init__(self, *names):
        self.rows = {name: f"row {name}" for name in names}

    def list_rows(self):
        for key in sorted(self.rows):
            yield ListedRow(key, "1")

    def stamp(self, key):
        return "1" if key in self.rows else None

    def read_row(self, key):
        if key not in self.rows:
            return None
        return {"filename": key, "content": self.rows[key]}
"""


def test_source_without_change_capture_is_processed_once(ws: Workspace) -> None:
    live_app(ws, source='SequenceSource("x", "y")', header=SEQUENCE_SOURCE)
    run = LiveRun(ws)
    try:
        run.thread.start()
        result = run.join()  # ends by itself: there is nothing to wait for
    finally:
        run.close()
    [ready] = run.named("live.ready")
    assert ready == {"watched": [], "interval": {}, "once": ["Docs.documents"]}
    assert not result.stopped and result.errors == 0
    assert h.store() == {"x": {"content": "row x"}, "y": {"content": "row y"}}
    assert [p["reason"] for p in run.named("live.pass_finished")] == ["initial"]


def test_unwatched_local_file_without_interval_is_processed_once(ws: Workspace) -> None:
    h.write_files(ws, {"a.md": "a"})
    live_app(ws)
    run = LiveRun(ws, watch=False)
    try:
        run.thread.start()
        result = run.join()
    finally:
        run.close()
    [ready] = run.named("live.ready")
    assert ready["once"] == ["Docs.documents"] and ready["watched"] == []
    assert not result.stopped and h.store() == source_rows(ws)


def test_source_directory_removed_and_recreated(
    ws: Workspace, running: Callable[..., LiveRun]
) -> None:
    """The watched directory itself goes away (the watcher reports an error or the directory
    event and re-lists: a missing directory fails the listing, it never deletes every row)
    and comes back."""
    h.write_files(ws, {"a.md": "a"})
    live_app(ws)
    run = running(ws)
    aside = ws.root / "aside"
    ws.source_dir.rename(aside)
    run.wait_for(lambda: bool(run.named("source.failed")), "the failed listing")
    assert h.store() == {"a.md": {"content": "a"}}
    aside.rename(ws.source_dir)
    h.write_files(ws, {"b.md": "b"})
    run.wait_target(source_rows(ws), "the directory back")


# -- running for long ---------------------------------------------------------------------------


def test_memory_stays_flat_over_many_passes(
    ws: Workspace, running: Callable[..., LiveRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [f"f{i}.md" for i in range(5)]
    h.write_files(ws, dict.fromkeys(names, "start"))
    live_app(ws)
    mem = h.mem()
    monkeypatch.setattr(mem, "_record", lambda method, *args: None)  # the test's own log
    run = running(ws, keep_events=100)

    def edit(number: int) -> None:
        name = names[number % len(names)]
        h.write_files(ws, {name: f"edit {number}"})
        run.wait_settled(
            lambda: mem.STORE["a"].get(name) == {"content": f"edit {number}"}, f"edit {number}"
        )

    for number in range(100):
        edit(number)
    gc.collect()
    tracemalloc.start()
    try:
        for number in range(100, 150):
            edit(number)
        gc.collect()
        at_150, _ = tracemalloc.get_traced_memory()
        for number in range(150, 300):
            edit(number)
        gc.collect()
        at_300, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert run.counts["live.pass_finished"] >= 300
    # 150 more passes: no per-pass structure may grow (a leak of 300 bytes a pass fails; what
    # is seen is a few KB of allocator noise).
    assert at_300 - at_150 < 45_000, at_300 - at_150
