"""``cocotui.testing`` is a package of small modules behind one public import path: every public
name is importable from ``cocotui.testing``, importing one does not load the others' modules,
and no module or function outgrows the house limits (issue 16, item 8)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import cocotui.testing

PACKAGE = Path(cocotui.testing.__file__).parent


@pytest.mark.parametrize("name", [*cocotui.testing.__all__, "main"])
def test_every_public_name_is_importable_from_the_package(name: str) -> None:
    value = getattr(cocotui.testing, name)
    assert getattr(value, "__name__", name) == name
    assert value.__module__.startswith("cocotui.testing.")
    assert name in dir(cocotui.testing)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = cocotui.testing.Nope


def test_running_apps_does_not_load_the_connector_harness() -> None:
    code = (
        "import sys\n"
        "from cocotui.testing import AppRunner, UpdateOutcome\n"
        "print(sorted(m for m in sys.modules if m.startswith('cocotui.testing.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(ast.literal_eval(out))
    assert {"cocotui.testing.runner", "cocotui.testing.outcomes"} <= loaded
    assert not loaded & {
        "cocotui.testing.harness",
        "cocotui.testing.recording",
        "cocotui.testing.idempotency",
    }


def test_python_m_cocotui_testing_is_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cocotui.testing", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


@pytest.mark.parametrize("module", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_modules_and_functions_stay_small(module: Path) -> None:
    text = module.read_text()
    assert len(text.splitlines()) < 500
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            assert length <= 80, f"{module.name}:{node.name} is {length} lines"
