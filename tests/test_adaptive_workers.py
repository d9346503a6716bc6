"""Workers left to choose (``workers=None``, the CLI's default): a light function is evaluated
in the engine's process, since starting processes would cost more than it saves, while rows
whose measured work outweighs their start go to worker processes. Each evaluation logs the
pid that ran it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import update_helpers as h
from conftest import Workspace

from cocotui.engine import workers


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


#: ``WORK`` is what each row does besides logging its pid.
HEADER = """
import os
import time

def logged(text):
    WORK
    with open(LOG, "a") as log:
        log.write(f"{os.getpid()}\\n")
    return text.upper()
"""


def pids_of_rows(ws: Workspace, work: str, rows: int, log: Path) -> list[int]:
    h.write_files(ws, {f"f{i:04}.md": f"text {i}" for i in range(rows)})
    header = HEADER.replace("WORK", work).replace("LOG", repr(str(log)))
    h.content_transform_app(ws, "upper", "logged", header=header)
    h.apply_all(ws)
    run = h.update(ws, workers=None)
    assert run.result.ok, run.named("row.failed")
    assert len(h.store()) == rows
    return [int(line) for line in log.read_text().split()]


def test_light_function_is_evaluated_without_workers(ws: Workspace, tmp_path: Path) -> None:
    # Few rows past the sampled chunks: the choice is made on wall time, and a loaded machine
    # slows the sample too; 200 light rows stay far below a pool's start whatever the load.
    pids = pids_of_rows(ws, "pass", 200, tmp_path / "pids")
    assert pids == [os.getpid()] * 200


def test_rows_whose_work_outweighs_starting_workers_go_to_workers(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 20 ms per row, 400 rows: 8 s in one process against well under that on two workers.
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    pids = pids_of_rows(ws, "time.sleep(0.02)", 400, tmp_path / "pids")
    sampled = workers.SAMPLED_CHUNKS * workers.CHUNK_ROWS
    assert pids[:sampled] == [os.getpid()] * sampled  # timed here first
    assert os.getpid() not in pids[sampled:]
    assert len(pids) == 400


def test_time_spent_waiting_for_a_cpu_does_not_start_workers(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same rows as above, timed as on a machine whose CPUs other processes hold: all the
    # sampled rows' time was spent waiting for a CPU (the run queue says so), which workers
    # would wait for too. The light rows stay in this process.
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    clock = iter(range(1_000_000))
    monkeypatch.setattr(workers, "runqueue_seconds", lambda: 0.02 * 32 * next(clock))
    pids = pids_of_rows(ws, "time.sleep(0.02)", 400, tmp_path / "pids")
    assert pids == [os.getpid()] * 400
