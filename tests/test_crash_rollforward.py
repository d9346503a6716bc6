"""A process killed (SIGKILL) between staging and commit leaves state from which the next apply
converges: the stored state equals the desired one, nothing is staged, and the connector was
called to roll the change forward from every version the target may be in."""

from __future__ import annotations

import signal
from typing import Any

import pytest
from conftest import Workspace, export


def spec(resource: str = "a", version: int = 1) -> dict[str, Any]:
    return {"resource": resource, "version": version, "options": None}


def killed(ws: Workspace, point: str) -> None:
    """Apply, and die inside ``apply_setup_change`` at ``point`` (``before``/``after``)."""
    result = ws.apply(kill=f"apply_setup_change:{point}")
    assert result.returncode == -signal.SIGKILL, result
    assert "Applied" not in result.stdout


def assert_converged(ws: Workspace, expected: dict[str, dict[str, Any]]) -> None:
    targets = ws.stored_targets()
    assert {t["key"]: t["committed"]["state"]["version"] for t in targets} == {
        key: s["version"] for key, s in expected.items()
    }
    assert all(t["staged"] == [] for t in targets)
    for key, desired in expected.items():
        assert ws.resource(key) == desired  # the "physical" target
    ws.clear_calls()
    plan = ws.plan_json()
    assert {c["action"] for c in plan["changes"]} == {"none"}
    assert ws.side_effect_calls() == []


@pytest.mark.parametrize("point", ["before", "after"])
def test_killed_during_create(workspace: Workspace, point: str) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"))
    killed(ws, point)
    assert ws.take_setup_calls() == [["a", None, spec()]]
    assert (ws.resource("a") is not None) == (point == "after")
    [stored] = ws.stored_targets()
    assert "committed" not in stored
    assert len(stored["staged"]) == 1

    status = ws.cli("ls", ws.app)
    assert "INTERRUPTED" in status.stdout

    result = ws.apply()
    assert result.returncode == 0, result.stderr
    assert ws.take_setup_calls() == [["a", None, spec()]]
    assert_converged(ws, {"a": spec()})


@pytest.mark.parametrize("point", ["before", "after"])
def test_killed_during_update(workspace: Workspace, point: str) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a", version=1))
    assert ws.apply().returncode == 0
    ws.write_app(export("out", resource="a", version=2))
    ws.clear_calls()
    killed(ws, point)
    assert ws.take_setup_calls() == [["a", spec(version=1), spec(version=2)]]

    result = ws.apply()
    assert result.returncode == 0, result.stderr
    assert ws.take_setup_calls() == [["a", spec(version=1), spec(version=2)]]
    assert_converged(ws, {"a": spec(version=2)})


@pytest.mark.parametrize("point", ["before", "after"])
def test_killed_during_update_then_code_moved_on(workspace: Workspace, point: str) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a", version=1))
    assert ws.apply().returncode == 0
    ws.write_app(export("out", resource="a", version=2))
    killed(ws, point)
    ws.write_app(export("out", resource="a", version=3))
    ws.clear_calls()

    result = ws.apply()
    assert result.returncode == 0, result.stderr
    assert ws.take_setup_calls() == [
        ["a", spec(version=1), spec(version=3)],
        ["a", spec(version=2), spec(version=3)],
    ]
    assert_converged(ws, {"a": spec(version=3)})


@pytest.mark.parametrize("point", ["before", "after"])
def test_killed_during_drop(workspace: Workspace, point: str) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"), export("keep", resource="k"))
    assert ws.apply().returncode == 0
    ws.write_app(export("keep", resource="k"))
    ws.clear_calls()
    killed(ws, point)
    assert ws.take_setup_calls() == [["a", spec(), None]]

    result = ws.apply()
    assert result.returncode == 0, result.stderr
    assert ws.take_setup_calls() == [["a", spec(), None]]
    assert ws.resource("a") is None
    assert_converged(ws, {"k": spec("k")})


@pytest.mark.parametrize("point", ["before", "after"])
def test_killed_during_cli_drop(workspace: Workspace, point: str) -> None:
    ws = workspace
    ws.write_app(export("out", resource="a"))
    assert ws.apply().returncode == 0
    ws.clear_calls()
    result = ws.cli("drop", ws.app, "--yes", kill=f"apply_setup_change:{point}")
    assert result.returncode == -signal.SIGKILL

    result = ws.cli("drop", ws.app, "--yes")
    assert result.returncode == 0, result.stderr
    assert ws.take_setup_calls() == [["a", spec(), None], ["a", spec(), None]]
    assert ws.stored_targets() == []
    assert ws.resource("a") is None


@pytest.mark.parametrize("point", ["before", "after"])
def test_killed_during_persistent_key_change(workspace: Workspace, point: str) -> None:
    """The drop of the old key runs first; die there, then converge."""
    ws = workspace
    ws.write_app(export("out", resource="a"))
    assert ws.apply().returncode == 0
    ws.write_app(export("out", resource="b"))
    ws.clear_calls()
    killed(ws, point)
    assert ws.take_setup_calls() == [["a", spec("a"), None]]

    result = ws.apply()
    assert result.returncode == 0, result.stderr
    assert ws.take_setup_calls() == [["a", spec("a"), None], ["b", None, spec("b")]]
    assert ws.resource("a") is None
    assert_converged(ws, {"b": spec("b")})


def test_killed_at_several_points_in_a_row(workspace: Workspace) -> None:
    """Every apply dies at a different point; the one that finally completes converges."""
    ws = workspace
    ws.write_app(export("out", resource="a", version=1))
    killed(ws, "after")  # create applied, not committed
    ws.write_app(export("out", resource="a", version=2))
    killed(ws, "before")  # roll-forward dies before its first call
    killed(ws, "after")  # ... and after its first call
    ws.clear_calls()

    result = ws.apply()
    assert result.returncode == 0, result.stderr
    calls = ws.take_setup_calls()
    assert calls[0] == ["a", None, spec(version=2)]
    assert ["a", spec(version=1), spec(version=2)] in calls
    assert all(c[2] == spec(version=2) for c in calls)
    assert_converged(ws, {"a": spec(version=2)})
