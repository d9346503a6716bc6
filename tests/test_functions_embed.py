"""``cocotui.functions.SentenceTransformerEmbed`` (issue 12, items 3 and 5): real
sentence-transformers code on a tiny model that the tests build and save themselves (no
download), loaded once per process, fed the chunks of many documents in one call, typed with the
model's dimension, and cached across runs (an unchanged chunk is never encoded twice; a model
or argument change re-encodes)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import update_helpers as h
from conftest import Workspace
from sentence_transformers import SentenceTransformer
from tiny_sbert import DIM, build_tiny_model, record_encode

import cocotui as cocoindex
from cocotui.engine_type import BasicValueType
from cocotui.functions import SentenceTransformerEmbed, sbert
from cocotui.op_function import function_info, resolve_transform
from cocotui.typing import Float32, Vector
from cocotui.value_types import enriched_type_of, function_return_annotation


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # a test that reached for the hub would fail


@pytest.fixture
def encoded(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The texts of every call of the model's ``encode``, call by call."""
    return record_encode(monkeypatch)


def test_output_is_a_float32_vector_of_the_models_dimension(model_dir: str) -> None:
    embed = resolve_transform(SentenceTransformerEmbed(model=model_dir))
    field = enriched_type_of(function_return_annotation(embed))
    assert isinstance(field.type, BasicValueType) and field.type.kind == "Vector"
    assert field.type.vector is not None
    assert (field.type.vector.element_type.kind, field.type.vector.dimension) == ("Float32", DIM)
    info = function_info(embed)
    assert (info.cache, info.batching, info.gpu) == (True, True, True)


def test_vectors_are_the_models_in_the_callers_order(model_dir: str) -> None:
    embed = resolve_transform(SentenceTransformerEmbed(model=model_dir))
    texts = ["alpha beta gamma delta", "zeta", "eta theta"]  # not sorted by length
    vectors = embed(texts)
    expected = SentenceTransformer(model_dir, device="cpu").encode(texts)
    assert len(vectors) == 3
    for got, want in zip(vectors, expected, strict=True):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_the_model_is_loaded_once_per_process(
    model_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sbert, "_models", {})
    loads: list[str] = []
    original = SentenceTransformer.__init__

    def init(self: SentenceTransformer, *args: Any, **kwargs: Any) -> None:
        loads.append(args[0])
        original(self, *args, **kwargs)

    monkeypatch.setattr(SentenceTransformer, "__init__", init)
    first = resolve_transform(SentenceTransformerEmbed(model=model_dir))
    second = resolve_transform(SentenceTransformerEmbed(model=model_dir))
    first(["alpha"])
    second(["beta"])
    assert loads == [model_dir]


def test_without_sentence_transformers_the_error_says_what_to_install(
    model_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sbert, "_models", {})
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(ImportError, match=r"cocotui\[embeddings\]"):
        resolve_transform(SentenceTransformerEmbed(model=model_dir))


# -- in a flow -----------------------------------------------------------------------------------


def embed_app(ws: Workspace, model: str, args: dict[str, Any] | None = None) -> None:
    transform = f"cocoindex.functions.SentenceTransformerEmbed(model={model!r}, args={args!r})"
    h.chunk_transform_app(ws, "vector", transform)


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


def run_update(ws: Workspace) -> None:
    run = h.update(ws)
    assert run.result.ok, run.named("row.failed")


def test_the_chunks_of_a_batchs_documents_reach_the_model_in_one_call(
    ws: Workspace, model_dir: str, encoded: list[list[str]]
) -> None:
    h.write_files(ws, {"a.md": "alpha|beta|gamma delta|zeta", "b.md": "eta|theta"})
    embed_app(ws, model_dir)
    h.apply_all(ws)
    run_update(ws)
    assert [len(batch) for batch in encoded] == [6]  # one call for both documents
    stored = h.store()
    assert len(stored) == 6
    direct = SentenceTransformer(model_dir, device="cpu")
    for (_, text), value in stored.items():
        np.testing.assert_allclose(value["vector"], direct.encode([text])[0], rtol=1e-6)


def test_unchanged_chunks_are_never_encoded_twice(
    ws: Workspace, model_dir: str, encoded: list[list[str]]
) -> None:
    h.write_files(ws, {"a.md": "alpha|beta|gamma", "b.md": "eta"})
    embed_app(ws, model_dir)
    h.apply_all(ws)
    run_update(ws)
    encoded.clear()

    h.write_files(ws, {"a.md": "alpha|beta|gamma|theta"})
    run_update(ws)
    assert encoded == [["theta"]]  # the other chunks of a.md come from the cache


def test_a_model_or_argument_change_encodes_again(
    ws: Workspace, model_dir: str, encoded: list[list[str]], tmp_path: Path
) -> None:
    h.write_files(ws, {"a.md": "alpha|beta", "b.md": "eta"})
    embed_app(ws, model_dir)
    h.apply_all(ws)
    run_update(ws)
    before = h.store()
    encoded.clear()

    embed_app(ws, model_dir, {"device": "cpu"})  # same model, other arguments
    run_update(ws)
    assert sorted(t for batch in encoded for t in batch) == ["alpha", "beta", "eta"]
    other = build_tiny_model(tmp_path / "other-model", seed=1)  # saving it encodes a sample
    encoded.clear()

    embed_app(ws, other, {"device": "cpu"})
    run_update(ws)
    assert sorted(t for batch in encoded for t in batch) == ["alpha", "beta", "eta"]
    after = h.store()
    assert not np.allclose(after[("a.md", "alpha")]["vector"], before[("a.md", "alpha")]["vector"])


def test_a_transform_flow_embeds_a_query_as_the_flow_embeds_chunks(model_dir: str) -> None:
    # v0's text_embedding example: the same transform flow for the index and for queries.
    @cocoindex.transform_flow()
    def text_to_embedding(
        text: cocoindex.DataSlice[str],
    ) -> cocoindex.DataSlice[Vector[Float32, DIM]]:
        return text.transform(SentenceTransformerEmbed(model=model_dir))

    vector = text_to_embedding.eval("alpha beta")
    expected = SentenceTransformer(model_dir, device="cpu").encode(["alpha beta"])[0]
    np.testing.assert_allclose(np.asarray(vector, dtype=np.float32), expected, rtol=1e-6)


SHOUT = """
@cocoindex.op.function(batching=True, max_batch_size=2, cache=True, behavior_version=1)
def shout(texts: list[str], suffix: list[str]) -> list[str]:
    mem_connector.CALLS.append(("shout", (texts, suffix)))
    return [t.upper() + s for t, s in zip(texts, suffix)]
"""


def test_a_tables_rows_are_batched_by_max_batch_size_without_cached_ones(ws: Workspace) -> None:
    h.write_files(ws, {"a.md": "a|b|c|d|e"})
    h.chunk_transform_app(ws, "loud", 'shout, suffix="!"', header=SHOUT)
    h.apply_all(ws)
    run_update(ws)
    assert h.calls("shout") == [
        (["a", "b"], ["!", "!"]),
        (["c", "d"], ["!", "!"]),
        (["e"], ["!"]),
    ]
    assert h.store()[("a.md", "e")] == {"loud": "E!"}

    h.mem().reset()
    h.write_files(ws, {"a.md": "a|x|c|y|e"})
    run_update(ws)
    assert h.calls("shout") == [(["x", "y"], ["!", "!"])]  # the others are cached
