"""Typed persistent keys, setup states and specs (issue 10, item 4): a connector shaped like v0's
LanceDB one (``typed_state_connector.py``) gets its dataclass / NamedTuple keys and states, with
nested structs, enums, lists, dicts, unions, ``timedelta`` and ``AuthEntryReference``, back as the
declared types in ``apply_setup_change``, ``describe`` and ``check_state_compatibility``: after a
round trip through the TOML state, and after a SIGKILL and roll-forward."""

from __future__ import annotations

import datetime
import enum
import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import typed_state_connector as tsc
from conftest import ExportDecl, Workspace

import cocotui as cocoindex
from cocotui.auth_registry import AuthEntryReference
from cocotui.op import TargetStateCompatibility
from cocotui.testing import ConnectorHarness

CONNECTOR = Path(__file__).resolve().parent / "typed_state_connector.py"
HEADER = """
import datetime
from cocotui.auth_registry import AuthEntryReference
from typed_state_connector import (
    DbOptions, Hnsw, IndexSpec, IvfFlat, Metric, SpecStateTable, TypedTable,
)
"""

SPEC_V1 = tsc.TypedTable(
    db_uri="mem://db",
    table_name="docs",
    indexes=[tsc.IndexSpec("content", tsc.Metric.COSINE, tsc.Hnsw(m=16))],
    options=tsc.DbOptions(storage={"region": "eu"}, timeout=datetime.timedelta(seconds=1.5)),
    auth=AuthEntryReference("pg-creds"),
)
SPEC_V2 = tsc.TypedTable(
    db_uri="mem://db",
    table_name="docs",
    indexes=[
        tsc.IndexSpec("content", tsc.Metric.L2, tsc.IvfFlat(lists=4)),
        tsc.IndexSpec("filename", tsc.Metric.COSINE),
    ],
    options=tsc.DbOptions(storage={"region": "eu"}, timeout=datetime.timedelta(seconds=1.5)),
    auth=AuthEntryReference("pg-creds"),
)
SPEC_AS_STATE = tsc.SpecStateTable(
    bucket="b",
    prefix="p/",
    index=tsc.IndexSpec("content", tsc.Metric.L2, tsc.IvfFlat(lists=2)),
    default_metric=tsc.Metric.L2,
    options=tsc.DbOptions(timeout=datetime.timedelta(minutes=2)),
    auth=AuthEntryReference("s3-creds"),
)
KEY = tsc._TableKey("mem://db", "docs")


def source(spec: Any) -> str:
    """Python source that builds ``spec`` in the app (its repr, with module-free names)."""
    text = repr(spec)
    for enum_member in tsc.Metric:
        text = text.replace(repr(enum_member), f"Metric.{enum_member.name}")
    return text


def state_of(spec: tsc.TypedTable) -> tsc._State:
    return tsc.expected_state(spec, "filename", ["content"])


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    shutil.copy(CONNECTOR, workspace.root / CONNECTOR.name)
    return workspace


def write_app(ws: Workspace, spec: Any) -> None:
    ws.write_app(ExportDecl("out", source(spec)), header=HEADER)


def logged(ws: Workspace, method: str) -> list[list[str]]:
    """The ``repr``s of the arguments of every logged ``method`` call, clearing the log."""
    log = ws.root / "typed_calls.jsonl"
    if not log.exists():
        return []
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    log.unlink()
    return [c["args"] for c in calls if c["method"] == method]


def applied(ws: Workspace, *extra: str, **env: str) -> None:
    result = ws.apply(*extra, **env)
    assert result.returncode == 0, result.stderr


def killed(ws: Workspace, *args: str, kill: str) -> None:
    """Run ``cocotui ARGS`` instrumented to SIGKILL itself at ``kill`` (``METHOD:before``)."""
    env = ws.env(COCOTUI_TESTING_KILL=kill)
    command = [sys.executable, "-m", "cocotui.testing", *args, str(ws.app), "--yes"]
    result = subprocess.run(command, env=env, cwd=ws.root, capture_output=True, timeout=60)
    assert result.returncode == -signal.SIGKILL, result


def assert_no_change(ws: Workspace) -> None:
    plan = ws.plan_json()
    assert {c["action"] for c in plan["changes"]} == {"none"}, plan


