"""What the wheel installs: cocotui and its first-party connectors under names that belong to
cocotui (the repository's ``connectors/`` as ``cocotui_connectors``, no top-level ``connectors``),
both marked typed, and every connector entry point loading, from the wheel installed in a clean
virtual environment and from the editable install the tests run in."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Where each source directory is installed.
PACKAGES = {"cocotui": "cocotui", "connectors": "cocotui_connectors"}
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
# What loading the connector entry points needs besides the wheel (connectors/http_client.py
# talks through httpcore); nothing else is installed beside it.
LOAD_REQUIREMENTS = [dep for dep in PROJECT["dependencies"] if dep.startswith("httpcore")]

# Run from an empty directory, so that the repository is not on sys.path: prints where each
# connector entry point's module was loaded from, the module of each v0 target name (they are
# reached through cocotui/first_party.py), and whether a top-level `connectors` exists.
PROBE = """
import importlib.metadata, importlib.util, json
import cocotui.targets
print(json.dumps({
    "loaded": {
        ep.name: ep.load().__file__
        for ep in importlib.metadata.entry_points(group="cocotui.connectors")
    },
    "targets": {
        name: getattr(cocotui.targets, name).__module__ for name in cocotui.targets.__all__
    },
    "top_level_connectors": importlib.util.find_spec("connectors") is not None,
}))
"""


def declared_entry_points() -> dict[str, str]:
    entry_points: dict[str, str] = PROJECT["entry-points"]["cocotui.connectors"]
    return entry_points


def run(args: list[str], cwd: Path) -> str:
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def probe(python: str, cwd: Path) -> dict[str, object]:
    result: dict[str, object] = json.loads(run([python, "-c", PROBE], cwd).splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def wheel_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a copy: setuptools writes build/ and *.egg-info beside the sources it builds.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for directory in PACKAGES:
        shutil.copytree(
            REPO / directory, source / directory, ignore=shutil.ignore_patterns("__pycache__")
        )
    out = tmp_path_factory.mktemp("wheel")
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    run([*pip_wheel, "--wheel-dir", str(out), str(source)], source)
    (path,) = out.glob("*.whl")
    return path


@pytest.fixture(scope="module")
def wheel(wheel_path: Path) -> zipfile.ZipFile:
    return zipfile.ZipFile(wheel_path)


@pytest.fixture(scope="module")
def wheel_python(wheel_path: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The python of a new virtual environment (no system site-packages) holding the wheel."""
    venv = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", str(venv)], venv)
    python = str(venv / "bin" / "python")
    pip_install = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run([*pip_install, "--no-deps", str(wheel_path)], venv)
    assert LOAD_REQUIREMENTS
    run([*pip_install, *LOAD_REQUIREMENTS], venv)
    return python


@pytest.fixture(scope="module")
def from_wheel(wheel_python: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """What PROBE reports in the environment holding the wheel."""
    return probe(wheel_python, tmp_path_factory.mktemp("cwd"))


def test_wheel_installs_no_top_level_connectors_package(
    wheel: zipfile.ZipFile, from_wheel: dict[str, object]
) -> None:
    top_level = {name.split("/")[0] for name in wheel.namelist() if ".dist-info/" not in name}
    assert top_level == {"cocotui", "cocotui_connectors"}
    assert from_wheel["top_level_connectors"] is False


def test_every_connector_entry_point_loads_from_the_installed_wheel(
    wheel_python: str, from_wheel: dict[str, object]
) -> None:
    loaded = from_wheel["loaded"]
    assert isinstance(loaded, dict)
    assert set(loaded) == set(declared_entry_points())
    site_packages = Path(wheel_python).parent.parent / "lib"
    for name, file in loaded.items():
        assert Path(file).is_relative_to(site_packages), (name, file)
        assert "/cocotui_connectors/" in file, (name, file)


def test_v0_target_names_resolve_in_the_installed_wheel(from_wheel: dict[str, object]) -> None:
    targets = from_wheel["targets"]
    assert isinstance(targets, dict)
    assert set(targets) == {"Postgres", "PostgresColumnOptions", "Qdrant", "QdrantConnection"}
    assert all(module.startswith("cocotui_connectors.v0_") for module in targets.values())


def test_every_connector_entry_point_loads_from_the_editable_install(tmp_path: Path) -> None:
    # The same importable names as the wheel's, read from the repository's connectors/.
    loaded = probe(sys.executable, tmp_path)
    assert loaded["top_level_connectors"] is False
    files = loaded["loaded"]
    assert isinstance(files, dict)
    assert set(files) == set(declared_entry_points())
    for name, file in files.items():
        assert Path(file).is_relative_to(REPO / "connectors"), (name, file)


def test_both_packages_are_marked_typed(wheel: zipfile.ZipFile) -> None:
    # PEP 561: without the marker, mypy ignores the hints of an installed package.
    assert {"cocotui/py.typed", "cocotui_connectors/py.typed"} <= set(wheel.namelist())


def test_every_source_file_is_in_the_wheel(wheel: zipfile.ZipFile) -> None:
    # The packages and package data listed in pyproject.toml miss nothing: a new subpackage or
    # data file (app.tcss, the demo's guides) must be listed there too.
    expected = {
        f"{package}/{path.relative_to(REPO / directory).as_posix()}"
        for directory, package in PACKAGES.items()
        for path in (REPO / directory).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert expected <= set(wheel.namelist())
