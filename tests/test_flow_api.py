"""The CocoIndex v0 flow API apps write (issue 11, items 1, 2 and 6): ``DataSlice[T]``,
``DataSlice.call`` (once, at definition), transform flows inside flows, ``flow_builder.transform``,
``declare``, several exports of one collector, ``utils.get_target_default_name``, and every
top-level name of v0.3.39."""

from __future__ import annotations

import importlib
import sys
import textwrap
import typing
import uuid
from types import ModuleType

import numpy as np
import pytest
import update_helpers as h
from conftest import Workspace

import cocotui as cocoindex
from cocotui.engine.targets import TargetError
from cocotui.flow.builder import FlowBuilder, FlowDefinitionError
from cocotui.flow.loader import app_module_name


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


def loaded_app(ws: Workspace) -> ModuleType:
    """The app module the last engine loaded."""
    return sys.modules[app_module_name(ws.app)]


def run_once(ws: Workspace, files: dict[str, str]) -> h.Recorded:
    h.write_files(ws, files)
    h.apply_all(ws)
    run = h.update(ws)
    assert run.result.ok, run.named("row.failed")
    return run


# -- DataSlice[T] and transform flows inside flows ---------------------------------------------

TRANSFORM_FLOW = """
@cocoindex.op.function()
def words(text: str) -> list[str]:
    return text.split()

@cocoindex.op.function()
def count(items: list[str]) -> int:
    return len(items)

@cocoindex.transform_flow()
def word_count(text: cocoindex.DataSlice[str]) -> cocoindex.DataSlice[int]:
    return text.transform(words).transform(count)
"""


def test_data_slice_is_subscriptable_for_annotations() -> None:
    def helper(text: cocoindex.DataSlice[str]) -> cocoindex.DataSlice[list[float]]:
        return text

    hints = typing.get_type_hints(helper)
    assert typing.get_origin(hints["text"]) is cocoindex.DataSlice
    assert typing.get_args(hints["return"]) == (list[float],)


def test_a_transform_flow_called_in_a_flow_gives_what_eval_gives(ws: Workspace) -> None:
    h.flow_app(
        ws,
        rows='doc["n"] = doc["content"].call(word_count)',
        collect='filename=doc["filename"], n=doc["n"]',
        header=TRANSFORM_FLOW,
    )
    run_once(ws, {"a.md": "one two three", "b.md": "solo"})
    word_count = loaded_app(ws).word_count
    assert h.store() == {
        "a.md": {"n": word_count.eval("one two three")},
        "b.md": {"n": word_count.eval("solo")},
    }
    assert h.store()["a.md"] == {"n": 3}


def test_a_transform_flow_called_directly_in_nested_rows_embeds_as_eval_does(
    ws: Workspace,
) -> None:
    h.flow_app(
        ws,
        rows="""
        embeddings = data_scope.add_collector()
        doc["chunks"] = doc["content"].transform(chunks)
        with doc["chunks"].row() as chunk:
            chunk["embedding"] = text_to_embedding(chunk["text"])
            embeddings.collect(text=chunk["text"], embedding=chunk["embedding"])
        """,
        exports="""
        embeddings.export("t", MemTarget(resource="a"), primary_key_fields=["text"])
        out.export("docs", MemTarget(resource="b"), primary_key_fields=["filename"])
        """,
        header="""
        import numpy as np
        from numpy.typing import NDArray

        @dataclasses.dataclass
        class Chunk:
            text: str

        @cocoindex.op.function()
        def chunks(text: str) -> list[Chunk]:
            return [Chunk(line) for line in text.splitlines()]

        @cocoindex.op.function()
        def embed(text: str) -> list[float]:
            return [float(len(text)), float(text.count("a"))]

        @cocoindex.transform_flow()
        def text_to_embedding(
            text: cocoindex.DataSlice[str],
        ) -> cocoindex.DataSlice[NDArray[np.float32]]:
            return text.transform(embed)
        """,
    )
    run_once(ws, {"a.md": "banana\nkiwi"})
    query = loaded_app(ws).text_to_embedding.eval("banana")
    assert query.dtype == np.float32
    # The target's mutate declares Any: v0 hands it the Vector as a numpy array.
    assert h.store()["banana"]["embedding"].tolist() == query.tolist() == [6.0, 3.0]


