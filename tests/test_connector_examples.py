"""The example apps in ``examples/`` run as the README shows: apply, update, drop."""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest
from connector_helpers import postgres_url
from psycopg import sql

from cocotui.testing import AppRunner

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
GUIDES = {
    "getting-started.md",
    "incremental-updates.md",
    "setup-changes.md",
    "writing-connectors.md",
}


def test_the_connectors_are_installed(tmp_path: Path) -> None:
    listing = AppRunner(EXAMPLES / "sqlite_app.py", tmp_path).cli("connectors", "--json")
    kinds = {c["kind"]: c for c in listing.expect().json()["connectors"]}
    for kind, module in [
        ("SqliteTable", "cocotui_connectors.sqlite"),
        ("PostgresTable", "cocotui_connectors.postgres"),
        ("HttpEndpoint", "cocotui_connectors.http"),
    ]:
        assert kinds[kind]["connector"].startswith(module + ".")
        assert "get_setup_state" in kinds[kind]["optional_methods"]
        assert kinds[kind]["doc"]
    files = kinds["DirectoryTarget"]
    assert files["connector"] == "cocotui_connectors.files.DirectoryTargetConnector"
    assert "check_state_compatibility" in files["optional_methods"]
    assert files["doc"]


def _run(runner: AppRunner) -> None:
    applied = runner.apply()
    assert [c["action"] for c in applied["applied"]] == ["create"]
    outcome = runner.update()
    assert outcome.ok, outcome.result.stderr
    [first] = outcome.finished["targets"].values() if outcome.finished else [None]
    assert first is not None and first["inserted"] == len(GUIDES)
    # Nothing changed: the second update sends nothing.
    again = runner.update()
    assert again.ok, again.result.stderr
    assert again.mutations == 0


def test_sqlite_example(tmp_path: Path) -> None:
    runner = AppRunner(
        EXAMPLES / "sqlite_app.py", tmp_path / "state", env={"EXAMPLE_OUT": str(tmp_path)}
    )
    _run(runner)
    with sqlite3.connect(tmp_path / "guides.db") as conn:
        rows = conn.execute("SELECT filename, title, words, headings FROM guides").fetchall()
    assert {r[0] for r in rows} == GUIDES
    assert ("writing-connectors.md", "Writing a connector") in {(r[0], r[1]) for r in rows}
    assert all(isinstance(r[2], int) and r[3].startswith("[") for r in rows)
    runner.drop()
    with sqlite3.connect(tmp_path / "guides.db") as conn:
        tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    assert ("guides",) not in tables


def test_files_example(tmp_path: Path) -> None:
    runner = AppRunner(
        EXAMPLES / "files_app.py", tmp_path / "state", env={"EXAMPLE_OUT": str(tmp_path)}
    )
    _run(runner)
    out = tmp_path / "guides"
    cards = {p.name: p.read_text() for p in out.iterdir() if p.is_file()}
    manifest = cards.pop(".cocotui-written")
    assert set(cards) == {g.removesuffix(".md") + ".txt" for g in GUIDES}
    assert sorted(json.loads(line) for line in manifest.splitlines()) == sorted(cards)
    card = cards["writing-connectors.txt"].splitlines()
    assert card[0] == "Writing a connector"
    assert card[1].endswith(" words") and int(card[1].split()[0]) > 0
    assert all(line.startswith("- ") for line in card[3:]) and len(card) > 3
    runner.drop()
    assert not out.exists()


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def example_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    monkeypatch.setenv("EXAMPLE_HTTP_TOKEN", "Bearer example")
    module = _load(EXAMPLES / "http_server.py")
    store = module.Store()
    server = module.make_server(0, store)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", store
    finally:
        server.shutdown()
        server.server_close()


def test_http_example(tmp_path: Path, example_server: tuple[str, Any]) -> None:
    url, store = example_server
    runner = AppRunner(
        EXAMPLES / "http_app.py",
        tmp_path / "state",
        env={"EXAMPLE_HTTP_URL": url, "EXAMPLE_HTTP_TOKEN": "Bearer example"},
    )
    _run(runner)
    assert store.collections["guides"]["key_fields"] == ["filename"]
    items = store.items["guides"]
    assert set(items) == GUIDES
    assert items["setup-changes.md"]["title"] == "Reviewing setup changes"
    runner.drop()
    assert "guides" not in store.collections


def test_postgres_example(tmp_path: Path) -> None:
    url = postgres_url()
    table = f"guides_{uuid.uuid4().hex[:8]}"
    runner = AppRunner(
        EXAMPLES / "postgres_app.py",
        tmp_path / "state",
        env={"DATABASE_URL": url, "EXAMPLE_TABLE": table},
    )
    try:
        _run(runner)
        with psycopg.connect(url) as conn:
            rows = conn.execute(
                sql.SQL("SELECT filename, title, words, headings FROM {}").format(
                    sql.Identifier(table)
                )
            ).fetchall()
        assert {r[0] for r in rows} == GUIDES
        assert all(isinstance(r[2], int) and isinstance(r[3], list) for r in rows)
        runner.drop()
        with psycopg.connect(url) as conn:
            found = conn.execute("SELECT to_regclass(%s)", [table]).fetchone()
        assert found == (None,)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
