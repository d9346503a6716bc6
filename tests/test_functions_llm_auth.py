"""``api_key=`` of ``LlmSpec`` and ``EmbedText`` (issue 12, item 4), as in v0.3.39: a reference to
an auth entry (``cocoindex.add_transient_auth_entry(key)``) whose value is sent as the key,
before the environment variable; the key is never in a spec's text, the state, ``--json``
output or an error, even one whose server echoed it. Against the fake OpenAI-compatible server
of ``fake_openai``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import update_helpers as h
from conftest import Workspace
from fake_openai import CANNED, FakeApi, chat_answer
from test_functions_llm import Invoice

import cocotui as cocoindex
from cocotui.auth_registry import AuthEntryError
from cocotui.functions import EmbedText, ExtractByLlm, LlmCallError
from cocotui.llm import LlmApiType, LlmSpec
from cocotui.op_function import function_identity, resolve_transform

SECRET = "sk-auth-entry-7f3a9c-secret"
ENV_KEY = "sk-from-the-environment"


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("LITELLM_API_KEY", raising=False)
    with FakeApi() as fake:
        yield fake


def extractor(api: FakeApi, api_key: Any, api_type: LlmApiType = LlmApiType.OPENAI) -> Any:
    spec = LlmSpec(api_type=api_type, model="gpt-test", address=api.address, api_key=api_key)
    return resolve_transform(ExtractByLlm(llm_spec=spec, output_type=Invoice))


def embedder(api: FakeApi, api_key: Any) -> Any:
    spec = EmbedText(api_type=LlmApiType.OPENAI, model="emb", address=api.address, api_key=api_key)
    return resolve_transform(spec)


def test_the_auth_entry_is_the_key_sent(api: FakeApi) -> None:
    key = cocoindex.add_transient_auth_entry(SECRET)
    extract, embed = extractor(api, key), embedder(api, key)
    assert extract("text").customer == CANNED["customer"]
    assert embed(["one"]) == [[3.0, 1.0]]
    assert [r.authorization for r in api.requests] == [f"Bearer {SECRET}"] * 2
    for function in (extract, embed):  # what state and cache keys are made of
        assert SECRET not in repr(function.spec)
        assert SECRET not in function_identity(function)


def test_the_auth_entry_comes_before_the_environment(
    api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    monkeypatch.setenv("LITELLM_API_KEY", ENV_KEY)
    extractor(api, cocoindex.add_auth_entry("llm_key", SECRET))("text")
    extractor(api, cocoindex.add_auth_entry("llm_key", SECRET), LlmApiType.LITE_LLM)("text")
    extractor(api, None)("text")  # no api_key: the environment variable, as before
    assert [r.authorization for r in api.requests] == [
        f"Bearer {SECRET}",
        f"Bearer {SECRET}",
        f"Bearer {ENV_KEY}",
    ]


def test_an_unregistered_entry_fails_the_flow_load_naming_it(api: FakeApi) -> None:
    missing = cocoindex.ref_auth_entry("nobody_registered_this")
    with pytest.raises(AuthEntryError, match="nobody_registered_this"):
        extractor(api, missing)
    with pytest.raises(AuthEntryError, match="nobody_registered_this"):
        embedder(api, missing)
    assert api.requests == []


def test_an_echoed_key_is_masked_in_the_error(api: FakeApi) -> None:
    def echo_key(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        header = api.requests[-1].authorization
        return 401, {"error": {"message": f"invalid key in {header}", "type": "auth"}}

    api.answers = [echo_key]
    with pytest.raises(LlmCallError, match="HTTP 401") as info:
        extractor(api, cocoindex.add_transient_auth_entry(SECRET))("text")
    assert SECRET not in str(info.value)
    assert "Bearer <api key>" in str(info.value)


APP = """
import os

KEY = cocoindex.add_transient_auth_entry(os.environ["TEST_LLM_SECRET"])

@dataclasses.dataclass
class Topic:
    title: str

@cocoindex.flow_def(name="Docs")
def docs_flow(flow_builder, data_scope):
    data_scope["documents"] = flow_builder.add_source(cocoindex.sources.LocalFile(path=SOURCE))
    out = data_scope.add_collector()
    with data_scope["documents"].row() as doc:
        doc["topic"] = doc["content"].transform(
            cocoindex.functions.ExtractByLlm(
                llm_spec=cocoindex.llm.LlmSpec(
                    api_type=cocoindex.llm.LlmApiType.OPENAI, model="m", address=ADDRESS,
                    api_key=KEY,
                ),
                output_type=Topic,
            )
        )
        doc["vector"] = doc["content"].transform(
            cocoindex.functions.EmbedText(
                api_type=cocoindex.llm.LlmApiType.OPENAI, model="e", address=ADDRESS, api_key=KEY
            )
        )
        out.collect(filename=doc["filename"], title=doc["topic"]["title"], vector=doc["vector"])
    out.export("t", MemTarget(resource="a"), primary_key_fields=["filename"])
"""


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


def answer_or_fail(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Titles from the fake; the text ``fail`` gets a 400 whose message echoes the key (as a
    careless proxy might)."""
    if path == "/embeddings":
        return FakeApi.echo(path, body)
    if body["messages"][1]["content"] == "fail":
        return 400, {"error": {"message": f"rejected key {SECRET}", "type": "x"}}
    return 200, chat_answer(body["model"], {"title": "T"})


def files_under(root: Path) -> Iterator[tuple[Path, bytes]]:
    for path in root.rglob("*"):
        if path.is_file():
            yield path, path.read_bytes()


def test_a_flow_using_the_key_leaves_it_nowhere(ws: Workspace, api: FakeApi) -> None:
    api.answers = [answer_or_fail]
    h.write_files(ws, {"a.md": "first", "b.md": "fail"})
    h.write_app(ws, APP.replace("ADDRESS", repr(api.address)))
    env = {"TEST_LLM_SECRET": SECRET}
    assert ws.cli("apply", ws.app, "--yes", **env).returncode == 0
    result = ws.cli("update", ws.app, "--json", **env)
    assert result.returncode != 0  # b.md failed
    assert {r.authorization for r in api.requests} == {f"Bearer {SECRET}"}
    events = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    failed = [e for e in events if e.get("event") == "row.failed"]
    assert [e["row"] for e in failed] == ["b.md"], result.stdout
    assert "HTTP 400" in failed[0]["error"]
    assert SECRET not in result.stdout and SECRET not in result.stderr
    for path, data in files_under(ws.state_dir):
        assert SECRET.encode() not in data, path
