"""Batching functions called across the rows of an engine batch (issue 12, item 3): a
``batching=True`` function (``@op.function`` or ``@op.executor_class``, as in v0, and the
built-in ``SentenceTransformerEmbed`` and ``EmbedText``) is called once with the inputs of many
source rows, not once per row or per document; cached inputs are still looked up one by one;
results are those of unbatched calls; a failing input fails only its own row."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import update_helpers as h
from conftest import Workspace
from fake_openai import FakeApi
from tiny_sbert import build_tiny_model, record_encode

DOCS = {f"d{n}.md": "|".join(f"t{n}-{c}" for c in range(5)) for n in range(10)}

#: Records each batch it gets; fails a batch holding "boom".
RECORDING = """
@cocoindex.op.function(batching=True, max_batch_size=MAX, cache=CACHE, behavior_version=1)
def loud(texts: list[str]) -> list[str]:
    mem_connector.CALLS.append(("loud", (list(texts),)))
    if "boom" in texts:
        raise ValueError("cannot shout boom")
    return [t.upper()[::-1] for t in texts]

def loud_one(text: str) -> str:
    return text.upper()[::-1]
"""


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


def chunks_app(
    ws: Workspace, function: str = "loud", max_batch_size: int = 20, cache: bool = False
) -> None:
    header = RECORDING.replace("MAX", str(max_batch_size)).replace("CACHE", str(cache))
    h.chunk_transform_app(ws, "loud", function, header=header)


def batches() -> list[list[str]]:
    return [texts for (texts,) in h.calls("loud")]


def run_update(ws: Workspace) -> h.Recorded:
    run = h.update(ws)
    assert run.result.ok, run.named("row.failed")
    return run


def test_the_chunks_of_many_documents_reach_the_function_together(ws: Workspace) -> None:
    h.write_files(ws, DOCS)
    chunks_app(ws, max_batch_size=20)
    h.apply_all(ws)
    run_update(ws)
    # 10 documents of 5 chunks: 3 calls (slices of max_batch_size), not one per document.
    assert [len(batch) for batch in batches()] == [20, 20, 10]
    assert sorted(t for batch in batches() for t in batch) == sorted(
        t for content in DOCS.values() for t in content.split("|")
    )


def test_one_input_per_source_row_is_batched_across_rows(ws: Workspace) -> None:
    h.write_files(ws, {f"f{n}.md": f"text {n}" for n in range(7)})
    header = RECORDING.replace("MAX", "None").replace("CACHE", "False")
    h.content_transform_app(ws, "loud", "loud", header=header)
    h.apply_all(ws)
    run_update(ws)
    assert [sorted(batch) for batch in batches()] == [[f"text {n}" for n in range(7)]]
    assert h.store()["f3.md"] == {"loud": "3 TXET"}


def test_results_are_those_of_unbatched_calls(ws: Workspace) -> None:
    h.write_files(ws, DOCS)
    chunks_app(ws, "loud_one")
    h.apply_all(ws)
    run_update(ws)
    unbatched = h.store()
    assert batches() == []

    chunks_app(ws, "loud", max_batch_size=7)
    run = h.update(ws, reexport=True)
    assert run.result.ok
    assert len(batches()) == 8  # 50 chunks in slices of 7
    assert h.store() == unbatched
    assert unbatched[("d4.md", "t4-2")] == {"loud": "2-4T"}


def test_a_failing_input_fails_only_its_own_row(ws: Workspace) -> None:
    h.write_files(ws, {**DOCS, "d3.md": "t3-0|boom|t3-2"})
    chunks_app(ws, max_batch_size=100)
    h.apply_all(ws)
    run = h.update(ws)
    failed = run.named("row.failed")
    assert [event["row"] for event in failed] == ["d3.md"]
    assert "cannot shout boom" in failed[0]["error"]
    stored = h.store()
    assert {filename for filename, _ in stored} == set(DOCS) - {"d3.md"}
    assert stored[("d9.md", "t9-4")] == {"loud": "4-9T"}
    # The first call had every chunk; the retries narrowed the failure down to d3.md's chunks.
    assert len(batches()[0]) == 48
    assert ["t3-0", "boom", "t3-2"] in batches()


def test_cached_inputs_are_looked_up_one_by_one(ws: Workspace) -> None:
    h.write_files(ws, DOCS)
    chunks_app(ws, cache=True)
    h.apply_all(ws)
    run_update(ws)
    assert sum(len(batch) for batch in batches()) == 50

    h.write_files(ws, {"d1.md": "t1-0|new1|t1-2", "d7.md": "t7-0|t7-1|new7"})
    run_update(ws)
    assert batches() == [["new1", "new7"]]  # in one call; the other chunks come from the cache
    assert h.store()[("d7.md", "new7")] == {"loud": "7WEN"}


EXECUTOR = """
class Shout(cocoindex.op.FunctionSpec):
    suffix: str

