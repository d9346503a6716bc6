"""What the wheel installs: the cocotui package marked typed, connector entry points inside it."""

from __future__ import annotations

import configparser
import zipfile
from pathlib import Path

import pytest
from hatchling.builders.wheel import WheelBuilder

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    (path,) = WheelBuilder(str(REPO)).build(directory=str(out), versions=["standard"])
    return zipfile.ZipFile(path)


def test_cocotui_is_marked_typed(wheel: zipfile.ZipFile) -> None:
    # PEP 561: without the marker, mypy ignores the hints of an installed cocotui.
    assert "cocotui/py.typed" in wheel.namelist()


def test_connector_entry_points_name_modules_in_the_wheel(wheel: zipfile.ZipFile) -> None:
    (dist_info,) = {name.split("/")[0] for name in wheel.namelist() if ".dist-info/" in name}
    entry_points = configparser.ConfigParser()
    entry_points.read_string(wheel.read(f"{dist_info}/entry_points.txt").decode())
    modules = dict(entry_points["cocotui.connectors"])
    assert modules
    for module in modules.values():
        path = module.replace(".", "/")
        # a module, or a package (connectors.v0_postgres)
        assert {f"{path}.py", f"{path}/__init__.py"} & set(wheel.namelist()), module