def test_call_passes_the_slice_to_the_function_once_while_the_flow_is_defined(
    ws: Workspace,
) -> None:
    h.flow_app(
        ws,
        rows='doc["shouted"] = doc["content"].call(shouted, "!")',
        collect='filename=doc["filename"], shouted=doc["shouted"]',
        header="""
        CALLS = []

        def shouted(text, mark):
            CALLS.append(type(text).__name__)
            return text.transform(str.upper).transform(lambda t: t + mark)
        """,
    )
    run_once(ws, {"a.md": "hi", "b.md": "yo"})
    assert h.store() == {"a.md": {"shouted": "HI!"}, "b.md": {"shouted": "YO!"}}
    assert loaded_app(ws).CALLS == ["DataSlice"]  # once, on the slice: not per row


def test_flow_builder_transform_runs_per_row_of_its_inputs(ws: Workspace) -> None:
    h.flow_app(
        ws,
        rows='doc["label"] = flow_builder.transform(label, doc["filename"], text=doc["content"])',
        collect='filename=doc["filename"], label=doc["label"]',
        header="""
        @cocoindex.op.function()
        def label(name: str, text: str) -> str:
            return f"{name}:{len(text)}"
        """,
    )
    run_once(ws, {"a.md": "abc", "b.md": "de"})
    assert h.store() == {"a.md": {"label": "a.md:3"}, "b.md": {"label": "b.md:2"}}


def test_flow_builder_transform_needs_an_input() -> None:
    with pytest.raises(FlowDefinitionError, match="at least one input"):
        FlowBuilder("F").transform(str.upper)


def test_a_table_read_after_its_row_scope_has_the_fields_added_there(ws: Workspace) -> None:
    h.flow_app(
        ws,
        rows="""
        doc["parts"] = doc["content"].transform(parts)
        with doc["parts"].row() as part:
            part["size"] = part["text"].transform(len)
        doc["sizes"] = doc["parts"].transform(sizes)
        """,
        collect='filename=doc["filename"], sizes=doc["sizes"]',
        header="""
        @dataclasses.dataclass
        class Part:
            text: str

        @cocoindex.op.function()
        def parts(text: str) -> list[Part]:
            return [Part(t) for t in text.split(",")]

        def sizes(rows: list[dict[str, Any]]) -> list[int]:
            return [row["size"] for row in rows]
        """,
    )
    run_once(ws, {"a.md": "ab,cde"})
    [(filename, row)] = h.store().items()
    assert filename == "a.md" and row["sizes"].tolist() == [2, 3]  # list[int] is a Vector


# -- sources, scopes, collectors ---------------------------------------------------------------


def test_v0_concurrency_options_are_accepted(ws: Workspace) -> None:
    h.write_app(
        ws,
        """
        @cocoindex.flow_def(name="Docs")
        def docs_flow(flow_builder, data_scope):
            data_scope["documents"] = flow_builder.add_source(
                cocoindex.sources.LocalFile(path=SOURCE),
                max_inflight_rows=10,
                max_inflight_bytes=1 << 20,
            )
            out = data_scope.add_collector()
            with data_scope["documents"].row(max_inflight_rows=4) as doc:
                doc["parts"] = doc["content"].transform(lambda t: [{"w": w} for w in t.split()])
                with doc["parts"].row(max_inflight_rows=4, max_inflight_bytes=1024) as part:
                    out.collect(word=part["w"])
                doc["parts"].for_each(lambda part: None, max_inflight_rows=2)
            out.export("t", MemTarget(resource="a"), primary_key_fields=["word"])
        """,
    )
    run_once(ws, {"a.md": "x y"})
    assert h.store() == {"x": {}, "y": {}}


def test_one_collector_exported_to_two_targets_fills_both(ws: Workspace) -> None:
    h.flow_app(
        ws,
        exports="""
        out.export("first", MemTarget(resource="a"), primary_key_fields=["filename"])
        out.export("second", MemTarget(resource="b"), primary_key_fields=["filename"])
        """,
    )
    files = {"a.md": "alpha", "b.md": "beta"}
    run_once(ws, files)
    assert h.store("a") == h.store("b") == h.content_rows(files)


