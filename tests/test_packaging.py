"""What the wheel installs: cocotui's own top-level names only, typed, entry points inside it."""

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


def test_only_cocotui_names_are_installed(wheel: zipfile.ZipFile) -> None:
    top_level = {name.split("/")[0] for name in wheel.namelist()}
    assert top_level == {"cocotui", "cocotui_connectors", "cocotui-0.1.0.dist-info"}


def test_both_packages_are_marked_typed(wheel: zipfile.ZipFile) -> None:
    assert {"cocotui/py.typed", "cocotui_connectors/py.typed"} <= set(wheel.namelist())


def test_connector_entry_points_name_modules_in_the_wheel(wheel: zipfile.ZipFile) -> None:
    entry_points = configparser.ConfigParser()
    entry_points.read_string(wheel.read("cocotui-0.1.0.dist-info/entry_points.txt").decode())
    modules = dict(entry_points["cocotui.connectors"])
    assert set(modules) == {"files", "sqlite", "postgres", "http"}
    for module in modules.values():
        assert module.replace(".", "/") + ".py" in wheel.namelist()
