"""``import cocoindex`` inside an app that cocotui loads gives cocotui's compatible modules;
outside, or with ``COCOTUI_NO_COCOINDEX_ALIAS=1``, it does not; a real cocoindex is never
shadowed silently."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import base_env, run_cli

V0_APP = """
import dataclasses

import cocoindex
from cocoindex import op
from cocoindex.engine_type import FieldSchema
from cocoindex.index import IndexOptions, VectorSimilarityMetric

ROWS = {}


class Table(op.TargetSpec):
    name: str


@dataclasses.dataclass
class State:
    key_field_schema: FieldSchema
    value_fields_schema: list[FieldSchema]
    metric: VectorSimilarityMetric | None = None


@op.target_connector(spec_cls=Table, persistent_key_type=str, setup_state_cls=State)
class Connector:
    @staticmethod
    def get_persistent_key(spec: Table, target_name: str) -> str:
        return spec.name

    @staticmethod
    def get_setup_state(spec: Table, key_fields_schema: list[FieldSchema],
                        value_fields_schema: list[FieldSchema],
                        index_options: IndexOptions) -> State:
        metric = index_options.vector_indexes[0].metric if index_options.vector_indexes else None
        return State(key_fields_schema[0], value_fields_schema, metric)

    @staticmethod
    def apply_setup_change(key: str, previous: State | None, current: State | None) -> None:
        assert current is None or isinstance(current.key_field_schema, FieldSchema)

    @staticmethod
    def mutate(*all_mutations: tuple[Table, dict[str, dict | None]]) -> None:
        for spec, rows in all_mutations:
            print("mutate", spec.name, sorted(rows))


@cocoindex.op.function()
def embed(text: str) -> cocoindex.Vector[cocoindex.Float32, 2]:
    return [1.0, float(len(text))]


@cocoindex.flow_def(name="V0")
def v0_flow(flow_builder: cocoindex.FlowBuilder, data_scope: cocoindex.DataScope) -> None:
    data_scope["docs"] = flow_builder.add_source(cocoindex.sources.LocalFile(path=SOURCE))
    out = data_scope.add_collector()
    with data_scope["docs"].row() as doc:
        out.collect(filename=doc["filename"], embedding=doc["content"].transform(embed))
    out.export("t", Table(name="t"), primary_key_fields=["filename"],
               vector_indexes=[cocoindex.VectorIndexDef(
                   "embedding", cocoindex.VectorSimilarityMetric.COSINE_SIMILARITY)])