def test_source_renders_specs_as_the_app_builds_them() -> None:
    assert "Metric.COSINE" in source(SPEC_V1) and "<" not in source(SPEC_V1)


def test_typed_key_and_state_through_the_toml(ws: Workspace) -> None:
    write_app(ws, SPEC_V1)
    applied(ws)
    assert logged(ws, "apply_setup_change") == [[repr(KEY), "None", repr(state_of(SPEC_V1))]]

    # Stored as JSON-like data: structs as dicts, enums as values, unions with their kind.
    [stored] = ws.stored_targets()
    assert stored["key"] == {"db_uri": "mem://db", "table_name": "docs"}
    state = stored["committed"]["state"]
    [index] = state["vector_indexes"]
    assert index["metric"] == "CosineSimilarity"
    assert index["method"] == {"kind": "Hnsw", "m": 16}
    assert state["options"]["timeout"] == {"secs": 1, "nanos": 500_000_000}
    assert state["auth"] == {"key": "pg-creds"}
    assert state["columns"]["content"]["type"] == {"kind": "Str", "dimension": {"$": "null"}}

    # Read back, it compares equal to the desired state: nothing to do, and describe() gets
    # the typed key.
    assert_no_change(ws)
    assert [repr(KEY)] in logged(ws, "describe")
    assert "Typed table docs in mem://db" in ws.cli("ls", ws.app).stdout


def test_update_hands_both_states_back_typed(ws: Workspace) -> None:
    write_app(ws, SPEC_V1)
    applied(ws)
    logged(ws, "apply_setup_change")
    write_app(ws, SPEC_V2)
    plan = ws.plan_json()
    assert [c["action"] for c in plan["changes"]] == ["update"]
    assert logged(ws, "check_state_compatibility") == [
        [repr(state_of(SPEC_V2)), repr(state_of(SPEC_V1))]
    ]
    applied(ws)
    assert logged(ws, "apply_setup_change") == [
        [repr(KEY), repr(state_of(SPEC_V1)), repr(state_of(SPEC_V2))]
    ]
    assert_no_change(ws)


@pytest.mark.parametrize("point", ["before", "after"])
def test_typed_states_after_sigkill_roll_forward(ws: Workspace, point: str) -> None:
    write_app(ws, SPEC_V1)
    applied(ws)
    write_app(ws, SPEC_V2)
    logged(ws, "apply_setup_change")
    killed(ws, "apply", kill=f"apply_setup_change:{point}")
    logged(ws, "apply_setup_change")

    applied(ws)
    calls = logged(ws, "apply_setup_change")
    assert calls, "the interrupted change was not rolled forward"
    assert all(c[0] == repr(KEY) and c[2] == repr(state_of(SPEC_V2)) for c in calls)
    assert {c[1] for c in calls} <= {repr(state_of(SPEC_V1)), repr(state_of(SPEC_V2))}
    assert [repr(KEY), repr(state_of(SPEC_V1)), repr(state_of(SPEC_V2))] in calls
    [stored] = ws.stored_targets()
    assert stored["staged"] == []
    assert_no_change(ws)


def test_spec_as_state_with_nested_fields_and_namedtuple_key(ws: Workspace) -> None:
    write_app(ws, SPEC_AS_STATE)
    applied(ws)
    key = tsc._SpecKey("b", "p/")
    assert logged(ws, "apply_setup_change") == [[repr(key), "None", repr(SPEC_AS_STATE)]]
    [stored] = ws.stored_targets()
    assert stored["key"] == {"bucket": "b", "prefix": "p/"}
    assert stored["committed"]["state"]["index"]["method"] == {"kind": "IvfFlat", "lists": 2}
    assert stored["committed"]["state"]["default_metric"] == "L2Distance"
    assert_no_change(ws)

    killed(ws, "drop", kill="apply_setup_change:after")
    assert logged(ws, "apply_setup_change") == [[repr(key), repr(SPEC_AS_STATE), "None"]]
    result = ws.cli("drop", ws.app, "--yes")
    assert result.returncode == 0, result.stderr
    assert logged(ws, "apply_setup_change") == [[repr(key), repr(SPEC_AS_STATE), "None"]]
    assert ws.stored_targets() == []


