"""Index options declared by ``export(..., vector_indexes=[...], fts_indexes=[...])`` reach
``get_setup_state`` as v0's ``IndexOptions``; a setup state holding them (and field schemas)
is stored and comes back typed; a change of indexes or field types is a planned update that the
connector's compatibility check decides on."""

from __future__ import annotations

import pytest
import typed_helpers as t
import update_helpers as h
from conftest import Workspace

from cocotui.cli.render import Style, plan_text
from cocotui.engine.plan import Action
from cocotui.engine.targets import TargetError
from cocotui.engine_type import FieldSchema
from cocotui.flow.loader import AppLoadError
from cocotui.index import (
    FtsIndexDef,
    HnswVectorIndexMethod,
    IndexOptions,
    IvfFlatVectorIndexMethod,
    VectorIndexDef,
    VectorIndexMethod,
    VectorSimilarityMetric,
)
from cocotui.op import TargetStateCompatibility
from cocotui.presenter import present_plan

EMBED = """
@cocoindex.op.function()
def embed(text: str) -> cocoindex.Vector[cocoindex.Float32, 3]:
    return [float(len(text)), 0.0, 1.0]
"""


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    ws = h.prepare(workspace, monkeypatch)
    h.write_files(ws, {"a.md": "alpha"})
    return ws


def index_app(ws: Workspace, export_args: str) -> None:
    """Files with an ``embedding`` (a 3-dimensional vector), exported with ``export_args``."""
    t.typed_app(
        ws,
        header=EMBED,
        rows='doc["embedding"] = doc["content"].transform(embed)',
        collect='filename=doc["filename"], content=doc["content"], embedding=doc["embedding"]',
        export_args=export_args,
    )


def last_index_options(ws: Workspace) -> IndexOptions:
    t.plan(ws)
    options: IndexOptions = t.connector().SETUP_CALLS[-1][2]
    return options


METRICS = list(VectorSimilarityMetric)


@pytest.mark.parametrize("metric", METRICS, ids=[m.name for m in METRICS])
def test_vector_index_metric_reaches_get_setup_state(
    ws: Workspace, metric: VectorSimilarityMetric
) -> None:
    index_app(
        ws,
        f", vector_indexes=[cocoindex.VectorIndexDef('embedding', "
        f"cocoindex.VectorSimilarityMetric.{metric.name})]",
    )  # type: ignore[attr-defined]
    options = last_index_options(ws)
    assert options == IndexOptions(["filename"], [VectorIndexDef("embedding", metric)], [])


METHODS = [
    (
        "cocoindex.HnswVectorIndexMethod(m=16, ef_construction=64)",
        HnswVectorIndexMethod(m=16, ef_construction=64),
        "hnsw(m=16, ef_construction=64)",
    ),
    (
        "cocoindex.HnswVectorIndexMethod()",
        HnswVectorIndexMethod(),
        "hnsw(m=None, ef_construction=None)",
    ),
    (
        "cocoindex.IvfFlatVectorIndexMethod(lists=8)",
        IvfFlatVectorIndexMethod(lists=8),
        "ivfflat(lists=8)",
    ),
    ("None", None, "default"),
]


@pytest.mark.parametrize(
    ("source", "method", "created"), METHODS, ids=["hnsw", "hnsw-defaults", "ivfflat", "none"]
)
def test_vector_index_method_reaches_the_connector_and_comes_back_typed(
    ws: Workspace, source: str, method: VectorIndexMethod | None, created: str
) -> None:
    metric = "cocoindex.VectorSimilarityMetric.L2_DISTANCE"
    index_app(ws, f", vector_indexes=[cocoindex.VectorIndexDef('embedding', {metric}, {source})]")
    options = last_index_options(ws)
    assert list(options.vector_indexes) == [
        VectorIndexDef("embedding", VectorSimilarityMetric.L2_DISTANCE, method)
    ]
    t.apply(ws)
    assert t.connector().TABLES["docs"]["vector_indexes"] == {
        "__embedding__L2Distance__idx": f"embedding L2_DISTANCE {created}"
    }
    # The stored state (TOML) comes back as the connector's typed objects: drop it and look.
    index_app(ws, "")
    ws.app.write_text(ws.app.read_text().replace('out.export("t"', 'pass  # out.export("t"'))
    t.apply(ws)
    _, previous, current = t.connector().APPLIED[-1]
    assert current is None
    stored = previous.vector_indexes[0]
    assert type(stored).__name__ == "_VectorIndex"
    assert stored.metric is VectorSimilarityMetric.L2_DISTANCE
    assert stored.method == method
    assert isinstance(previous.key_field_schema, FieldSchema)


