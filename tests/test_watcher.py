"""The live-mode file watcher (cocotui.engine.watcher) over watchfiles' public API."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cocotui.engine import watcher as watcher_module
from cocotui.engine.watcher import DirectoryWatcher

WAIT_S = 10.0


class Recorder:
    def __init__(self, rewatch_on: str | None = None) -> None:
        self.changes: queue.Queue[str] = queue.Queue()
        self.errors: list[BaseException] = []
        self.restarts = threading.Semaphore(0)
        self.rewatch_on = rewatch_on

    def on_changes(self, paths: set[str]) -> bool:
        for path in paths:
            self.changes.put(path)
        return self.rewatch_on is not None and self.rewatch_on in paths

    def on_error(self, exc: BaseException) -> None:
        self.errors.append(exc)

    def on_restart(self) -> None:
        self.restarts.release()

    def wait_for(self, path: Path) -> None:
        while True:
            if self.changes.get(timeout=WAIT_S) == str(path):
                return


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def started(tmp_path: Path, recorder: Recorder) -> Iterator[DirectoryWatcher]:
    watcher = DirectoryWatcher(
        [str(tmp_path)], recorder.on_changes, recorder.on_error, recorder.on_restart
    )
    watcher.start()
    assert watcher.ready.wait(WAIT_S)
    yield watcher
    watcher.stop()


def test_a_change_made_right_after_ready_is_reported(
    tmp_path: Path, started: DirectoryWatcher, recorder: Recorder
) -> None:
    (tmp_path / "a.txt").write_text("x")
    recorder.wait_for(tmp_path / "a.txt")
    assert recorder.errors == []


def test_files_other_tools_ignore_are_still_reported(
    tmp_path: Path, started: DirectoryWatcher, recorder: Recorder
) -> None:
    # watchfiles' default filter drops these; a source decides with its own excludes.
    (tmp_path / "notes.swp").write_text("x")
    recorder.wait_for(tmp_path / "notes.swp")


def test_stop_is_not_delayed_by_the_idle_pace(
    tmp_path: Path, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watcher_module, "WATCH_IDLE_AFTER_S", 0.0)
    monkeypatch.setattr(watcher_module, "WATCH_IDLE_STEP_MS", 600_000)
    watcher = DirectoryWatcher(
        [str(tmp_path)], recorder.on_changes, recorder.on_error, recorder.on_restart
    )
    watcher.start()
    assert watcher.ready.wait(WAIT_S)
    watcher.stop(timeout=WAIT_S)
    assert not watcher._thread.is_alive()


def test_a_missing_directory_is_watched_once_it_exists(
    tmp_path: Path, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watcher_module, "WATCH_RETRY_S", 0.05)
    root = tmp_path / "later"
    watcher = DirectoryWatcher(
        [str(root)], recorder.on_changes, recorder.on_error, recorder.on_restart
    )
    watcher.start()
    try:
        assert watcher.ready.wait(WAIT_S)
        assert recorder.errors, "the failed set-up is reported"
        root.mkdir()
        # Set up again: what changed meanwhile is known only by listing.
        assert recorder.restarts.acquire(timeout=WAIT_S)
        (root / "a.txt").write_text("x")
        recorder.wait_for(root / "a.txt")
    finally:
        watcher.stop()


def test_the_watch_is_set_up_again_when_the_handler_asks(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    recorder = Recorder(rewatch_on=str(root / "trigger"))
    watcher = DirectoryWatcher(
        [str(root)], recorder.on_changes, recorder.on_error, recorder.on_restart
    )
    watcher.start()
    try:
        assert watcher.ready.wait(WAIT_S)
        (root / "trigger").write_text("x")
        assert recorder.restarts.acquire(timeout=WAIT_S)
        (root / "after.txt").write_text("x")
        recorder.wait_for(root / "after.txt")
    finally:
        watcher.stop()