def test_a_part_that_cannot_be_stored_is_named(ws: Workspace) -> None:
    bad = tsc.TypedTable(
        db_uri="mem://db", table_name="docs", options=tsc.DbOptions(storage={"tags": {1}})
    )
    ws.write_app(ExportDecl("out", source(bad)), header=HEADER)
    result = ws.cli("plan", ws.app)
    assert result.returncode != 0
    assert "TypedTable.options.storage['tags'] holds a value of type set" in result.stderr


class DatabaseOptions:
    """A plain attribute-holding class, as LanceDB's ``DatabaseOptions``."""

    storage_options: dict[str, Any] | None = None
    retries: datetime.timedelta | None = None


class LanceLikeTable(cocoindex.op.TargetSpec):
    db_uri: str
    db_options: DatabaseOptions | None = None


@cocoindex.op.target_connector(spec_cls=LanceLikeTable)
class _LanceLikeConnector:
    @staticmethod
    def get_persistent_key(spec: LanceLikeTable, target_name: str) -> str:
        return spec.db_uri

    @staticmethod
    def apply_setup_change(key: str, previous: Any, current: Any) -> None:
        pass

    @staticmethod
    def mutate(*all_mutations: Any) -> None:
        pass


def test_plain_attribute_class_in_a_spec_comes_back_as_itself() -> None:
    options = DatabaseOptions()
    options.storage_options = {"region": "eu"}
    options.retries = datetime.timedelta(seconds=3)
    spec = LanceLikeTable(db_uri="mem://x", db_options=options)
    state = ConnectorHarness(LanceLikeTable).setup_state(spec, ["filename"], ["content"])
    assert isinstance(state, LanceLikeTable)
    assert isinstance(state.db_options, DatabaseOptions)
    assert state.db_options.storage_options == {"region": "eu"}
    assert state.db_options.retries == datetime.timedelta(seconds=3)


class Tier(enum.Enum):
    HOT = "hot"
    COLD = "cold"


class _Shard(NamedTuple):
    name: str
    tier: Tier


class _ShardState(NamedTuple):
    """A NamedTuple setup state, with a nested list of NamedTuples and an enum keyed dict."""

    shards: list[_Shard]
    quotas: dict[Tier, int]
    comment: str | None = None


class ShardedStore(cocoindex.op.TargetSpec):
    name: str
    tiers: list[Tier]


@cocoindex.op.target_connector(
    spec_cls=ShardedStore, persistent_key_type=str, setup_state_cls=_ShardState
)
class _ShardedConnector:
    @staticmethod
    def get_persistent_key(spec: ShardedStore, target_name: str) -> str:
        return spec.name

    @staticmethod
    def get_setup_state(spec: ShardedStore) -> _ShardState:
        shards = [_Shard(f"{spec.name}-{i}", tier) for i, tier in enumerate(spec.tiers)]
        return _ShardState(shards, {tier: 10 for tier in spec.tiers})

    @staticmethod
    def check_state_compatibility(
        desired: _ShardState, existing: _ShardState
    ) -> TargetStateCompatibility:
        assert isinstance(desired, _ShardState) and isinstance(existing, _ShardState)
        assert all(isinstance(s, _Shard) and isinstance(s.tier, Tier) for s in existing.shards)
        assert all(isinstance(t, Tier) for t in existing.quotas)
        if len(desired.shards) < len(existing.shards):
            return TargetStateCompatibility.NOT_COMPATIBLE
        return TargetStateCompatibility.COMPATIBLE

    @staticmethod
    def apply_setup_change(key: str, previous: Any, current: Any) -> None:
        pass

    @staticmethod
    def mutate(*all_mutations: Any) -> None:
        pass


def test_namedtuple_state_with_enums_comes_back_typed() -> None:
    harness = ConnectorHarness(ShardedStore)
    target = harness.target(ShardedStore("s", [Tier.HOT, Tier.COLD]), ["id"], ["body"])
    assert target.state == _ShardState(
        [_Shard("s-0", Tier.HOT), _Shard("s-1", Tier.COLD)], {Tier.HOT: 10, Tier.COLD: 10}
    )
    smaller = target.changed(ShardedStore("s", [Tier.HOT]))
    assert target.compatibility_of(smaller) is TargetStateCompatibility.NOT_COMPATIBLE
    larger = smaller.changed(ShardedStore("s", [Tier.HOT, Tier.COLD, Tier.COLD]))
    assert smaller.compatibility_of(larger) is TargetStateCompatibility.COMPATIBLE
