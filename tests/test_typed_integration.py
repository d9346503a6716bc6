"""Typed keys and states across the typed-codec / typed-schema merge: a NamedTuple persistent
key stored in its earlier form (a tuple of its fields) still names the same target, and its
row tracking follows it."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import typed_state_connector as tsc
from conftest import ExportDecl, Workspace

from cocotui.state.setup_store import TomlSetupStore
from cocotui.state.tracking import SqliteTracking

CONNECTOR = Path(__file__).resolve().parent / "typed_state_connector.py"
SPEC = "SpecStateTable(bucket='b', prefix='p/', index=IndexSpec('content', Metric.L2, Hnsw(m=16)))"
HEADER = "from typed_state_connector import Hnsw, IndexSpec, Metric, SpecStateTable\n"
KEY = {"bucket": "b", "prefix": "p/"}


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    shutil.copy(CONNECTOR, workspace.root / CONNECTOR.name)
    workspace.write_app(ExportDecl("out", SPEC), header=HEADER)
    result = workspace.apply()
    assert result.returncode == 0, result.stderr
    return workspace


def store_key_as_tuple(ws: Workspace) -> None:
    """Rewrite the stored key as states written before keys were typed hold it."""
    store = TomlSetupStore(ws.state_file, "ignored")
    state = store.load()
    [target] = state.targets
    assert target.key == KEY
    target.key = tuple(tsc._SpecKey("b", "p/"))
    store.save(state)


def test_a_namedtuple_key_stored_as_a_tuple_plans_no_drop(ws: Workspace) -> None:
    store_key_as_tuple(ws)
    assert ws.stored_targets()[0]["key"] != KEY
    plan = ws.plan_json()
    assert [c["action"] for c in plan["changes"]] == ["none"], plan


def test_an_apply_after_it_stores_the_key_in_todays_form_once(ws: Workspace) -> None:
    store_key_as_tuple(ws)
    ws.write_app(ExportDecl("out", SPEC.replace("m=16", "m=32")), header=HEADER)
    plan = ws.plan_json()
    assert [c["action"] for c in plan["changes"]] == ["update"], plan
    result = ws.apply()
    assert result.returncode == 0, result.stderr
    [stored] = ws.stored_targets()
    assert stored["key"] == KEY
    assert [c["action"] for c in ws.plan_json()["changes"]] == ["none"]


def identities(ws: Workspace) -> list[str]:
    """The target identities row tracking holds."""
    with sqlite3.connect(ws.tracking_file) as db:
        return [row[0] for row in db.execute("SELECT identity FROM targets")]


def test_an_update_moves_the_key_and_its_row_tracking_to_todays_form(ws: Workspace) -> None:
    ws.write_source_file("a.md", "alpha")
    assert ws.cli("update", ws.app, "--workers", "1").returncode == 0
    [today] = identities(ws)
    # As an earlier cocotui left it: the key a tuple, in the state and in row tracking.
    store_key_as_tuple(ws)
    [target] = TomlSetupStore(ws.state_file, "ignored").load().targets
    SqliteTracking(ws.tracking_file).rename_targets([(json_identity(today), target.identity)])
    assert identities(ws) != [today]

    result = ws.cli("update", ws.app, "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert "tracking" not in result.stderr  # not reported as lost: its rows were kept
    assert ws.stored_targets()[0]["key"] == KEY
    assert identities(ws) == [today]


def json_identity(text: str) -> tuple[str, str, str]:
    flow, kind, key = json.loads(text)
    return (flow, kind, key)
