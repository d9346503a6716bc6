"""What a command imports is what it costs to start: ``cocotui update`` with nothing to do, on an
app that needs no heavy library, loads neither the heavy libraries some connectors and the UI
use nor the parts of cocotui that only other commands need (issue 10: no start-up regression).
A behaviour test, not a timing one: it checks ``sys.modules`` of the process that ran."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from conftest import REPO_ROOT, base_env
from python_probe import run_probe

#: Runs ``cocotui ARGS`` in this process, then prints its exit code and every module loaded.
PROBE = """
import json, sys
from cocotui.cli.main import main

code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""

#: An app like the light benchmark's: one cheap function, a custom target writing files.
LIGHT_APP = """
import dataclasses
import os

import cocotui

SOURCE = os.environ["LIGHT_SOURCE"]
OUTPUT = os.environ["LIGHT_OUTPUT"]


class FileTarget(cocotui.op.TargetSpec):
    directory: str


@dataclasses.dataclass
class Page:
    text: str


@cocotui.op.target_connector(spec_cls=FileTarget)
class FileTargetConnector:
    @staticmethod
    def get_persistent_key(spec: FileTarget, target_name: str) -> str:
        return spec.directory

    @staticmethod
    def apply_setup_change(
        key: str, previous: FileTarget | None, current: FileTarget | None
    ) -> None:
        if current is not None:
            os.makedirs(current.directory, exist_ok=True)

    @staticmethod
    def mutate(*all_mutations: tuple[FileTarget, dict[str, Page | None]]) -> None:
        for spec, mutations in all_mutations:
            for name, page in mutations.items():
                path = os.path.join(spec.directory, name)
                if page is None:
                    os.remove(path)
                else:
                    with open(path, "w", encoding="utf-8") as f:
                        f.write(page.text)


@cocotui.op.function()
def first_line(content: str) -> str:
    return content.partition("\\n")[0].upper()


@cocotui.flow_def(name="Light")
def light_flow(flow_builder: cocotui.FlowBuilder, data_scope: cocotui.DataScope) -> None:
    data_scope["files"] = flow_builder.add_source(cocotui.sources.LocalFile(path=SOURCE))
    pages = data_scope.add_collector()
    with data_scope["files"].row() as file:
        file["text"] = file["content"].transform(first_line)
        pages.collect(filename=file["filename"], text=file["text"])
    pages.export("pages", FileTarget(directory=OUTPUT), primary_key_fields=["filename"])
"""

#: Libraries that connectors, functions or the UI bring, and that a light app never needs.
HEAVY_LIBRARIES = (
    "numpy",
    "psycopg",
    "textual",
    "rich",
    "prometheus_client",
    "httpx",
    "httpcore",
    "watchfiles",
    "pyarrow",
    "asyncio",
    "ssl",
    "multiprocessing",
    "concurrent.futures",
    "decimal",
)
#: Standard or small libraries a few paths need: pickling (the call cache, worker transfer),
#: UUIDs (the app's), the default state directory, writing setup state, the host name.
ONLY_SOME_PATHS = ("pickle", "uuid", "platform", "socket", "platformdirs", "tomli_w")
#: Parts of cocotui that only some apps need: custom sources, indexes, query handlers, the
#: settings, the call cache of ``cache=True`` functions.
ONLY_SOME_APPS = (
    "cocotui.source_connector",
    "cocotui.index",
    "cocotui.query_handler",
    "cocotui.setting",
    "cocotui.engine.call_cache",
)
#: Parts of cocotui that only other commands (or a changed source) need.
OTHER_COMMANDS = (
    "cocotui.tui",
    "cocotui.engine.apply",
    "cocotui.engine.live",
    "cocotui.engine.watcher",
    "cocotui.engine.queries",
    "cocotui.presenter.documents",
    "cocotui.presenter.models",
    "cocotui.presenter.plans",
    "cocotui.presenter.targets",
    "cocotui.flow.transform_flows",
)


def run(args: list[str], tmp_path: Path) -> dict[str, object]:
    env = base_env(
        PYTHONPATH=str(REPO_ROOT),
        LIGHT_SOURCE=str(tmp_path / "docs"),
        LIGHT_OUTPUT=str(tmp_path / "out"),
    )
    result: dict[str, object]
    result, output = run_probe(PROBE, *args, cwd=tmp_path, env=env)
    assert result["code"] == 0, output
    return result


@pytest.fixture
def light_app(tmp_path: Path) -> list[str]:
    """The app set up and updated once: the next update has nothing to do."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(20):
        (docs / f"doc{i:02}.md").write_text(f"# title {i}\n\nbody\n")
    app = tmp_path / "light_app.py"
    app.write_text(textwrap.dedent(LIGHT_APP))
    common = [str(app), "--state-dir", str(tmp_path / "state")]
    run(["apply", *common, "--yes"], tmp_path)
    run(["update", *common], tmp_path)
    return common


def loaded(modules: object, names: tuple[str, ...]) -> list[str]:
    assert isinstance(modules, list)
    return [m for m in modules if any(m == n or m.startswith(f"{n}.") for n in names)]


def test_no_change_update_of_a_light_app_loads_nothing_heavy(
    light_app: list[str], tmp_path: Path
) -> None:
    modules = run(["update", *light_app], tmp_path)["modules"]
    # The probe sees what the run needed: the update's own data path was loaded.
    assert loaded(modules, ("cocotui.engine.source_pass", "sqlite3")) != []
    assert loaded(modules, HEAVY_LIBRARIES) == []
    assert loaded(modules, OTHER_COMMANDS) == []
    assert loaded(modules, ONLY_SOME_PATHS) == []
    assert loaded(modules, ONLY_SOME_APPS) == []


def test_the_cli_alone_loads_no_engine_data_path(tmp_path: Path) -> None:
    """``cocotui --help`` and argument errors answer before any app or engine code loads."""
    modules, _ = run_probe(
        "import json, sys, cocotui.cli.main; print(json.dumps(sorted(sys.modules)))",
        cwd=tmp_path,
        env=base_env(PYTHONPATH=str(REPO_ROOT)),
    )
    assert "cocotui.cli.update_command" in modules
    data_path = (
        "cocotui.engine.update",
        "cocotui.engine.facade",
        "cocotui.flow.builder",
        "cocotui.op",
        "sqlite3",
    )
    assert loaded(modules, data_path + HEAVY_LIBRARIES + OTHER_COMMANDS) == []
