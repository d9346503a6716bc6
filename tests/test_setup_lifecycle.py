"""The setup (DDL) lifecycle as a user drives it: every step is a fresh ``cocotui`` process and
the recording connector logs every call it receives."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import Workspace, export

ANSI = re.compile(r"\x1b\[")


def spec(resource: str = "a", version: int = 1, options: Any = None) -> dict[str, Any]:
    """A ``RecordingTarget`` as the connector logs it."""
    return {"resource": resource, "version": version, "options": options}


def assert_converged(ws: Workspace, expected: dict[str, dict[str, Any]]) -> None:
    """The state holds exactly ``expected`` (key -> committed spec), nothing staged."""
    targets = ws.stored_targets()
    assert {t["key"]: t["committed"]["state"]["version"] for t in targets} == {
        key: s["version"] for key, s in expected.items()
    }
    for target in targets:
        assert target["staged"] == [], target
    plan = ws.plan_json()
    assert [c["action"] for c in plan["changes"]] == ["none"] * len(plan["changes"])


def test_create_then_plan_again_calls_nothing(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"))

    result = ws.apply()
    assert result.returncode == 0, result.stderr
    assert ws.take_setup_calls() == [["a", None, spec()]]
    assert ws.calls("mutate") == []

    plan = ws.cli("plan", ws.app)
    assert plan.returncode == 0, plan.stderr
    assert "No changes" in plan.stdout
    again = ws.apply()
    assert again.returncode == 0, again.stderr
    assert "No changes" in again.stdout
    assert ws.side_effect_calls() == []
    assert_converged(ws, {"a": spec()})


def test_spec_change_then_export_removed(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a", version=1))
    assert ws.apply().returncode == 0
    ws.clear_calls()

    ws.write_app(export("out", resource="a", version=2))
    plan = ws.cli("plan", ws.app)
    assert "~ update Docs.out" in plan.stdout
    assert "TO UPDATE" in plan.stdout
    assert "version: 1 → 2" in plan.stdout
    assert "Plan: 0 to create, 1 to update, 0 to drop." in plan.stdout
    assert ws.setup_calls() == []
    result = ws.apply()
    assert result.returncode == 0, result.stderr
    assert ws.take_setup_calls() == [["a", spec(version=1), spec(version=2)]]
    assert_converged(ws, {"a": spec(version=2)})

    ws.write_app(export("other", resource="b"))
    plan = ws.cli("plan", ws.app)
    assert "- drop   Docs.out" in plan.stdout
    assert "TO DELETE" in plan.stdout
    assert "export out was removed from flow Docs" in plan.stdout
    ws.clear_calls()
    result = ws.apply()
    assert result.returncode == 0, result.stderr
    # Drops are applied before creates (apply_order).
    assert ws.take_setup_calls() == [
        ["a", spec(version=2), None],
        ["b", None, spec("b")],
    ]
    assert_converged(ws, {"b": spec("b")})


def test_flow_removed_from_app_is_dropped(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(
        flows={"Docs": [export("out", resource="a")], "Other": [export("o", resource="o")]}
    )
    assert ws.apply().returncode == 0
    ws.clear_calls()
    ws.write_app(export("out", resource="a"))
    plan = ws.plan_json()
    dropped = [c for c in plan["changes"] if c["action"] == "drop"]
    assert [(c["flow"], c["target"]) for c in dropped] == [("Other", "o")]
    assert "flow Other was removed" in dropped[0]["reason"]
    assert ws.apply().returncode == 0
    assert ws.take_setup_calls() == [["o", spec("o"), None]]
    assert_converged(ws, {"a": spec()})


def test_renaming_export_with_name_independent_key_changes_nothing(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"))
    assert ws.apply().returncode == 0
    ws.clear_calls()

    ws.write_app(export("renamed", resource="a"))
    plan = ws.plan_json()
    assert [(c["target"], c["action"]) for c in plan["changes"]] == [("renamed", "none")]
    detailed = ws.cli("plan", ws.app, "--detailed-exitcode")
    assert detailed.returncode == 0, detailed.stdout + detailed.stderr
    result = ws.apply()
    assert result.returncode == 0, result.stderr
    assert ws.side_effect_calls() == []
    assert_converged(ws, {"a": spec()})


def test_persistent_key_change_drops_old_then_creates_new(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"))
    assert ws.apply().returncode == 0
    ws.clear_calls()

    ws.write_app(export("out", resource="b"))
    plan = ws.plan_json()
    by_action = {c["action"]: c for c in plan["changes"]}
    assert set(by_action) == {"create", "drop"}
    assert by_action["create"]["key"] == "b"
    assert "persistent key changed" in by_action["create"]["reason"]
    assert by_action["drop"]["key"] == "a"
    assert "persistent key changed" in by_action["drop"]["reason"]

    result = ws.apply()
    assert result.returncode == 0, result.stderr
    assert ws.take_setup_calls() == [["a", spec("a"), None], ["b", None, spec("b")]]
    assert ws.resource("a") is None
    assert ws.resource("b") == spec("b")
    assert_converged(ws, {"b": spec("b")})


def test_failed_update_then_code_moved_on_rolls_forward_from_both(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a", version=1))
    assert ws.apply().returncode == 0

    ws.write_app(export("out", resource="a", version=2))
    ws.clear_calls()
    failed = ws.apply(fail="apply_setup_change")
    assert failed.returncode != 0
    assert "RecordedFailure" in failed.stderr
    assert "Docs.out" in failed.stderr
    assert "recording_connector.py" in failed.stderr  # the connector's own traceback
    assert ws.take_setup_calls() == [["a", spec(version=1), spec(version=2)]]
    [stored] = ws.stored_targets()
    assert stored["committed"]["state"]["version"] == 1
    assert [s["state"]["version"] for s in stored["staged"]] == [2]

    ws.write_app(export("out", resource="a", version=3))
    result = ws.apply()
    assert result.returncode == 0, result.stderr
    assert ws.take_setup_calls() == [
        ["a", spec(version=1), spec(version=3)],
        ["a", spec(version=2), spec(version=3)],
    ]
    assert ws.resource("a") == spec(version=3)
    assert_converged(ws, {"a": spec(version=3)})


def test_failed_first_create_is_retried_as_create(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"))
    failed = ws.apply(fail="apply_setup_change")
    assert failed.returncode != 0
    assert ws.take_setup_calls() == [["a", None, spec()]]
    [stored] = ws.stored_targets()
    assert "committed" not in stored
    assert len(stored["staged"]) == 1

    plan = ws.plan_json()
    [change] = plan["changes"]
    assert change["action"] == "create"
    assert change["previous"] == [None]
    result = ws.apply()
    assert result.returncode == 0, result.stderr
    assert ws.take_setup_calls() == [["a", None, spec()]]
    assert_converged(ws, {"a": spec()})


def test_apply_one_target_leaves_the_rest_pending(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(export("first", resource="a"), export("second", resource="b"))
    result = ws.apply("--target", "second")
    assert result.returncode == 0, result.stderr
    assert ws.take_setup_calls() == [["b", None, spec("b")]]
    assert "waiting for approval: Docs.first (to create)" in result.stdout
    actions = {c["target"]: c["action"] for c in ws.plan_json()["changes"]}
    assert actions == {"first": "create", "second": "none"}

    result = ws.apply("--target", "Docs.first")
    assert result.returncode == 0, result.stderr
    assert ws.take_setup_calls() == [["a", None, spec("a")]]
    assert_converged(ws, {"a": spec("a"), "b": spec("b")})

    unknown = ws.apply("--target", "nope")
    assert unknown.returncode == 1
    assert "nope" in unknown.stderr


def test_apply_without_consent_and_without_a_terminal_refuses(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"))
    result = ws.cli("apply", ws.app)
    assert result.returncode != 0
    assert "--yes" in result.stderr
    assert "Nothing applied" in result.stdout
    assert ws.side_effect_calls() == []
    assert not ws.state_file.exists()

    # Once applied, a drop without --yes refuses too.
    assert ws.apply().returncode == 0
    before = ws.state_file.read_bytes()
    ws.clear_calls()
    refused = ws.cli("drop", ws.app)
    assert refused.returncode != 0
    assert "--yes" in refused.stderr
    assert ws.side_effect_calls() == []
    assert ws.state_file.read_bytes() == before


def test_plan_detailed_exitcode(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"))
    pending = ws.cli("plan", ws.app, "--detailed-exitcode")
    assert pending.returncode == 2, pending.stderr
    plain = ws.cli("plan", ws.app)
    assert plain.returncode == 0
    assert ws.apply().returncode == 0
    clean = ws.cli("plan", ws.app, "--detailed-exitcode")
    assert clean.returncode == 0, clean.stderr

    ws.write_raw_app("raise RuntimeError('broken app')\n")
    broken = ws.cli("plan", ws.app, "--detailed-exitcode")
    assert broken.returncode == 1
    assert "broken app" in broken.stderr


def _simulate_exported_rows(ws: Workspace, flow: str, kind: str, key: str) -> None:
    """Give the target row tracking as ``update`` would have left it."""
    from cocotui.state.tracking import RowCommit, SqliteTracking

    tracking = SqliteTracking(ws.tracking_file)
    try:
        identity = (flow, kind, json.dumps(key))
        [(target_id, _)] = tracking.target_generations([identity])
        tracking.commit(
            flow,
            "documents",
            [
                RowCommit(
                    "a.txt",
                    None,
                    "1:1",
                    b"c" * 16,
                    b"l" * 16,
                    {target_id: {json.dumps("a.txt"): (b"parts", b"v" * 16)}},
                    {},
                )
            ],
        )
        assert tracking.key_count(identity) == 1
    finally:
        tracking.close()


def _tracking_rows(ws: Workspace, flow: str) -> tuple[int, int]:
    """(target keys, source rows) tracked for ``flow``."""
    db = sqlite3.connect(ws.tracking_file)
    try:
        keys = db.execute(
            "SELECT COUNT(*) FROM target_keys JOIN targets ON targets.id = target_id "
            "WHERE identity LIKE ?",
            (f'["{flow}",%',),
        ).fetchone()[0]
        rows = db.execute("SELECT COUNT(*) FROM source_rows WHERE flow = ?", (flow,)).fetchone()[0]
    finally:
        db.close()
    return int(keys), int(rows)


def test_drop_flow_drops_its_targets_and_tracking(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(flows={"Docs": [export("out", resource="a")], "Keep": [export("k", resource="k")]})
    assert ws.apply().returncode == 0
    ws.clear_calls()
    _simulate_exported_rows(ws, "Docs", "RecordingTarget", "a")
    _simulate_exported_rows(ws, "Keep", "RecordingTarget", "k")

    result = ws.cli("drop", ws.app, "Docs", "--yes")
    assert result.returncode == 0, result.stderr
    assert "- drop   Docs.out" in result.stdout
    assert ws.take_setup_calls() == [["a", spec(), None]]
    assert [t["key"] for t in ws.stored_targets()] == ["k"]
    assert _tracking_rows(ws, "Docs") == (0, 0)
    assert _tracking_rows(ws, "Keep") == (1, 1)
    assert ws.resource("a") is None

    unknown = ws.cli("drop", ws.app, "NoSuchFlow", "--yes")
    assert unknown.returncode == 1
    assert "NoSuchFlow" in unknown.stderr

    # The app still exports Docs.out: the next plan creates it again.
    actions = {c["target"]: c["action"] for c in ws.plan_json()["changes"]}
    assert actions == {"out": "create", "k": "none"}


def test_failed_drop_then_successful_drop_leaves_nothing(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"))
    assert ws.apply().returncode == 0
    _simulate_exported_rows(ws, "Docs", "RecordingTarget", "a")
    ws.clear_calls()

    failed = ws.cli("drop", ws.app, "--yes", fail="apply_setup_change")
    assert failed.returncode != 0
    assert "RecordedFailure" in failed.stderr
    assert ws.take_setup_calls() == [["a", spec(), None]]
    [stored] = ws.stored_targets()
    assert stored["staged"] == [{"action": "drop"}]

    ls = ws.cli("ls", ws.app, "--json")
    [row] = json.loads(ls.stdout)["targets"]
    assert row["interrupted"] is True

    result = ws.cli("drop", ws.app, "--yes")
    assert result.returncode == 0, result.stderr
    assert ws.take_setup_calls() == [["a", spec(), None]]
    assert ws.stored_targets() == []
    assert ws.state()["schema_version"] == 1
    assert _tracking_rows(ws, "Docs") == (0, 0)

    again = ws.cli("drop", ws.app, "--yes")
    assert again.returncode == 0
    assert ws.side_effect_calls() == []


def test_stale_plan_is_refused(workspace: Workspace, in_process_app: None) -> None:
    from cocotui.engine.apply import StalePlanError
    from cocotui.engine.facade import Engine

    ws = workspace
    ws.write_app(export("out", resource="a", version=1))
    engine = Engine.open(str(ws.app), state_dir=ws.state_dir)
    try:
        old_plan = engine.plan()
        assert [c.action.value for c in old_plan.changes] == ["create"]
        # Another process applies in between.
        result = ws.apply()
        assert result.returncode == 0, result.stderr
        ws.clear_calls()
        with pytest.raises(StalePlanError, match="plan again"):
            engine.apply(old_plan)
        assert ws.side_effect_calls() == []
        fresh = engine.plan()
        assert fresh.fingerprint != old_plan.fingerprint
        assert fresh.pending == []
    finally:
        engine.close()


def test_output_without_a_terminal_or_with_no_color_has_no_ansi(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"), export("second", resource="b"))
    assert ws.apply("--target", "out").returncode == 0
    ws.write_app(export("out", resource="a", version=2), export("second", resource="b"))
    for args, env in (
        (["plan", ws.app], {}),
        (["plan", ws.app], {"NO_COLOR": "1"}),
        (["ls", ws.app], {}),
    ):
        result = ws.cli(*args, **env)
        assert result.returncode == 0, result.stderr
        assert "TO UPDATE" in result.stdout
        assert not ANSI.search(result.stdout + result.stderr)
    applied = ws.apply()
    assert applied.returncode == 0
    assert not ANSI.search(applied.stdout + applied.stderr)

    # On a terminal, colour is used unless NO_COLOR is set.
    ws.write_app(export("out", resource="a", version=3))
    assert ANSI.search(_run_on_terminal(ws, ["plan", str(ws.app)]))
    assert not ANSI.search(_run_on_terminal(ws, ["plan", str(ws.app)], NO_COLOR="1"))


def _run_on_terminal(
    ws: Workspace, args: list[str], answer: str | None = None, exit_code: int = 0, **env: str
) -> str:
    """Run the CLI with stdin and stdout on a pseudo-terminal; check that it exits with
    ``exit_code`` and return what it printed."""
    import pty

    main, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cocotui", *args],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=ws.env(**env),
        cwd=ws.root,
    )
    os.close(secondary)
    if answer is not None:
        os.write(main, answer.encode())
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # EIO: the terminal's other side is closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    output = b"".join(chunks).decode(errors="replace")
    assert proc.wait(timeout=60) == exit_code, output
    return output


def test_apply_on_a_terminal_asks_and_needs_yes(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"))
    output = _run_on_terminal(ws, ["apply", str(ws.app)], answer="no\n", exit_code=1)
    assert "Only 'yes' will be accepted" in output
    assert "Nothing applied" in output
    assert ws.side_effect_calls() == []
    assert not ws.state_file.exists()

    output = _run_on_terminal(ws, ["apply", str(ws.app)], answer="yes\n")
    assert "Applied 1 change(s)" in output
    assert ws.take_setup_calls() == [["a", None, spec()]]


def test_status_words_in_ls(workspace: Workspace) -> None:
    """`ls` prints the app and its state file, then the table (header, one line per target)."""
    ws = workspace
    ws.write_app(export("out", resource="a"), export("new", resource="n"))
    assert ws.apply("--target", "out").returncode == 0
    ws.write_app(export("out", resource="a", version=2), export("new", resource="n"))
    listing = ws.cli("ls", ws.app)
    assert listing.returncode == 0, listing.stderr
    lines = {line.split()[0]: line for line in listing.stdout.splitlines()[2:]}
    assert "TO UPDATE" in lines["Docs.out"]
    assert "TO CREATE" in lines["Docs.new"]
    assert "recording resource a" in lines["Docs.out"]
    assert ws.apply().returncode == 0
    listing = ws.cli("ls", ws.app)
    assert all("READY" in line for line in listing.stdout.splitlines()[2:])


def test_module_app_and_app_name(workspace: Workspace) -> None:
    """APP may be an importable module (from the current directory); --app-name namespaces the
    state."""
    ws = workspace
    ws.write_app(export("out", resource="a"))
    package = ws.root / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "flows.py").write_text(ws.app.read_text())

    result = ws.cli("apply", "pkg.flows", "--yes")
    assert result.returncode == 0, result.stderr
    assert ws.take_setup_calls() == [["a", None, spec()]]
    assert (ws.state_dir / "pkg.flows.toml").exists()

    named = ws.cli("plan", ws.app, "--app-name", "other", "--json")
    assert named.returncode == 0, named.stderr
    assert json.loads(named.stdout)["app"] == "other"
    assert [c["action"] for c in json.loads(named.stdout)["changes"]] == ["create"]

    missing = ws.cli("plan", "pkg.missing")
    assert missing.returncode == 1
    assert "cannot find app 'pkg.missing'" in missing.stderr


def test_state_dir_option_overrides_environment(workspace: Workspace, tmp_path: Path) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"))
    elsewhere = tmp_path / "elsewhere"
    result = ws.cli("apply", ws.app, "--yes", "--state-dir", str(elsewhere))
    assert result.returncode == 0, result.stderr
    assert (elsewhere / ws.state_file.name).exists()
    assert not ws.state_file.exists()