"""


@pytest.fixture
def app(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    source.mkdir()
    (source / "a.md").write_text("alpha")
    path = tmp_path / "v0_app.py"
    path.write_text(V0_APP.replace("SOURCE", repr(str(source))))
    return path


def test_a_v0_app_importing_cocoindex_runs_through_the_cli(app: Path, tmp_path: Path) -> None:
    env = base_env(COCOTUI_STATE_DIR=str(tmp_path / "state"))
    plan = run_cli("plan", app, "--json", env=env)
    assert plan.returncode == 0, plan.stderr
    [change] = json.loads(plan.stdout)["changes"]
    assert change["action"] == "create"
    assert change["current"]["value_fields_schema"] == [
        {
            "name": "embedding",
            "type": {"kind": "Vector", "element_type": {"kind": "Float32"}, "dimension": 2},
        }
    ]
    assert change["current"]["metric"] == "CosineSimilarity"
    applied = run_cli("apply", app, "--yes", env=env)
    assert applied.returncode == 0, applied.stderr
    updated = run_cli("update", app, env=env)
    assert updated.returncode == 0, updated.stderr
    assert "mutate t ['a.md']" in updated.stdout
    assert "CocoindexShadowedWarning" not in updated.stderr  # no real cocoindex here


def test_the_alias_is_off_with_the_environment_variable(app: Path, tmp_path: Path) -> None:
    env = base_env(COCOTUI_STATE_DIR=str(tmp_path / "state"), COCOTUI_NO_COCOINDEX_ALIAS="1")
    result = run_cli("plan", app, env=env)
    assert result.returncode != 0
    assert "No module named 'cocoindex'" in result.stderr


def run_python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=base_env(COCOTUI_STATE_DIR=str(tmp_path / "state"), **env),
        timeout=60,
    )


SUBMODULES = [
    "op",
    "typing",
    "index",
    "engine_type",
    "setting",
    "auth_registry",
    "functions",
    "sources",
    "targets",
    "utils",
    "llm",
    "query_handler",
    "flow",
]


def test_every_public_submodule_is_cocotuis_own_module(app: Path, tmp_path: Path) -> None:
    result = run_python(
        f"""
        import importlib, json
        import cocotui
        from cocotui.flow.loader import load_app
        load_app({str(app)!r})
        import cocoindex, cocoindex.storages
        same = {{name: importlib.import_module("cocoindex." + name)
                 is importlib.import_module("cocotui." + name) for name in {SUBMODULES!r}}}
        print(json.dumps({{
            "top": cocoindex is cocotui,
            "same": same,
            "storages": cocoindex.storages is cocotui.targets,
            "spec": cocotui.op.__spec__.name,
            "flow_names": [cocoindex.flow.FlowBuilder is cocotui.FlowBuilder,
                           cocoindex.GeneratedField.UUID.value],
        }}))
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["top"] and found["storages"]
    assert found["same"] == dict.fromkeys(SUBMODULES, True)
    assert found["spec"] == "cocotui.op"  # cocotui's modules keep their own identity
    assert found["flow_names"] == [True, "Uuid"]


def test_no_alias_outside_an_app_cocotui_loads(tmp_path: Path) -> None:
    result = run_python("import cocotui\nimport cocoindex\n", tmp_path)
    assert "No module named 'cocoindex'" in result.stderr


def test_a_real_cocoindex_is_shadowed_with_a_warning_or_used_when_the_alias_is_off(
    app: Path, tmp_path: Path
) -> None:
    real = tmp_path / "site" / "cocoindex"
    real.mkdir(parents=True)
    (real / "__init__.py").write_text("REAL = True\n")
    probe = f"""
        import warnings
        from cocotui.flow.loader import AppLoadError, load_app
        try:
            load_app({str(app)!r})
        except AppLoadError as exc:
            print("load error:", str(exc).splitlines()[-1])
        import cocoindex
        print("real" if getattr(cocoindex, "REAL", False) else "cocotui")
        """
    shadowed = run_python(probe, tmp_path, PYTHONPATH=str(real.parent))
    assert shadowed.returncode == 0, shadowed.stderr
    assert shadowed.stdout.strip() == "cocotui"
    assert "CocoindexShadowedWarning" in shadowed.stderr
    assert "COCOTUI_NO_COCOINDEX_ALIAS=1" in shadowed.stderr
    off = run_python(probe, tmp_path, PYTHONPATH=str(real.parent), COCOTUI_NO_COCOINDEX_ALIAS="1")
    assert off.stdout.strip().splitlines()[-1] == "real"
    assert "CocoindexShadowedWarning" not in off.stderr


def test_import_cocotui_is_lazy_and_import_cocotui_as_cocoindex_works(tmp_path: Path) -> None:
    result = run_python(
        """
        import sys
        import cocotui as cocoindex
        lazy = [m for m in ("cocotui.op", "cocotui.flow.builder", "cocotui.engine_type")
                if m in sys.modules]
        assert lazy == [], lazy
        assert cocoindex.op.TargetSpec is sys.modules["cocotui.op"].TargetSpec
        assert cocoindex.FieldSchema is cocoindex.engine_type.FieldSchema
        assert cocoindex.op.FieldSchema is cocoindex.FieldSchema
        assert cocoindex.op.IndexOptions is cocoindex.index.IndexOptions
        print("ok")
        """,
        tmp_path,
    )
    assert result.stdout.strip() == "ok", result.stderr
