"""Every ``--json`` output parses and has the documented, stable fields."""

from __future__ import annotations

import json
from typing import Any

from conftest import CliResult, Workspace, export

CHANGE_FIELDS = {
    "flow",
    "target",
    "kind",
    "key",
    "action",
    "previous",
    "current",
    "description",
    "compatibility",
    "reason",
}
#: A listed target: its pending change (without the compatibility verdict) and its status.
LS_FIELDS = CHANGE_FIELDS - {"compatibility"} | {
    "status",
    "interrupted",
    "orphaned",
    "applied_at",
    "last_error",
}


def parse(result: CliResult, returncode: int = 0) -> dict[str, Any]:
    assert result.returncode == returncode, result
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout  # one document, nothing else on stdout
    document: dict[str, Any] = json.loads(lines[0])
    assert document["format_version"] == 1
    return document


def check_change(change: dict[str, Any]) -> None:
    assert set(change) >= CHANGE_FIELDS, change
    assert change["action"] in {"create", "update", "drop", "none"}
    assert isinstance(change["previous"], list)
    assert isinstance(change["reason"], str)
    assert isinstance(change["description"], str)
    assert change["compatibility"] in {
        None,
        "compatible",
        "partially_compatible",
        "not_compatible",
    }


def test_plan_json(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a", version=1), export("gone", resource="g"))
    created = parse(ws.cli("plan", ws.app, "--json"))
    assert set(created) >= {"format_version", "app", "fingerprint", "changes", "summary"}
    assert created["app"] == ws.state_name
    assert isinstance(created["fingerprint"], str) and created["fingerprint"]
    for change in created["changes"]:
        check_change(change)
    out = next(c for c in created["changes"] if c["target"] == "out")
    assert out == {
        **out,
        "flow": "Docs",
        "kind": "RecordingTarget",
        "key": "a",
        "action": "create",
        "status": "TO CREATE",
        "previous": [None],
        "current": {"resource": "a", "version": 1, "options": None},
        "description": "recording resource a",
        "compatibility": None,
    }
    assert created["summary"]["create"] == 2

    assert ws.apply().returncode == 0
    ws.write_app(export("out", resource="a", version=2))
    planned = parse(ws.cli("plan", ws.app, "--json", "--detailed-exitcode"), returncode=2)
    assert planned["fingerprint"] != created["fingerprint"]
    by_target = {c["target"]: c for c in planned["changes"]}
    for change in by_target.values():
        check_change(change)
    assert by_target["out"]["action"] == "update"
    assert by_target["out"]["previous"] == [{"resource": "a", "version": 1, "options": None}]
    assert by_target["out"]["current"]["version"] == 2
    assert by_target["out"]["compatibility"] == "partially_compatible"
    assert "spec changed" in by_target["out"]["reason"]
    assert by_target["gone"]["action"] == "drop"
    assert by_target["gone"]["current"] is None
    assert "removed" in by_target["gone"]["reason"]


def test_ls_json(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"), export("later", resource="l"))
    assert ws.apply("--target", "out").returncode == 0
    document = parse(ws.cli("ls", ws.app, "--json"))
    assert document["app"] == ws.state_name
    assert document["app_file"] == str(ws.app.resolve())
    assert document["state_file"] == str(ws.state_file)
    rows = {row["target"]: row for row in document["targets"]}
    for row in rows.values():
        assert set(row) >= LS_FIELDS, row
    assert rows["out"]["status"] == "READY"
    assert rows["out"]["action"] == "none"
    assert rows["out"]["applied_at"]
    assert rows["out"]["description"] == "recording resource a"
    assert rows["later"]["status"] == "TO CREATE"
    assert rows["later"]["current"] == {"resource": "l", "version": 1, "options": None}
    assert rows["later"]["previous"] == [None]
    assert rows["later"]["applied_at"] is None


def test_apply_json(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"), export("second", resource="b"))
    refused = parse(ws.cli("apply", ws.app, "--json"), returncode=1)
    assert refused["applied"] == []
    assert len(refused["pending"]) == 2
    assert refused["error"]["message"]

    applied = parse(ws.cli("apply", ws.app, "--json", "--yes", "--target", "out"))
    assert set(applied) >= {"format_version", "applied", "pending", "error"}
    assert applied["error"] is None
    assert [c["target"] for c in applied["applied"]] == ["out"]
    assert [c["target"] for c in applied["pending"]] == ["second"]
    for change in applied["applied"] + applied["pending"]:
        check_change(change)

    failed = parse(ws.cli("apply", ws.app, "--json", "--yes", fail="apply_setup_change"), 1)
    assert failed["applied"] == []
    assert [c["target"] for c in failed["pending"]] == ["second"]
    assert failed["error"]["target"] == "Docs.second"
    assert "RecordedFailure" in failed["error"]["message"]
    assert "recording_connector.py" in failed["error"]["traceback"]

    nothing = parse(ws.cli("apply", ws.app, "--json", "--yes", "--target", "out"))
    assert nothing == {**nothing, "applied": [], "pending": [], "error": None}


def test_drop_json(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"))
    assert ws.apply().returncode == 0
    dropped = parse(ws.cli("drop", ws.app, "--json", "--yes"))
    assert dropped["error"] is None
    [change] = dropped["applied"]
    check_change(change)
    assert change["action"] == "drop"
    assert change["previous"] == [{"resource": "a", "version": 1, "options": None}]
    assert change["current"] is None
    # The export is still in the app: once dropped, it is pending creation again.
    [pending] = dropped["pending"]
    check_change(pending)
    assert (pending["target"], pending["action"]) == (change["target"], "create")


def test_connectors_json(workspace: Workspace) -> None:
    document = parse(workspace.cli("connectors", "--json"))
    assert document["failed"] == []
    kinds = {connector["kind"] for connector in document["connectors"]}
    assert {"DirectoryTarget", "SqliteTable", "PostgresTable", "HttpEndpoint"} <= kinds
    for connector in document["connectors"]:
        assert set(connector) >= {"kind", "connector", "optional_methods", "doc"}
        assert isinstance(connector["optional_methods"], list)


def test_error_json(workspace: Workspace) -> None:
    ws = workspace
    ws.write_raw_app("raise RuntimeError('no app today')\n")
    for args in (["ls"], ["plan"], ["apply", "--yes"], ["drop", "--yes"]):
        document = parse(ws.cli(*args, ws.app, "--json"), returncode=1)
        assert "no app today" in document["error"]["message"]
