"""Typed keys and states across the typed-codec / typed-schema merge: a NamedTuple persistent
key stored in its earlier form (a tuple of its fields) still names the same target."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import typed_state_connector as tsc
from conftest import ExportDecl, Workspace

from cocotui.state.setup_store import TomlSetupStore

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
