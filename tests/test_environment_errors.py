"""The environment refusing a write (disk full, read-only directory or HOME) is one `error:`
line naming the path and the remedy, never a traceback; state files are never reached through
symlinks; the state directory must be the user's own; the UI needs a terminal; SIGTERM stops
`update` at a batch boundary like Ctrl-C; an app file named like a standard module does not
replace it (issue 15, items 13 and 14).

The OS errors are injected: tests may run as root, which no permission bit stops."""

from __future__ import annotations

import errno
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import Workspace, base_env, export

from cocotui.cli.main import main
from cocotui.config import save_setting
from cocotui.flow.loader import load_app
from cocotui.state.setup_store import AppState, TomlSetupStore

pytestmark = pytest.mark.usefixtures("in_process_app")

ROOT = Path(__file__).resolve().parent.parent
CLI = (sys.executable, "-m", "cocotui")


def run_main(capsys: pytest.CaptureFixture[str], *args: str | os.PathLike[str]) -> tuple[int, str]:
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


def assert_one_error_line(stderr: str, *fragments: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for fragment in fragments:
        assert fragment in lines[0], stderr


@contextmanager
def failing(monkeypatch: pytest.MonkeyPatch, name: str, under: Path, code: int) -> Iterator[None]:
    """``os.<name>`` fails with ``code`` for paths under ``under`` (as the kernel would)."""
    real: Callable[..., Any] = getattr(os, name)

    def refuse(path: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(path, (str, os.PathLike)) and Path(path).is_relative_to(under):
            raise OSError(code, os.strerror(code), str(path))
        return real(path, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(os, name, refuse)
        yield


# -- item 13: environment errors ----------------------------------------------------------------


def test_lock_write_on_a_full_disk(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"))

    def full(fd: int, data: bytes, offset: int) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "pwrite", full)
    code, stderr = run_main(capsys, "apply", ws.app, "--yes")

    assert code == 1
    assert_one_error_line(
        stderr, f"cannot write lock file {ws.lock_file}", "No space left on device", "--state-dir"
    )


def test_tracking_database_on_a_full_disk(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"))
    assert run_main(capsys, "apply", ws.app, "--yes")[0] == 0
    assert run_main(capsys, "update", ws.app, "--workers", "1")[0] == 0
    for index in range(300):
        ws.write_source_file(f"new-{index:03}.txt", "x")
    real_connect = sqlite3.connect

    def no_room_to_grow(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        db = real_connect(*args, **kwargs)
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {max(pages, 1)}")  # SQLite's real SQLITE_FULL
        return db

    monkeypatch.setattr(sqlite3, "connect", no_room_to_grow)
    code, stderr = run_main(capsys, "update", ws.app, "--workers", "1")

    assert code == 1
    assert_one_error_line(
        stderr, f"tracking database {ws.tracking_file}", "No space left on device"
    )


def test_read_only_state_directory(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"))
    assert run_main(capsys, "apply", ws.app, "--yes")[0] == 0
    ws.write_app(export("out", resource="a", version=2))

    with failing(monkeypatch, "open", ws.state_dir, errno.EACCES):
        listing, listed = run_main(capsys, "ls", ws.app)  # reading needs no write
        code, stderr = run_main(capsys, "apply", ws.app, "--yes")

    assert listing == 0, listed
    assert code == 1
    assert_one_error_line(stderr, str(ws.lock_file), "Permission denied", "writable by you")


def test_read_only_home(
    workspace: Workspace,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"))
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("COCOTUI_STATE_DIR", "XDG_STATE_HOME"):
        monkeypatch.delenv(name, raising=False)

    with failing(monkeypatch, "mkdir", home, errno.EROFS):
        code, stderr = run_main(capsys, "apply", ws.app, "--yes")

    assert code == 1
    assert_one_error_line(stderr, f"{home}/", "Read-only file system", "$COCOTUI_STATE_DIR")


def test_ui_setting_under_a_read_only_home_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_dir = tmp_path / "home" / ".config" / "cocotui"
    monkeypatch.setenv("COCOTUI_CONFIG_DIR", str(config_dir))

    with failing(monkeypatch, "mkdir", tmp_path / "home", errno.EROFS):
        problem = save_setting("theme", "nord")

    assert problem == (
        f"cannot save the theme setting to {config_dir / 'config.toml'}: Read-only file system"
    )


def test_postgres_example_without_its_database_url(tmp_path: Path) -> None:
    env = base_env(COCOTUI_STATE_DIR=str(tmp_path / "state"), DATABASE_URL=None)
    result = subprocess.run(
        [sys.executable, "-m", "cocotui", "ls", str(ROOT / "examples" / "postgres_app.py")],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert_one_error_line(result.stderr, "environment variable DATABASE_URL", "is not set")


# -- item 14: symlinks, ownership, terminals, signals, module names -----------------------------


def test_a_symlink_planted_as_the_lock_file_is_refused(
    workspace: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"))
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    ws.lock_file.symlink_to(victim)

    code, stderr = run_main(capsys, "apply", ws.app, "--yes")

    assert code == 1
    assert_one_error_line(stderr, f"lock file {ws.lock_file} is a symbolic link")
    assert victim.read_text() == "keep me"


def test_temp_state_files_are_created_exclusively(tmp_path: Path) -> None:
    """A symlink planted where the temp file will be created (its name is predictable: it
    holds the writer's pid) is replaced, never written through."""
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    state = tmp_path / "app.toml"
    (tmp_path / f".app.toml.{os.getpid()}.tmp").symlink_to(victim)

    TomlSetupStore(state, "app").save(AppState("app"))

    assert victim.read_text() == "keep me"
    assert not state.is_symlink() and TomlSetupStore(state, "app").load().targets == []


def test_state_directory_writable_by_others_is_refused(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"))
    ws.state_dir.chmod(0o777)

    code, stderr = run_main(capsys, "ls", ws.app)

    assert code == 1
    assert_one_error_line(stderr, f"state directory {ws.state_dir} is writable by other users")


def test_state_directory_of_another_user_is_refused(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"))
    owner = ws.state_dir.stat().st_uid
    monkeypatch.setattr(os, "geteuid", lambda: owner + 1)  # as if we were someone else

    code, stderr = run_main(capsys, "apply", ws.app, "--yes")

    assert code == 1
    assert_one_error_line(stderr, f"belongs to uid {owner}, not to you (uid {owner + 1})")


def test_the_ui_without_a_terminal_exits_instead_of_spinning(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"))
    result = subprocess.run(
        [sys.executable, "-m", "cocotui", str(ws.app)],
        env=ws.env(TEXTUAL_DRIVER=None),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,  # before the fix: spun at full CPU until killed
    )
    assert result.returncode == 1
    assert_one_error_line(result.stderr, "needs a terminal", "stdin and stdout")


SLOW_APP = """\
import os, time
from pathlib import Path
import cocotui as cocoindex
from recording_connector import RecordingTarget

@cocoindex.op.function
def wait_on_b(name, text):
    if name == "b.txt":  # tell the test we are mid-row, then wait until it says go
        Path(os.environ["STARTED"]).touch()
        while not Path(os.environ["GO"]).exists():
            time.sleep(0.01)
    return text

@cocoindex.flow_def(name="Docs")
def docs(flow_builder, data_scope):
    data_scope["documents"] = flow_builder.add_source(
        cocoindex.sources.LocalFile(path="../source"))
    out = data_scope.add_collector()
    with data_scope["documents"].row() as doc:
        doc["text"] = doc["filename"].transform(wait_on_b, doc["content"])
        out.collect(filename=doc["filename"], content=doc["text"])
    out.export("out", RecordingTarget(resource="a"), primary_key_fields=["filename"])
"""


def test_sigterm_stops_update_at_a_batch_boundary(workspace: Workspace, tmp_path: Path) -> None:
    ws = workspace
    ws.write_raw_app(SLOW_APP)
    for name in ("b.txt", "c.txt"):
        ws.write_source_file(name, name)
    assert ws.apply().returncode == 0
    started, go = tmp_path / "started", tmp_path / "go"
    update = subprocess.Popen(
        [*CLI, "update", str(ws.app), "--workers", "1", "--batch-rows", "1", "--json"],
        env=ws.env(STARTED=str(started), GO=str(go)),
        cwd=ws.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while not started.exists():  # the synchronisation point, not a timing assumption
            assert update.poll() is None, update.communicate()
            time.sleep(0.01)
        update.send_signal(signal.SIGTERM)
        go.touch()
        stdout, stderr = update.communicate(timeout=120)
    finally:
        update.kill()

    assert update.returncode == 2, stderr  # stopped before the end, not killed
    events = [json.loads(line) for line in stdout.splitlines()]
    finished = [e for e in events if e["event"] == "run.finished"]
    assert finished and finished[0]["stopped"], events
    assert "stopping at the next batch boundary (SIGTERM again to abort)" in stderr
    exported = set(json.loads((ws.resources / "a.rows.json").read_text()))
    assert '"a.txt"' in exported and '"c.txt"' not in exported  # stopped in between
    rest = ws.cli("update", ws.app, "--workers", "1", STARTED=str(started), GO=str(go))
    assert rest.returncode == 0, rest.stderr
    added = 3 - len(exported)
    assert f"{added} added, 0 updated, 0 deleted, {3 - added} unchanged" in rest.stdout


@pytest.mark.parametrize("module", ["json", "colorsys"])
def test_an_app_file_named_like_a_standard_module_does_not_replace_it(
    workspace: Workspace, module: str
) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"))
    app = ws.app.rename(ws.root / f"{module}.py")

    load_app(str(app))

    import importlib

    standard = Path(str(importlib.import_module(module).__file__))
    assert standard.is_relative_to(Path(os.__file__).parent), standard
