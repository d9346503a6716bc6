"""``cocotui.testing``, the harness connector authors import: driving a connector as the engine
does, idempotency checks that catch a bad connector, call recording (in-process and in CLI
subprocesses) and fault injection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from connector_helpers import SAMPLE_FILES, write_app, write_sources

import cocotui
from cocotui import registry
from cocotui.testing import (
    AppRunner,
    ConnectorHarness,
    IdempotencyError,
    InjectedFailure,
    KillPoint,
    check_idempotency,
    connector_kind,
    read_call_log,
    record_calls,
    run_app,
)

#: The "physical" resources of the probe connectors: key -> rows.
STORE: dict[str, dict[Any, Any]] = {}


class HarnessProbe(cocotui.op.TargetSpec):
    name: str


@cocotui.op.target_connector(spec_cls=HarnessProbe)
class HarnessProbeConnector:
    """A well-behaved in-memory connector whose ``mutate`` is ``async``."""

    @staticmethod
    def get_persistent_key(spec: HarnessProbe) -> str:
        return spec.name

    @staticmethod
    def apply_setup_change(key: str, previous: Any, current: Any) -> None:
        if current is None:
            STORE.pop(key, None)
        else:
            STORE.setdefault(key, {})

    @staticmethod
    async def mutate(*all_mutations: tuple[HarnessProbe, dict[str, dict[str, Any] | None]]) -> None:
        for spec, rows in all_mutations:
            table = STORE[spec.name]
            for key, value in rows.items():
                if value is None:
                    table.pop(key, None)
                else:
                    table[key] = value


class SloppyProbe(cocotui.op.TargetSpec):
    name: str


@cocotui.op.target_connector(spec_cls=SloppyProbe)
class SloppyProbeConnector:
    """Creating "again" wipes the rows: exactly what the contract forbids."""

    @staticmethod
    def get_persistent_key(spec: SloppyProbe) -> str:
        return spec.name

    @staticmethod
    def apply_setup_change(key: str, previous: Any, current: Any) -> None:
        if current is None:
            STORE.pop(key, None)
        elif previous is None:
            STORE[key] = {}

    @staticmethod
    def mutate(*all_mutations: tuple[SloppyProbe, dict[str, dict[str, Any] | None]]) -> None:
        for spec, rows in all_mutations:
            STORE[spec.name].update({k: v for k, v in rows.items() if v is not None})


@pytest.fixture(autouse=True)
def clean_store() -> Iterator[None]:
    STORE.clear()
    yield
    STORE.clear()


def snapshot() -> Any:
    return {key: dict(rows) for key, rows in STORE.items()}


def test_the_harness_drives_a_connector_as_the_engine_does() -> None:
    target = ConnectorHarness(HarnessProbe).target(HarnessProbe(name="p"), ["id"], ["v"])
    assert target.key == "p"
    assert target.describe() == "p"
    target.create()
    target.upsert({"a": {"v": 1}, "b": {"v": 2}})  # the async mutate is awaited
    target.delete("a", "missing")
    assert STORE == {"p": {"b": {"v": 2}}}
    check_idempotency(target, {"x": {"v": 1}}, snapshot, missing_key="nope")
    assert connector_kind("HarnessProbe") is connector_kind(HarnessProbeConnector)


def test_check_idempotency_catches_a_connector_that_is_not_idempotent() -> None:
    target = ConnectorHarness(SloppyProbe).target(SloppyProbe(name="s"), ["id"], ["v"])
    with pytest.raises(IdempotencyError, match="create over the existing resource"):
        check_idempotency(target, {"a": {"v": 1}}, snapshot, missing_key="nope")


def test_record_calls_records_and_restores_the_methods() -> None:
    kind = connector_kind(HarnessProbe)
    originals = {name: bound.function for name, bound in kind.methods.items()}
    with record_calls(HarnessProbe) as recorder:
        target = ConnectorHarness(HarnessProbe).target(HarnessProbe(name="p"), ["id"], ["v"])
        target.create()
        target.upsert({"a": {"v": 1}})
        target.delete("a")
    assert recorder.methods() == ["get_persistent_key", "apply_setup_change", "mutate", "mutate"]
    setup = recorder.of("apply_setup_change")[0]
    assert setup.args == ("p", None, HarnessProbe(name="p"))
    assert recorder.mutated_rows() == [{"a": {"v": 1}}, {"a": None}]
    assert {name: bound.function for name, bound in kind.methods.items()} == originals


def test_record_calls_instruments_kinds_registered_inside_the_block() -> None:
    try:
        with record_calls() as recorder:

            class LateProbe(cocotui.op.TargetSpec):
                name: str

            @cocotui.op.target_connector(spec_cls=LateProbe)
            class LateProbeConnector:
                @staticmethod
                def get_persistent_key(spec: LateProbe) -> str:
                    return spec.name

                @staticmethod
                def apply_setup_change(key: str, previous: Any, current: Any) -> None:
                    pass

                @staticmethod
                def mutate(*all_mutations: Any) -> None:
                    pass

            ConnectorHarness(LateProbe).target(LateProbe(name="late"), ["id"], ["v"]).create()
        assert [(c.kind, c.method) for c in recorder.calls] == [
            ("LateProbe", "get_persistent_key"),
            ("LateProbe", "apply_setup_change"),
        ]
    finally:
        registry._kinds.pop("LateProbe", None)


def test_injected_failures_raise_before_the_method_acts(tmp_path: Path) -> None:
    target = ConnectorHarness(HarnessProbe).target(HarnessProbe(name="p"), ["id"], ["v"])
    target.create()
    log = tmp_path / "calls.jsonl"
    with record_calls(HarnessProbe, fail=["mutate"], log=log), pytest.raises(InjectedFailure):
        target.upsert({"a": {"v": 1}})
    assert STORE == {"p": {}}
    assert read_call_log(log) == [
        {"kind": "HarnessProbe", "method": "mutate", "args": [[{"name": "p"}, {"a": {"v": 1}}]]}
    ]


def test_kill_points_are_validated() -> None:
    assert KillPoint.parse("mutate:rows=3") == KillPoint("mutate", "rows", 3)
    assert KillPoint.parse("apply_setup_change:after") == KillPoint("apply_setup_change", "after")
    for bad in ("mutate", "mutate:rows=x", "prepare:rows=1", "mutate:during"):
        with pytest.raises(ValueError):
            KillPoint.parse(bad)


def _sqlite_app(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    write_sources(source, SAMPLE_FILES)
    database = tmp_path / "out.db"
    return write_app(
        tmp_path / "app.py",
        imports="from cocotui_connectors.sqlite import SqliteTable",
        spec=f"SqliteTable(database={str(database)!r}, table='docs')",
        source=source,
    )


def test_run_app_applies_then_updates_and_the_cli_can_record_and_fail(tmp_path: Path) -> None:
    app = _sqlite_app(tmp_path)
    run = run_app(app, tmp_path / "state")
    assert [c["action"] for c in run.apply["applied"]] == ["create"]
    assert run.update.ok
    assert run.update.counters("Docs.docs")["inserted"] == len(SAMPLE_FILES)

    runner = AppRunner(app, tmp_path / "state")
    write_sources(tmp_path / "source", {"a.txt": "changed"})
    log = tmp_path / "calls.jsonl"
    failed = runner.update(fail=["mutate"], record=log)
    assert failed.returncode == 1
    assert "InjectedFailure" in failed.failed_rows[0]["error"]
    calls = read_call_log(log)
    assert [c["method"] for c in calls] == [
        "get_persistent_key",
        "get_setup_state",
        "describe",
        "prepare",
        "mutate",
    ]
    assert calls[-1]["args"][0][1] == {"a.txt": {"content": "changed"}}
    assert runner.update().ok
