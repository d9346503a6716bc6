"""Security (issue 7, item 5): state, tracking and lock files are their owner's only; spec
fields whose names say they hold secrets are masked in every display and log (and kept in the
state file, which the connector needs); ``serve`` binds loopback unless told otherwise."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import ExportDecl, Workspace
from rich.text import Text

from cocotui.cli import serve_command
from cocotui.cli.main import build_parser
from cocotui.config import config_path, save_setting
from cocotui.display import MASK, is_secret_name, mask_secrets
from cocotui.engine.facade import Engine
from cocotui.engine.update import UpdateOptions
from cocotui.presenter import present_change, present_target
from cocotui.tui.detail import change_detail, setup_text


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


# ---------------------------------------------------------------------------------------------
# Owner-only files


def test_state_files_are_owner_only_even_with_a_permissive_umask(
    workspace: Workspace, tmp_path: Path
) -> None:
    ws = workspace
    ws.write_app(ExportDecl("out", "RecordingTarget(resource='a')"))
    fresh = tmp_path / "fresh" / "state"  # created by cocotui
    with umask(0):  # inherited by the CLI processes
        assert ws.cli("apply", ws.app, "--yes", "--state-dir", fresh).returncode == 0
        result = ws.cli("update", ws.app, "--workers", "1", "--state-dir", fresh)
        assert result.returncode == 0, result.stderr
    assert mode(fresh) == 0o700
    files = sorted(fresh.iterdir())
    name = ws.state_name
    assert {p.name for p in files} >= {f"{name}.toml", f"{name}.tracking.sqlite", f"{name}.lock"}
    for path in files:
        assert mode(path) == 0o600, path


def test_tracking_journal_is_owner_only_while_open(
    workspace: Workspace, in_process_app: None
) -> None:
    """While an engine has the tracking database open (WAL mode), its ``-wal`` and ``-shm``
    files exist; SQLite gives them the database file's mode."""
    ws = workspace
    ws.write_app(ExportDecl("out", "RecordingTarget(resource='a')"))
    with umask(0):
        engine = Engine.open(str(ws.app), state_dir=ws.state_dir)
        try:
            engine.apply(engine.plan())
            engine.update(UpdateOptions())
            journal = [p for p in ws.state_dir.iterdir() if p.name.endswith(("-wal", "-shm"))]
            assert journal, sorted(p.name for p in ws.state_dir.iterdir())
            for path in [*ws.state_dir.iterdir()]:
                assert mode(path) == 0o600, path
        finally:
            engine.close()


def test_ui_config_is_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COCOTUI_CONFIG_DIR", str(tmp_path / "config"))
    with umask(0):
        save_setting("theme", "nord")
    assert mode(config_path()) == 0o600


# ---------------------------------------------------------------------------------------------
# Which names are secret


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "db_password",
        "adminPassword",
        "PASSWORD",
        "passwd",
        "passphrase",
        "secret",
        "client_secret",
        "token",
        "auth_token",
        "refreshToken",
        "api_key",
        "apiKey",
        "api-key",
        "apikey",
        "secret_key",
        "AWS_SECRET_ACCESS_KEY",
        "access_key",
        "private_key",
        "credentials",
    ],
)
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "key",
        "primary_key",
        "persistent_key",
        "key_fields",
        "keyColumns",
        "sort_key",
        "token_env",
        "url_env",
        "headers_env",
        "max_tokens",
        "tokenizer",
        "secret_name_env",
        "url",
        "resource",
        "",
    ],
)
def test_names_that_are_not_secret(name: str) -> None:
    assert not is_secret_name(name)


def test_mask_secrets_at_any_depth() -> None:
    value = {
        "resource": "r",
        "password": "hunter2",
        "key": "kept",
        "empty_token": "",
        "no_secret": None,
        "options": {"api_key": 1234, "nested": [{"secret": ["a", "b"]}, ("token", "x")]},
        "url": "postgresql://me:s3cret@db.example.com:5432/app",
        "urls": ["https://user:pw@host/x", "https://host/no-password", "not a url"],
        "dsn": "scheme://me@host/x",
    }
    assert mask_secrets(value) == {
        "resource": "r",
        "password": MASK,
        "key": "kept",
        "empty_token": "",
        "no_secret": None,
        "options": {"api_key": MASK, "nested": [{"secret": MASK}, ("token", "x")]},
        "url": f"postgresql://me:{MASK}@db.example.com:5432/app",
        "urls": [f"https://user:{MASK}@host/x", "https://host/no-password", "not a url"],
        "dsn": "scheme://me@host/x",
    }
    assert mask_secrets("hunter2", "password") == MASK
    assert mask_secrets("error: cannot reach postgresql://a:b@h/d") == (
        f"error: cannot reach postgresql://a:{MASK}@h/d"
    )