def test_generated_uuids_stay_the_same_across_runs_for_the_same_row(ws: Workspace) -> None:
    h.flow_app(
        ws,
        collect='id=cocoindex.GeneratedField.UUID, filename=doc["filename"]',
        exports='out.export("t", MemTarget(resource="a"), primary_key_fields=["id"])',
    )
    run_once(ws, {"a.md": "one", "b.md": "two"})
    first = h.store()
    assert all(isinstance(key, uuid.UUID) for key in first)
    h.write_files(ws, {"a.md": "one, edited"})  # re-evaluated, same collected values
    rerun = h.update(ws)
    assert rerun.result.ok
    assert h.store() == first
    assert h.sent() == {}


def test_a_declaration_for_a_custom_connector_is_refused_as_in_v0(ws: Workspace) -> None:
    h.flow_app(
        ws,
        exports="""
        flow_builder.declare(MemDeclaration(label="Doc"))
        out.export("t", MemTarget(resource="a"), primary_key_fields=["filename"])
        """,
        header="""
        class MemDeclaration(cocoindex.op.DeclarationSpec):
            kind = "MemTarget"
            label: str
        """,
    )
    with pytest.raises(TargetError, match="custom target connectors take no declarations"):
        h.open_engine(ws)


def test_declare_takes_only_declaration_specs() -> None:
    with pytest.raises(FlowDefinitionError, match="DeclarationSpec"):
        FlowBuilder("F").declare({"kind": "Neo4j"})


# -- names -------------------------------------------------------------------------------------


