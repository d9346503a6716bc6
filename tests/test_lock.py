"""One writer per app: a second writer fails at once, naming the holder, and changes nothing."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import Workspace, export

from cocotui.state.lock import StateLockedError, WriterLock

HOLDER = """
import sys
from pathlib import Path
from cocotui.state.lock import WriterLock

with WriterLock(Path(sys.argv[1]), sys.argv[2]):
    print("locked", flush=True)
    sys.stdin.readline()  # hold the lock until the test says so
print("released", flush=True)
"""


@contextmanager
def lock_held_elsewhere(lock_file: Path, app: str) -> Iterator[subprocess.Popen[str]]:
    """A separate process holding the app's writer lock until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock_file), app],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline() == "locked\n"
        yield holder
    finally:
        if holder.poll() is None:
            holder.stdin.write("\n")
            holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()


def test_second_writer_fails_with_the_holders_pid(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a", version=1))
    assert ws.apply().returncode == 0
    ws.write_app(export("out", resource="a", version=2))
    ws.clear_calls()
    before = ws.state_file.read_bytes()

    with lock_held_elsewhere(ws.lock_file, "demo_app") as holder:
        for args in (["apply", ws.app, "--yes"], ["drop", ws.app, "--yes"]):
            result = ws.cli(*args)
            assert result.returncode == 1, result
            assert result.stderr.startswith("error: ")
            assert re.search(rf"\(pid {holder.pid}\)", result.stderr), result.stderr
            assert "demo_app" in result.stderr
            assert "Traceback" not in result.stderr
        # Reading is not writing: plan and ls still work.
        assert ws.cli("plan", ws.app).returncode == 0
        assert ws.cli("ls", ws.app).returncode == 0
        assert holder.poll() is None

    assert ws.state_file.read_bytes() == before
    assert ws.side_effect_calls() == []
    result = ws.apply()
    assert result.returncode == 0, result.stderr
    assert ws.setup_calls() == [
        ["a", *({"resource": "a", "version": v, "options": None} for v in (1, 2))]
    ]


def test_lock_of_a_killed_holder_is_released(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"))
    with lock_held_elsewhere(ws.lock_file, "demo_app") as holder:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    result = ws.apply()
    assert result.returncode == 0, result.stderr
    assert len(ws.setup_calls()) == 1


def test_lock_in_process(tmp_path: Path) -> None:
    path = tmp_path / "state" / "app.lock"
    lock = WriterLock(path, "app")
    with lock:
        with lock:  # re-entrant for the same object
            assert lock.held
        assert lock.held
        with pytest.raises(StateLockedError, match=r"pid \d+"), WriterLock(path, "app"):
            pass
    assert not lock.held
    with WriterLock(path, "app"):
        pass
