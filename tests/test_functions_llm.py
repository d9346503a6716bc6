"""``cocotui.functions.EmbedText`` and ``ExtractByLlm`` (issue 12, items 4 and 5) against the
fake OpenAI-compatible server of ``fake_openai`` (chat completions with a JSON-schema response
format, embeddings): structured output parsed into the ``output_type``, keys from the
environment and never shown, retries on 429/5xx, clear errors otherwise, batching and caching
across runs."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
import update_helpers as h
from conftest import Workspace
from fake_openai import FakeApi, chat_answer, status

from cocotui.engine_type import BasicValueType
from cocotui.functions import EmbedText, ExtractByLlm, LlmCallError, OutputMismatchError
from cocotui.llm import LlmApiType, LlmSpec
from cocotui.op_function import function_identity, resolve_transform
from cocotui.value_types import enriched_type_of, function_return_annotation

SECRET = "sk-test-0123456789-secret"


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with FakeApi() as fake:
        yield fake


@dataclasses.dataclass
class LineItem:
    """One line of an invoice."""

    name: str
    quantity: int
    price: float


@dataclasses.dataclass
class Invoice:
    customer: str
    items: list[LineItem]
    note: str | None


def extractor(api: FakeApi, output_type: Any = Invoice, instruction: str | None = None) -> Any:
    spec = LlmSpec(api_type=LlmApiType.OPENAI, model="gpt-test", address=api.address)
    return resolve_transform(
        ExtractByLlm(llm_spec=spec, output_type=output_type, instruction=instruction)
    )


def test_extract_by_llm_parses_the_answer_into_the_output_type(api: FakeApi) -> None:
    extract = extractor(api, instruction="Extract the invoice.")
    assert function_return_annotation(extract) is Invoice
    invoice = extract("ACME bought 3 bolts at 2 each")
    assert invoice == Invoice("ACME", [LineItem("bolt", 3, 2.0)], None)

    (request,) = api.of("/chat/completions")
    assert request.authorization == f"Bearer {SECRET}"
    assert request.body["model"] == "gpt-test"
    system, user = request.body["messages"]
    assert "Extract the invoice." in system["content"]
    assert user == {"role": "user", "content": "ACME bought 3 bolts at 2 each"}
    response_format = request.body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    schema = response_format["json_schema"]["schema"]
    assert schema["required"] == ["customer", "items", "note"]
    assert schema["additionalProperties"] is False
    item = schema["properties"]["items"]["items"]
    assert item["properties"]["quantity"] == {"type": "integer"}
    assert item["description"] == "One line of an invoice."
    assert schema["properties"]["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}


def test_an_output_type_that_is_not_an_object_is_wrapped(api: FakeApi) -> None:
    api.answers = [lambda path, body: (200, chat_answer(body["model"], {"value": ["a", "b"]}))]
    assert extractor(api, list[str])("two words") == ["a", "b"]
    schema = api.requests[0].body["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["value"] == {"type": "array", "items": {"type": "string"}}


def test_an_answer_that_does_not_match_the_type_is_a_clear_error(api: FakeApi) -> None:
    wrong = {"customer": "ACME", "items": [{"name": "bolt", "quantity": "three", "price": 1}]}
    api.answers = [lambda path, body: (200, chat_answer(body["model"], wrong))]
    with pytest.raises(OutputMismatchError, match=r"\.items\[0\]\.quantity"):
        extractor(api)("text")


def test_rate_limits_and_server_errors_are_retried(api: FakeApi) -> None:
    api.answers = [status(429), status(503), status(500), FakeApi.echo]
    assert extractor(api)("text").customer == "ACME"
    assert len(api.requests) == 4


def test_other_failures_are_row_errors_naming_api_model_and_status(api: FakeApi) -> None:
    api.answers = [status(400)]
    with pytest.raises(LlmCallError, match=r"OPENAI model 'gpt-test': HTTP 400") as info:
        extractor(api)("text")
    assert len(api.requests) == 1  # not retried
    assert SECRET not in str(info.value)


def test_the_key_comes_from_the_environment_only(
    api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    extract = extractor(api)
    assert SECRET not in repr(extract.spec) and SECRET not in function_identity(extract)
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(LlmCallError, match="OPENAI_API_KEY environment variable must be set"):
        extractor(api)("text")
    assert api.requests == []


@pytest.mark.parametrize(
    "api_type", [LlmApiType.GEMINI, LlmApiType.ANTHROPIC, LlmApiType.VERTEX_AI]
)
def test_other_api_types_are_not_supported_yet(api_type: LlmApiType) -> None:
    with pytest.raises(NotImplementedError, match=f"LlmApiType.{api_type.name} is not supported"):
        resolve_transform(ExtractByLlm(llm_spec=LlmSpec(api_type, "m"), output_type=Invoice))
    with pytest.raises(NotImplementedError, match=f"LlmApiType.{api_type.name} is not supported"):
        resolve_transform(EmbedText(api_type=api_type, model="m"))


def test_embed_text_sends_many_texts_in_one_request_typed_by_dimension(api: FakeApi) -> None:
    embed = resolve_transform(
        EmbedText(api_type=LlmApiType.OPENAI, model="emb", address=api.address, output_dimension=2)
    )
    field = enriched_type_of(function_return_annotation(embed))
    assert isinstance(field.type, BasicValueType) and field.type.vector is not None
    assert (field.type.vector.element_type.kind, field.type.vector.dimension) == ("Float32", 2)
    assert embed(["one", "two words"]) == [[3.0, 1.0], [9.0, 2.0]]
    (request,) = api.requests
    assert request.body["input"] == ["one", "two words"]
    assert request.body["dimensions"] == 2


# -- in a flow: batching and caching across runs --------------------------------------------------

FLOW = """
SPEC = cocoindex.llm.LlmSpec(
    api_type=cocoindex.llm.LlmApiType.OPENAI, model=MODEL, address=ADDRESS
)