def test_get_target_default_name_joins_namespace_flow_and_target(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    @cocoindex.flow_def(name="DocEmbedding")
    def flow(flow_builder: cocoindex.FlowBuilder, data_scope: cocoindex.DataScope) -> None:
        pass

    monkeypatch.delenv("COCOINDEX_APP_NAMESPACE", raising=False)
    assert cocoindex.utils.get_target_default_name(flow, "embeddings") == (
        "DocEmbedding__embeddings"
    )
    assert cocoindex.utils.get_target_default_name(flow, "t", delimiter=".") == "DocEmbedding.t"
    monkeypatch.setenv("COCOINDEX_APP_NAMESPACE", "staging")
    assert cocoindex.utils.get_target_default_name(flow, "t") == "staging__DocEmbedding__t"
    assert cocoindex.utils.get_target_storage_default_name is (
        cocoindex.utils.get_target_default_name
    )


#: The top-level ``__all__`` of CocoIndex v0.3.39 (python/cocoindex/__init__.py at tag v0.3.39).
V0_ALL = [
    "__version__",
    "_engine",
    "functions",
    "llm",
    "sources",
    "targets",
    "storages",
    "cli",
    "op",
    "utils",
    "AuthEntryReference",
    "add_auth_entry",
    "add_transient_auth_entry",
    "ref_auth_entry",
    "FlowBuilder",
    "DataScope",
    "DataSlice",
    "Flow",
    "transform_flow",
    "flow_def",
    "EvaluateAndDumpOptions",
    "GeneratedField",
    "FlowLiveUpdater",
    "FlowLiveUpdaterOptions",
    "FlowUpdaterStatusUpdates",
    "open_flow",
    "add_flow_def",
    "remove_flow",
    "update_all_flows_async",
    "setup_all_flows",
    "drop_all_flows",
    "settings",
    "init",
    "start_server",
    "stop",
    "LlmSpec",
    "LlmApiType",
    "VectorSimilarityMetric",
    "VectorIndexDef",
    "FtsIndexDef",
    "IndexOptions",
    "HnswVectorIndexMethod",
    "IvfFlatVectorIndexMethod",
    "DatabaseConnectionSpec",
    "GlobalExecutionOptions",
    "Settings",
    "ServerSettings",
    "get_app_namespace",
    "Int64",
    "Float32",
    "Float64",
    "LocalDateTime",
    "OffsetDateTime",
    "Range",
    "Vector",
    "Json",
    "QueryHandlerResultFields",
    "QueryInfo",
    "QueryOutput",
]


@pytest.mark.parametrize("name", V0_ALL)
def test_every_v0_top_level_name_imports_from_cocotui(name: str) -> None:
    module = importlib.import_module("cocotui")
    assert getattr(module, name) is not None
    exec(f"from cocotui import {name}", {})
    assert name in dir(module)


def test_server_names_raise_saying_what_to_use_instead() -> None:
    with pytest.raises(RuntimeError, match="cocotui serve"):
        cocoindex.start_server(None)
    with pytest.raises(RuntimeError, match="cocotui serve"):
        cocoindex.ServerSettings()
    with pytest.raises(AttributeError, match="no native CocoIndex engine"):
        cocoindex._engine.init_pyo3_runtime  # noqa: B018


def test_llm_spec_and_the_old_storages_name() -> None:
    spec = cocoindex.LlmSpec(api_type=cocoindex.LlmApiType.OLLAMA, model="llama3.2")
    assert (spec.api_type.value, spec.model, spec.address) == ("Ollama", "llama3.2", None)
    assert cocoindex.storages is cocoindex.targets
    assert cocoindex.stop() is None


# -- a v0 example app through the CLI ----------------------------------------------------------

#: An app of the shape of v0's examples/custom_output_files: markdown files under ``data``
#: rendered to HTML files in ``output_html`` by a custom target, written for v0 (``import
#: cocoindex``, relative paths, refresh_interval, prepare/describe).
HTML_APP = """
import dataclasses
import os
from datetime import timedelta

import cocoindex
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark")


class HtmlDir(cocoindex.op.TargetSpec):
    directory: str


@dataclasses.dataclass
class HtmlValues:
    html: str


@cocoindex.op.target_connector(spec_cls=HtmlDir)
class HtmlDirConnector:
    @staticmethod
    def get_persistent_key(spec: HtmlDir, target_name: str) -> str:
        return spec.directory

    @staticmethod
    def describe(key: str) -> str:
        return f"HTML files in {key}"

    @staticmethod
    def apply_setup_change(key: str, previous: HtmlDir | None, current: HtmlDir | None) -> None:
        if previous is None and current is not None:
            os.makedirs(current.directory, exist_ok=True)
        if previous is not None and current is None and os.path.isdir(previous.directory):
            for name in os.listdir(previous.directory):
                os.remove(os.path.join(previous.directory, name))
            os.rmdir(previous.directory)

    @staticmethod
    def prepare(spec: HtmlDir) -> HtmlDir:
        return spec

    @staticmethod
    def mutate(*all_mutations: tuple[HtmlDir, dict[str, HtmlValues | None]]) -> None:
        for spec, mutations in all_mutations:
            for filename, value in mutations.items():
                path = os.path.join(spec.directory, filename) + ".html"
                if value is None:
                    if os.path.exists(path):
                        os.remove(path)
                else:
                    with open(path, "w") as f:
                        f.write(value.html)


@cocoindex.op.function()
def to_html(text: str) -> str:
    return _md.render(text)


@cocoindex.flow_def(name="HtmlFiles")
def html_files(flow_builder: cocoindex.FlowBuilder, data_scope: cocoindex.DataScope) -> None:
    data_scope["documents"] = flow_builder.add_source(
        cocoindex.sources.LocalFile(path="data", included_patterns=["*.md"]),
        refresh_interval=timedelta(seconds=5),
    )
    html = data_scope.add_collector()
    with data_scope["documents"].row() as doc:
        doc["html"] = doc["content"].transform(to_html)
        html.collect(filename=doc["filename"], html=doc["html"])
    html.export("OutputHtml", HtmlDir(directory="output_html"), primary_key_fields=["filename"])
"""


def test_a_v0_custom_output_files_app_runs_through_plan_apply_update(workspace: Workspace) -> None:
    ws = workspace
    ws.write_raw_app(textwrap.dedent(HTML_APP))
    data = ws.root / "data"
    data.mkdir()
    (data / "intro.md").write_text("# Intro\n\nHello *world*.\n")
    (data / "notes.txt").write_text("not markdown")
    plan = ws.cli("plan", ws.app)
    assert plan.returncode == 0, plan.stderr
    assert "HtmlFiles.OutputHtml" in plan.stdout
    applied = ws.apply()
    assert applied.returncode == 0, applied.stderr
    assert (ws.root / "output_html").is_dir()
    updated = ws.cli("update", ws.app)
    assert updated.returncode == 0, updated.stderr
    html = (ws.root / "output_html" / "intro.md.html").read_text()
    assert "<h1>Intro</h1>" in html and "<em>world</em>" in html
    assert sorted(p.name for p in (ws.root / "output_html").iterdir()) == ["intro.md.html"]
    (data / "intro.md").unlink()
    assert ws.cli("update", ws.app).returncode == 0
    assert list((ws.root / "output_html").iterdir()) == []
