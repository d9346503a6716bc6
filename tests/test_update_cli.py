"""``cocotui update`` as a user runs it: exit codes, human output and ``--json`` events. Every
run is a fresh process; the in-memory connector logs its calls to ``MEM_LOG``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import update_helpers as h
from conftest import CliResult, Workspace


@pytest.fixture
def ws(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


def update(ws: Workspace, *args: str, log: Path, **env: str) -> CliResult:
    log.unlink(missing_ok=True)
    return ws.cli("update", ws.app, *args, MEM_LOG=str(log), **env)


def events(result: CliResult) -> list[dict[str, Any]]:
    parsed = [json.loads(line) for line in result.stdout.splitlines()]
    for event in parsed:
        assert event["format_version"] == 1
        assert isinstance(event["time"], float)
    return parsed


def named(found: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in found if e["event"] == name]


def mutated(log: Path) -> dict[str, Any]:
    """Keys and values of every mutate call logged, merged in order."""
    merged: dict[str, Any] = {}
    if not log.exists():
        return merged
    for line in log.read_text().splitlines():
        call = json.loads(line)
        if call["method"] == "mutate":
            for _prepared, mutations in call["args"]:
                merged.update(mutations)
    return merged


def setup_app(ws: Workspace, files: dict[str, str], version: int = 1) -> None:
    h.write_files(ws, files)
    h.flow_app(
        ws,
        f'out.export("t", MemTarget(resource="a", version={version}), '
        'primary_key_fields=["filename"])',
    )
    applied = ws.apply()
    assert applied.returncode == 0, applied.stderr


def test_update_json_events(ws: Workspace, tmp_path: Path) -> None:
    log = tmp_path / "mem.jsonl"
    setup_app(ws, {"a.md": "a", "b.md": "b", "sub/c.md": "c"})

    result = update(ws, "--json", log=log)
    assert result.returncode == 0, result.stderr
    found = events(result)
    names = [e["event"] for e in found]
    assert names[0] == "run.started"
    assert names[-1] == "run.finished"
    assert names.index("source.listed") < names.index("batch.applied")
    assert names.index("batch.applied") < names.index("source.finished")
    assert "row.failed" not in names
    [started] = named(found, "run.started")
    assert started["targets"] == ["Docs.t"]
    assert started["skipped"] == []
    [listed] = named(found, "source.listed")
    assert (listed["source"], listed["rows"], listed["to_process"]) == ("Docs.documents", 3, 3)
    batch = named(found, "batch.applied")[-1]
    assert batch["done"] == batch["total"] == 3
    assert batch["targets"]["Docs.t"]["inserted"] == 3
    [finished_source] = named(found, "source.finished")
    assert finished_source["added"] == 3
    [finished] = named(found, "run.finished")
    assert finished["errors"] == 0
    assert finished["stopped"] is False
    assert finished["targets"]["Docs.t"]["inserted"] == 3
    assert mutated(log) == {
        k: {"content": v} for k, v in [("a.md", "a"), ("b.md", "b"), ("sub/c.md", "c")]
    }

    again = update(ws, "--json", log=log)
    assert again.returncode == 0
    assert named(events(again), "source.finished")[0]["unchanged"] == 3
    assert not log.exists()  # no mutate, no prepare


def test_update_human_output_and_reexport(ws: Workspace, tmp_path: Path) -> None:
    log = tmp_path / "mem.jsonl"
    setup_app(ws, {"a.md": "a", "b.md": "b"})

    first = update(ws, log=log)
    assert first.returncode == 0, first.stderr
    assert "Docs.documents: 2 added, 0 updated, 0 deleted, 0 unchanged, 0 errors" in first.stdout
    second = update(ws, log=log)
    assert "0 added, 0 updated, 0 deleted, 2 unchanged, 0 errors" in second.stdout
    assert mutated(log) == {}

    third = update(ws, "--reexport", log=log)
    assert third.returncode == 0, third.stderr
    assert "0 added, 2 updated, 0 deleted, 0 unchanged, 0 errors" in third.stdout
    assert mutated(log) == {"a.md": {"content": "a"}, "b.md": {"content": "b"}}


def test_one_failing_key_among_1000_files(ws: Workspace, tmp_path: Path) -> None:
    log = tmp_path / "mem.jsonl"
    files = {f"f{i:04d}.txt": f"content {i}" for i in range(1000)}
    setup_app(ws, files)

    failed = update(ws, "--json", log=log, MEM_FAIL_KEYS="f0517.txt")
    assert failed.returncode == 1, failed.stderr
    found = events(failed)
    [failure] = named(found, "row.failed")
    assert failure["row"] == "f0517.txt"
    assert [k for k in failure["keys"] if "f0517.txt" in k] == failure["keys"] != []
    assert "MemFailure" in failure["traceback"]
    [finished] = named(found, "run.finished")
    assert finished["errors"] == 1
    assert finished["targets"]["Docs.t"]["inserted"] == 999
    assert finished["targets"]["Docs.t"]["errors"] == 1

    human = update(ws, log=log, MEM_FAIL_KEYS="f0517.txt")
    assert human.returncode == 1
    assert "error: row f0517.txt of Docs.documents" in human.stderr
    assert "cannot write key 'f0517.txt'" in human.stderr

    fixed = update(ws, "--json", log=log)
    assert fixed.returncode == 0, fixed.stderr
    assert mutated(log) == {"f0517.txt": {"content": "content 517"}}


def test_pending_setup_change_skips_the_target_and_exits_2(ws: Workspace, tmp_path: Path) -> None:
    log = tmp_path / "mem.jsonl"
    setup_app(ws, {"a.md": "a"})
    h.flow_app(
        ws,
        'out.export("t", MemTarget(resource="a", version=2), primary_key_fields=["filename"])\n'
        'out.export("u", OtherTarget(resource="u"), primary_key_fields=["filename"])',
    )

    result = update(ws, log=log)
    assert result.returncode == 2
    assert "Docs.t" in result.stderr and "Docs.u" in result.stderr
    assert "cocotui plan" in result.stderr
    assert mutated(log) == {}

    as_json = update(ws, "--json", log=log)
    assert as_json.returncode == 2
    assert named(events(as_json), "run.started")[0]["skipped"] == ["Docs.t", "Docs.u"]

    assert ws.apply().returncode == 0
    done = update(ws, log=log)
    assert done.returncode == 0, done.stderr
    assert mutated(log) == {"a.md": {"content": "a"}}


def replay(log: Path) -> dict[str, Any]:
    """The target content that the logged mutate calls leave (deletions applied)."""
    rows: dict[str, Any] = {}
    for key, value in mutated(log).items():
        if value is None:
            rows.pop(key, None)
        else:
            rows[key] = value
    return rows


def test_killed_after_mutate_resumes_and_converges(ws: Workspace, tmp_path: Path) -> None:
    log = tmp_path / "mem.jsonl"
    files = {f"f{i}.md": f"v{i}" for i in range(6)}
    setup_app(ws, files)
    log.unlink(missing_ok=True)
    env = {"MEM_LOG": str(log)}

    killed = ws.cli("update", ws.app, "--batch-rows", "2", MEM_KILL_AFTER_MUTATE="2", **env)
    assert killed.returncode < 0  # SIGKILL
    assert set(replay(log)) == {"f0.md", "f1.md", "f2.md", "f3.md"}

    # Meanwhile a row that was applied but never marked done is deleted, another one changes.
    (ws.source_dir / "f3.md").unlink()
    h.write_files(ws, {"f2.md": "changed"})
    resumed = ws.cli("update", ws.app, "--batch-rows", "2", **env)
    assert resumed.returncode == 0, resumed.stderr
    expected = {k: {"content": v} for k, v in files.items() if k != "f3.md"}
    expected["f2.md"] = {"content": "changed"}
    assert replay(log) == expected

    # And once converged, nothing more is sent.
    size = log.stat().st_size
    again = ws.cli("update", ws.app, **env)
    assert again.returncode == 0
    assert log.stat().st_size == size