# ---------------------------------------------------------------------------------------------
# Masked in every display, kept in the state

SECRET_HEADER = """
class SecretTarget(cocoindex.op.TargetSpec):
    resource: str
    password: str = ""
    api_key: str | None = None
    options: dict | None = None
    url: str = ""

@cocoindex.op.target_connector(spec_cls=SecretTarget)
class SecretConnector:
    @staticmethod
    def get_persistent_key(spec, target_name):
        return spec.resource

    @staticmethod
    def describe(key):
        return f"secret resource {key}"

    @staticmethod
    def apply_setup_change(key, previous, current):
        if current is not None and current.password == "fail-please":
            raise RuntimeError(f"cannot log in to {current.url}")

    @staticmethod
    def mutate(*all_mutations):
        pass
"""

PASSWORD = "hunter2-very-secret"
API_KEY = "ak-0123456789"
TOKEN = "tok-abcdef"
URL_PASSWORD = "urlpass-42"


def secret_app(ws: Workspace, password: str = PASSWORD) -> None:
    spec = (
        f"SecretTarget(resource='s', password={password!r}, api_key={API_KEY!r}, "
        f"options={{'auth_token': {TOKEN!r}, 'key': 'visible-key'}}, "
        f"url='https://me:{URL_PASSWORD}@example.com/db')"
    )
    ws.write_app(ExportDecl("out", spec), header=SECRET_HEADER)


SECRETS = (PASSWORD, API_KEY, TOKEN, URL_PASSWORD, "fail-please")


