"""Secrets and terminal control characters in human output (issue 15, item 12): secrets spelled
out inside strings (conninfo ``sslpassword=``, URL ``access_token=``, ``Authorization``
headers) are masked in plans, listings and update errors; PostgreSQL keeps them out of its
persistent key and setup state; file names cannot drive the terminal."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from conftest import ExportDecl, Workspace
from rich.text import Text
from snapshot import (
    SIZE,
    StillMonitor,
    detail_text,
    isolated_imports,
    recorder,
    run,
    write_recording_app,
)
from textual.widgets import RichLog

from cocotui import FieldSchema
from cocotui.display import MASK, display_line, display_text, is_secret_name, mask_secrets
from cocotui.engine.facade import Engine
from cocotui.presenter import present_change, present_target
from cocotui.tui.app import CocotuiApp
from cocotui.tui.detail import change_detail, setup_text
from cocotui_connectors.postgres import PostgresTable, PostgresTableConnector, PostgresTargetError

SECRETS = ("SSLPW1", "SSLPW2", "HDRTOKEN", "DSNPW", "ACCTOK", "APIKEYQ")

HEADER = """
class ServiceTarget(cocoindex.op.TargetSpec):
    resource: str
    headers: dict | None = None
    dsn: str = ""
    endpoint: str = ""

@cocoindex.op.target_connector(spec_cls=ServiceTarget)
class ServiceConnector:
    @staticmethod
    def get_persistent_key(spec, target_name):
        return spec.resource

    @staticmethod
    def describe(key):
        return f"service {key}"

    @staticmethod
    def apply_setup_change(key, previous, current):
        pass

    @staticmethod
    def prepare(spec):
        return spec

    @staticmethod
    def mutate(*all_mutations):
        for spec, rows in all_mutations:
            raise RuntimeError(f"cannot reach {spec.endpoint} with {spec.dsn}, {spec.headers}")
"""

SPEC = (
    "ServiceTarget(resource='svc', headers={'Authorization': 'Bearer HDRTOKEN'}, "
    "dsn='host=db password=DSNPW sslpassword=SSLPW1', "
    "endpoint='https://api.example.com/v1?access_token=ACCTOK&api_key=APIKEYQ')"
)


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, (secret, text)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "postgresql://me@host/db?sslpassword=SSLPW1",
            f"postgresql://me@host/db?sslpassword={MASK}",
        ),
        ("host=h dbname=d sslpassword=SSLPW2", f"host=h dbname=d sslpassword={MASK}"),
        ("host=x password='a b' user=me", f"host=x password='{MASK}' user=me"),
        (
            "https://api.example.com/v1?access_token=ACCTOK&api_key=APIKEYQ&page=2",
            f"https://api.example.com/v1?access_token={MASK}&api_key={MASK}&page=2",
        ),
        ("{'Authorization': 'Bearer HDRTOKEN'}", f"{{'Authorization': '{MASK}'}}"),
        ('"X-Api-Key": "APIKEYQ"', f'"X-Api-Key": "{MASK}"'),
        ("sent Bearer HDRTOKEN0123", f"sent Bearer {MASK}"),
        ("postgresql://me:p@ss@host/db", f"postgresql://me:{MASK}@host/db"),
        ("ValueError: password=DSNPW", f"ValueError: password={MASK}"),
        # Not secrets: left as they are.
        ("max_tokens=5 token_env=API_TOKEN key=k", "max_tokens=5 token_env=API_TOKEN key=k"),
        ("https://host/path?page=2", "https://host/path?page=2"),
    ],
)
def test_secrets_spelled_out_in_text_are_masked(text: str, shown: str) -> None:
    assert mask_secrets(text) == shown


@pytest.mark.parametrize("name", ["sslpassword", "Authorization", "Cookie", "accessToken"])
def test_more_secret_names(name: str) -> None:
    assert is_secret_name(name)
    assert mask_secrets({name: "x"}) == {name: MASK}


def test_secrets_in_spec_strings_are_masked_in_plan_ls_and_update(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(ExportDecl("svc", SPEC), header=HEADER)
    ws.write_source_file("a.txt", "a")
    for args in (("plan", ws.app), ("plan", ws.app, "--json"), ("ls", ws.app, "--json")):
        result = ws.cli(*args)
        assert result.returncode == 0, result.stderr
        assert_no_secret(result.stdout + result.stderr)
    assert f'"Authorization": "{MASK}"' in ws.cli("plan", ws.app).stdout
    assert ws.apply().returncode == 0
    for args in (("update", ws.app), ("update", ws.app, "--json", "--reexport")):
        result = ws.cli(*args, "--workers", "1")
        assert result.returncode == 1  # the row failed, naming the endpoint
        assert "api.example.com" in result.stdout + result.stderr
        assert_no_secret(result.stdout + result.stderr)
    # A custom connector's setup state is stored as it is: the connector gets it back as
    # ``previous``, and the file is its owner's only.
    stored = tomllib.loads(ws.state_file.read_text())["targets"][0]["committed"]["state"]
    assert stored["headers"] == {"Authorization": "Bearer HDRTOKEN"}


def test_fields_naming_environment_variables_are_shown() -> None:
    shown = {"headers_env": {"Authorization": "API_TOKEN"}, "url_env": "DATABASE_URL"}
    assert mask_secrets(shown) == shown


# ---------------------------------------------------------------------------------------------
# PostgreSQL: no secret in the persistent key or the setup state

KEY = [FieldSchema("filename", str)]
VALUE = [FieldSchema("content", str)]


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("postgresql://me@host/db?sslpassword=SSLPW1", "postgresql://me@host/db"),
        (
            "postgresql://me:pw@host/db?sslmode=require&sslpassword=SSLPW1",
            "postgresql://me@host/db?sslmode=require",
        ),
        ("host=h dbname=d user=me sslpassword=SSLPW2", "user=me dbname=d host=h"),
    ],
)
def test_postgres_state_has_no_sslpassword(url: str, stored: str) -> None:
    spec = PostgresTable(url=url, table="t")
    state = PostgresTableConnector.get_setup_state(spec, KEY, VALUE)
    assert state.url == stored
    key = PostgresTableConnector.get_persistent_key(spec, "t")
    assert_no_secret(json.dumps(key) + repr(state))


def test_postgres_url_with_an_unescaped_at_in_the_password_is_refused() -> None:
    spec = PostgresTable(url="postgresql://me:p@ssw0rd@host/db", table="t")
    with pytest.raises(PostgresTargetError) as caught:
        PostgresTableConnector.get_persistent_key(spec, "t")
    assert "%40" in str(caught.value)
    assert "ssw0rd" not in str(caught.value)
    escaped = PostgresTable(url="postgresql://me:p%40ssw0rd@host/db", table="t")
    assert PostgresTableConnector.get_persistent_key(escaped, "t")["host"] == "host"


# ---------------------------------------------------------------------------------------------
# Terminal control characters

NASTY = "evil\x1b]0;pwned\x07\x1b[2J\r\nsrc: 0 added, 0 errors\u202e\udcff.txt"


def test_display_escapes_control_characters() -> None:
    shown = display_line(NASTY)
    assert shown == (
        "evil\\x1b]0;pwned\\x07\\x1b[2J\\x0d\\x0asrc: 0 added, 0 errors\\u202e\\udcff.txt"
    )
    assert shown.isprintable()
    assert display_text("line one\n\tline two\x1b[2J") == "line one\n\tline two\\x1b[2J"


def test_a_file_name_with_control_characters_reaches_the_terminal_escaped(
    workspace: Workspace,
) -> None:
    ws = workspace
    header = """