@dataclasses.dataclass
class Topic:
    title: str

@cocoindex.flow_def(name="Docs")
def docs_flow(flow_builder, data_scope):
    data_scope["documents"] = flow_builder.add_source(cocoindex.sources.LocalFile(path=SOURCE))
    out = data_scope.add_collector()
    with data_scope["documents"].row() as doc:
        doc["topic"] = doc["content"].transform(
            cocoindex.functions.ExtractByLlm(llm_spec=SPEC, output_type=Topic, instruction=INSTR)
        )
        doc["chunks"] = doc["content"].transform(
            cocoindex.functions.SplitBySeparators(separators_regex=[r"[|]"])
        )
        with doc["chunks"].row() as chunk:
            chunk["vector"] = chunk["text"].transform(
                cocoindex.functions.EmbedText(
                    api_type=cocoindex.llm.LlmApiType.OPENAI, model=MODEL, address=ADDRESS
                )
            )
            out.collect(filename=doc["filename"], text=chunk["text"], vector=chunk["vector"],
                        title=doc["topic"]["title"])
    out.export("t", MemTarget(resource="a"), primary_key_fields=["filename", "text"])
"""


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


def llm_app(ws: Workspace, api: FakeApi, model: str = "m1", instruction: str = "Title.") -> None:
    body = FLOW.replace("MODEL", repr(model)).replace("ADDRESS", repr(api.address))
    h.write_app(ws, body.replace("INSTR", repr(instruction)))


def sent_texts(api: FakeApi) -> tuple[list[list[str]], list[str]]:
    """The embedding requests' inputs, and the texts sent for extraction."""
    embedded = [r.body["input"] for r in api.of("/embeddings")]
    extracted = [r.body["messages"][1]["content"] for r in api.of("/chat/completions")]
    return embedded, sorted(extracted)


def run_update(ws: Workspace) -> None:
    run = h.update(ws)
    assert run.result.ok, run.named("row.failed")


def test_llm_calls_are_cached_across_runs_and_invalidated_by_the_spec(
    ws: Workspace, api: FakeApi
) -> None:
    api.answers = [
        lambda path, body: (
            FakeApi.echo(path, body)
            if path == "/embeddings"
            else (200, chat_answer(body["model"], {"title": "T"}))
        )
    ]
    h.write_files(ws, {"a.md": "x|yy|zzz", "b.md": "w"})
    llm_app(ws, api)
    h.apply_all(ws)
    run_update(ws)
    embedded, extracted = sent_texts(api)
    assert sorted(map(sorted, embedded)) == [["w", "x", "yy", "zzz"]]  # one request for both
    assert extracted == ["w", "x|yy|zzz"]
    stored = h.store()[("a.md", "yy")]
    # A vector reaches an unannotated mutate as a NumPy array, as in v0.
    assert (stored["vector"].tolist(), stored["title"]) == ([2.0, 1.0], "T")

    api.requests.clear()
    h.write_files(ws, {"a.md": "x|yy|zzz|q"})
    run_update(ws)
    assert sent_texts(api) == ([["q"]], ["x|yy|zzz|q"])  # only what is new is sent

    api.requests.clear()
    llm_app(ws, api, instruction="Another title.")  # the instruction is part of the cache key
    run_update(ws)
    assert sent_texts(api) == ([], ["w", "x|yy|zzz|q"])

    api.requests.clear()
    llm_app(ws, api, model="m2", instruction="Another title.")  # so is the model
    run_update(ws)
    embedded, extracted = sent_texts(api)
    assert sorted(t for batch in embedded for t in batch) == ["q", "w", "x", "yy", "zzz"]
    assert extracted == ["w", "x|yy|zzz|q"]