def assert_masked(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, (secret, text)


def test_secrets_are_masked_in_plans_listings_and_json(workspace: Workspace) -> None:
    ws = workspace
    secret_app(ws)
    plan = ws.cli("plan", ws.app)
    assert plan.returncode == 0, plan.stderr
    assert_masked(plan.stdout)
    assert f'+ password = "{MASK}"' in plan.stdout
    assert f'+ api_key = "{MASK}"' in plan.stdout
    assert f'"auth_token": "{MASK}"' in plan.stdout
    assert '"key": "visible-key"' in plan.stdout  # "key" alone is not a secret
    assert f"me:{MASK}@example.com" in plan.stdout

    plan_json = ws.plan_json()
    assert_masked(json.dumps(plan_json))
    [change] = plan_json["changes"]
    assert change["current"]["password"] == MASK
    assert change["current"]["options"] == {"auth_token": MASK, "key": "visible-key"}

    applied = ws.apply("--json")
    assert applied.returncode == 0, applied.stderr
    assert_masked(applied.stdout + applied.stderr)

    # The state keeps the real values: the connector is called with them again.
    [stored] = ws.stored_targets()
    state = stored["committed"]["state"]
    assert state["password"] == PASSWORD and state["api_key"] == API_KEY
    assert state["options"]["auth_token"] == TOKEN
    assert mode(ws.state_file) == 0o600

    # A changed secret shows that it changed, not what it was or is.
    secret_app(ws, password="a-new-one-" + PASSWORD)
    plan = ws.cli("plan", ws.app)
    assert_masked(plan.stdout)
    assert f'~ password: "{MASK}" → "{MASK}"' in plan.stdout
    plan_json = ws.plan_json()
    assert_masked(json.dumps(plan_json))
    assert plan_json["changes"][0]["previous"][0]["password"] == MASK
    for args in (("ls", ws.app), ("ls", ws.app, "--json")):
        listing = ws.cli(*args)
        assert listing.returncode == 0, listing.stderr
        assert_masked(listing.stdout)


def test_secrets_are_masked_in_errors_and_the_stored_error(workspace: Workspace) -> None:
    ws = workspace
    secret_app(ws, password="fail-please")
    for args in (("apply", ws.app, "--yes"), ("apply", ws.app, "--yes", "--json")):
        result = ws.cli(*args)
        assert result.returncode == 1
        assert_masked(result.stdout + result.stderr)
        assert f"https://me:{MASK}@example.com/db" in result.stdout + result.stderr
    listing = ws.cli("ls", ws.app, "--json")
    [target] = json.loads(listing.stdout)["targets"]
    assert target["last_error"] and URL_PASSWORD not in target["last_error"]
    assert_masked(listing.stdout)


def test_secrets_are_masked_in_the_terminal_ui(workspace: Workspace, in_process_app: None) -> None:
    ws = workspace
    secret_app(ws)
    engine = Engine.open(str(ws.app), state_dir=ws.state_dir)
    try:
        [change] = engine.plan().pending
        detail = change_detail(present_change(change)).plain
        assert_masked(detail)
        assert f'+ password = "{MASK}"' in detail
        [row] = engine.status()
        setup = setup_text(present_target(row)).plain
        assert_masked(setup)
        assert "password" in setup and MASK in setup
        engine.apply(engine.plan())
    finally:
        engine.close()
    secret_app(ws, password="a-new-one-" + PASSWORD)
    engine = Engine.open(str(ws.app), state_dir=ws.state_dir)
    try:
        [change] = engine.plan().pending
        detail = change_detail(present_change(change)).plain
        assert_masked(detail)
        assert f'~ password: "{MASK}" → "{MASK}"' in detail
        [row] = engine.status()
        setup: Any = setup_text(present_target(row))
        assert isinstance(setup, Text)
        assert_masked(setup.plain)
        assert "committed setup" in setup.plain and "desired setup" in setup.plain
    finally:
        engine.close()
    stored = tomllib.loads(ws.state_file.read_text())["targets"][0]
    assert stored["committed"]["state"]["password"] == PASSWORD


# ---------------------------------------------------------------------------------------------
# serve: loopback by default, read-only elsewhere unless --allow-write


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("10.0.0.1", False),
        ("example.com", False),
        ("", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert serve_command.is_loopback(host) is loopback


def test_serve_binds_loopback_by_default(tmp_path: Path) -> None:
    args = build_parser().parse_args(["serve", "app.py"])
    assert args.host == "127.0.0.1"
    assert not args.allow_write
    command = serve_command.tui_command_line(args)
    assert command.startswith(f"{sys.executable} -m cocotui tui app.py")
    assert "--read-only" not in command

    # Started for real, it listens on 127.0.0.1 only.
    port = _free_port()
    env = {**os.environ, "COCOTUI_STATE_DIR": str(tmp_path / "state")}
    server = subprocess.Popen(
        [sys.executable, "-m", "cocotui", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        listening = _wait_for_listener(port, server)
        assert listening == {"127.0.0.1"}, listening
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_listener(port: int, server: subprocess.Popen[bytes]) -> set[str]:
    """The local addresses of the sockets listening on ``port`` (from /proc/net/tcp*), once
    there is one; fails if the server exits first or nothing listens within 30 s."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        addresses = _listening_addresses(port)
        if addresses:
            return addresses
        if server.poll() is not None:
            assert server.stderr is not None
            raise AssertionError(f"serve exited: {server.stderr.read().decode()}")
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


def _listening_addresses(port: int) -> set[str]:
    listen_state = "0A"
    found: set[str] = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        with contextlib.suppress(FileNotFoundError), open(table) as lines:
            for line in list(lines)[1:]:
                local, state = line.split()[1], line.split()[3]
                address, _, hexport = local.partition(":")
                if state == listen_state and int(hexport, 16) == port:
                    raw = bytes.fromhex(address)
                    # /proc prints each 32-bit word in host (little-endian) order.
                    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
                    found.add(socket.inet_ntop(family, words))
    return found


@pytest.mark.parametrize(
    ("argv", "read_only"),
    [
        (["--host", "0.0.0.0"], True),
        (["--host", "192.168.1.10", "--port", "9000"], True),
        (["--host", "0.0.0.0", "--allow-write"], False),
        (["--host", "localhost"], False),
        (["--host", "::1"], False),
    ],
)
def test_serve_is_read_only_off_loopback(argv: list[str], read_only: bool) -> None:
    args = build_parser().parse_args(["serve", "app.py", "--state-dir", "/s", *argv])
    command = serve_command.tui_command_line(args)
    assert ("--read-only" in command.split()) is read_only
    assert "--state-dir /s" in command


def test_serve_command_line_quotes_its_arguments() -> None:
    args = argparse.Namespace(
        app="my app.py; rm -rf /", app_name=None, state_dir=None, host="0.0.0.0", allow_write=False
    )
    command = serve_command.tui_command_line(args)
    assert "'my app.py; rm -rf /'" in command
    assert command.endswith("--read-only")