@cocoindex.op.function()
def refuse(text):
    raise ValueError("no")
"""
    ws.write_app(
        ExportDecl("out", "RecordingTarget(resource='a')"),
        header=header,
        collect='filename=doc["filename"], content=doc["content"].transform(refuse)',
    )
    name = "evil\x1b]0;pwned\x07\x1b[2J\nF: 0 errors.txt"
    (ws.source_dir / name).write_text("x")
    assert ws.apply().returncode == 0
    result = ws.cli("update", ws.app, "--workers", "1")
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "\x1b" not in output and "\x07" not in output
    assert "evil\\x1b]0;pwned\\x07\\x1b[2J\\x0aF: 0 errors.txt" in output
    listing = ws.cli("ls", ws.app)
    assert "\x1b" not in listing.stdout


def test_the_terminal_ui_escapes_and_masks(workspace: Workspace, in_process_app: None) -> None:
    ws = workspace
    spec = SPEC.replace("resource='svc'", "resource='svc\\x9b2J'")  # C1: CSI in one byte
    ws.write_app(ExportDecl("svc", spec), header=HEADER)
    engine = Engine.open(str(ws.app), state_dir=ws.state_dir)
    try:
        [change] = engine.plan().pending
        detail = change_detail(present_change(change)).plain
        [row] = engine.status()
        setup: Text = setup_text(present_target(row))
    finally:
        engine.close()
    for text in (detail, setup.plain):
        assert_no_secret(text)
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", text), text
        assert "svc\\x9b2J" in text


def test_the_terminal_ui_escapes_file_names_in_the_log_and_the_detail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COCOTUI_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("COCOTUI_CONFIG_DIR", str(tmp_path / "config"))
    with isolated_imports(tmp_path):
        app_file = write_recording_app(tmp_path / "app", tmp_path / "source")
        (tmp_path / "source" / "evil\x1b]0;pwned\x07\x1b[2J.txt").write_text("x")
        engine = Engine.open(str(app_file))
        try:
            engine.apply(engine.plan())
            recorder().FAIL.add("mutate")
            app = CocotuiApp(engine, monitor_factory=StillMonitor)

            async def scenario() -> list[str]:
                async with app.run_test(size=SIZE) as pilot:
                    await pilot.press("u")
                    await app.workers.wait_for_complete()
                    await pilot.pause()
                    app.poll_run()
                    log = app.query_one("#log", RichLog)
                    return [strip.text for strip in log.lines] + [detail_text(app)]

            shown = run(scenario)
        finally:
            engine.close()
    text = "\n".join(shown)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", text), text
    assert "evil\\x1b]0;pwned\\x07\\x1b[2J.txt" in text