@cocoindex.op.executor_class(batching=True, max_batch_size=MAX)
class ShoutExecutor:
    spec: Shout

    def __call__(self, texts: list[str]) -> list[str]:
        mem_connector.CALLS.append(("loud", (list(texts),)))
        return [t.upper() + self.spec.suffix for t in texts]
"""


def test_a_batching_executor_class_gets_the_inputs_of_many_rows(ws: Workspace) -> None:
    h.write_files(ws, DOCS)
    h.chunk_transform_app(ws, "loud", 'Shout(suffix="!")', header=EXECUTOR.replace("MAX", "32"))
    h.apply_all(ws)
    run_update(ws)
    assert [len(batch) for batch in batches()] == [32, 18]
    assert h.store()[("d0.md", "t0-1")] == {"loud": "T0-1!"}


ASYNC = """
@cocoindex.op.function(batching=True)
async def loud(texts: list[str]) -> list[str]:
    mem_connector.CALLS.append(("loud", (list(texts),)))
    return [t.upper() for t in texts]
"""


def test_an_async_batching_function_gets_the_inputs_of_many_rows(ws: Workspace) -> None:
    h.write_files(ws, {f"f{n}.md": f"text {n}" for n in range(5)})
    h.content_transform_app(ws, "loud", "loud", header=ASYNC)
    h.apply_all(ws)
    run_update(ws)
    assert [sorted(batch) for batch in batches()] == [[f"text {n}" for n in range(5)]]
    assert h.store()["f4.md"] == {"loud": "TEXT 4"}


# -- the built-in batching functions ------------------------------------------------------------

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
WORD_DOCS = {
    f"w{n}.md": "|".join(f"{WORDS[n % 8]} {WORDS[c]}" for c in range(3)) for n in range(10)
}


@pytest.fixture
def encoded(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The texts of every call of sentence-transformers' ``encode``, call by call."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return record_encode(monkeypatch)


def test_sentence_transformer_encodes_the_chunks_of_many_documents_at_once(
    ws: Workspace, tmp_path: Path, encoded: list[list[str]]
) -> None:
    import numpy as np
    from sentence_transformers import SentenceTransformer

    model = build_tiny_model(tmp_path / "model")
    embed = f"cocoindex.functions.SentenceTransformerEmbed(model={model!r})"
    h.write_files(ws, WORD_DOCS)
    h.chunk_transform_app(ws, "vector", embed)
    h.apply_all(ws)
    encoded.clear()  # loading the flow encodes nothing, but saving the model did
    run_update(ws)
    assert [len(texts) for texts in encoded] == [30]  # 10 documents, one call
    direct = SentenceTransformer(model, device="cpu")
    stored = h.store()
    for (_, text), value in stored.items():
        np.testing.assert_allclose(value["vector"], direct.encode([text])[0], rtol=1e-6)


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-batching-test")
    with FakeApi() as fake:
        yield fake


def test_embed_text_sends_the_chunks_of_many_documents_per_request(
    ws: Workspace, api: FakeApi
) -> None:
    embed = (
        "cocoindex.functions.EmbedText(api_type=cocoindex.llm.LlmApiType.OPENAI, "
        f"model='emb', address={api.address!r})"
    )
    h.write_files(ws, {f"d{n}.md": "|".join(f"t{n}-{c}" for c in range(5)) for n in range(14)})
    h.chunk_transform_app(ws, "vector", embed)
    h.apply_all(ws)
    run_update(ws)
    # 70 chunks of 14 documents, in requests of at most 64 inputs (v0's max_batch_size).
    assert [len(r.body["input"]) for r in api.of("/embeddings")] == [64, 6]
    assert h.store()[("d12.md", "t12-3")]["vector"].tolist() == [5.0, 1.0]