def test_fts_indexes_reach_get_setup_state(ws: Workspace) -> None:
    index_app(
        ws,
        ", fts_indexes=[cocoindex.FtsIndexDef('content', {'tokenizer_name': 'en_stem'}),"
        " cocoindex.FtsIndexDef('filename')]",
    )
    options = last_index_options(ws)
    assert list(options.fts_indexes) == [
        FtsIndexDef("content", {"tokenizer_name": "en_stem"}),
        FtsIndexDef("filename"),
    ]
    assert list(options.vector_indexes) == []
    t.apply(ws)
    assert t.connector().TABLES["docs"]["fts_indexes"] == {
        "__content__fts__idx": "content {'tokenizer_name': 'en_stem'}",
        "__filename__fts__idx": "filename {}",
    }


def test_v0_legacy_vector_index_argument(ws: Workspace) -> None:
    index_app(ws, ", vector_index=[('embedding', cocoindex.VectorSimilarityMetric.INNER_PRODUCT)]")
    options = last_index_options(ws)
    assert list(options.vector_indexes) == [
        VectorIndexDef("embedding", VectorSimilarityMetric.INNER_PRODUCT)
    ]


def test_primary_key_fields_are_in_index_options(ws: Workspace) -> None:
    index_app(ws, "")
    assert list(last_index_options(ws).primary_key_fields) == ["filename"]


def test_index_on_a_field_that_is_not_collected_is_an_error(ws: Workspace) -> None:
    index_app(
        ws,
        ", vector_indexes=[cocoindex.VectorIndexDef('vec', "
        "cocoindex.VectorSimilarityMetric.COSINE_SIMILARITY)]",
    )
    with pytest.raises(TargetError, match="vector index field 'vec' is not collected"):
        t.plan(ws)


def test_index_of_the_wrong_class_is_an_error(ws: Workspace) -> None:
    index_app(
        ws,
        ", fts_indexes=[cocoindex.VectorIndexDef('embedding', "
        "cocoindex.VectorSimilarityMetric.COSINE_SIMILARITY)]",
    )
    with pytest.raises(AppLoadError, match="each index must be a FtsIndexDef"):
        t.plan(ws)


def test_index_change_is_a_planned_update_with_a_diff(ws: Workspace) -> None:
    cosine = (
        ", vector_indexes=[cocoindex.VectorIndexDef('embedding', "
        "cocoindex.VectorSimilarityMetric.COSINE_SIMILARITY)]"
    )
    index_app(ws, cosine)
    t.apply(ws)
    assert t.plan(ws).pending == []  # stored state equals the desired one: nothing to do
    index_app(ws, cosine.replace("COSINE_SIMILARITY", "L2_DISTANCE"))
    plan = t.plan(ws)
    [change] = plan.pending
    assert change.action is Action.UPDATE
    assert change.compatibility is TargetStateCompatibility.COMPATIBLE  # the connector's verdict
    desired, existing = t.connector().COMPATIBILITY_CALLS[-1]
    assert existing.vector_indexes[0].metric is VectorSimilarityMetric.COSINE_SIMILARITY
    assert desired.vector_indexes[0].metric is VectorSimilarityMetric.L2_DISTANCE
    text = plan_text(present_plan(plan), Style(open("/dev/null", "w")))  # noqa: SIM115
    assert "~ update Docs.t" in text
    # Each index in full (unset options as null), before → after.
    old, new = text.split("~ vector_indexes: ")[1].split(" → ")
    assert '"field_name": "embedding"' in old and '"metric": "CosineSimilarity"' in old
    assert '"field_name": "embedding"' in new and '"metric": "L2Distance"' in new
    t.apply(ws)
    assert list(t.connector().TABLES["docs"]["vector_indexes"]) == ["__embedding__L2Distance__idx"]


def test_field_type_change_is_a_planned_update_the_connector_decides_on(ws: Workspace) -> None:
    index_app(ws, "")
    t.apply(ws)
    h.update(ws)
    assert t.connector().TABLES["docs"]["columns"]["embedding"] == "fixed_list<float32, 3>"
    ws.app.write_text(ws.app.read_text().replace("cocoindex.Float32, 3]", "cocoindex.Float32, 4]"))
    plan = t.plan(ws)
    [change] = plan.pending
    assert change.action is Action.UPDATE
    assert change.compatibility is TargetStateCompatibility.NOT_COMPATIBLE
    desired, existing = t.connector().COMPATIBILITY_CALLS[-1]
    assert str(existing.value_fields_schema[1]) == "embedding: Vector[Float32, 3]"
    assert str(desired.value_fields_schema[1]) == "embedding: Vector[Float32, 4]"
    text = plan_text(present_plan(plan), Style(open("/dev/null", "w")))  # noqa: SIM115
    assert '~ value_fields_schema: [{"name": "content"' in text and '"dimension": 4' in text
    t.apply(ws)
    assert t.connector().TABLES["docs"]["columns"]["embedding"] == "fixed_list<float32, 4>"
