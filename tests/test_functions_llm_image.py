"""``ExtractByLlm`` with an image (issue 12, item 4), as v0.3.39's ``image=`` argument: the image's
bytes go as an image content part (a ``data:`` URL of the MIME type its first bytes tell) after
the text part; an image alone, a text alone or both; neither gives ``None``; bytes in no known
image format are a clear row error. Against the fake server of ``fake_openai``."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
import update_helpers as h
from conftest import Workspace
from fake_openai import FakeApi, chat_answer

from cocotui.functions import ExtractByLlm
from cocotui.llm import LlmApiType, LlmSpec
from cocotui.op_function import resolve_transform

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(32))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(16)
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(16)


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-image-test")
    with FakeApi() as fake:
        fake.answers = [lambda path, body: (200, chat_answer(body["model"], {"value": "a cat"}))]
        yield fake


def describer(api: FakeApi) -> Any:
    spec = LlmSpec(api_type=LlmApiType.OPENAI, model="vision", address=api.address)
    return resolve_transform(
        ExtractByLlm(llm_spec=spec, output_type=str, instruction="Describe the image.")
    )


def user_content(api: FakeApi) -> Any:
    (request,) = api.of("/chat/completions")
    system, user = request.body["messages"]
    assert "Describe the image." in system["content"]
    assert user["role"] == "user"
    return user["content"]


def image_part(mime: str, data: bytes) -> dict[str, Any]:
    url = f"data:{mime};base64,{base64.b64encode(data).decode()}"
    return {"type": "image_url", "image_url": {"url": url, "detail": "auto"}}


def test_an_image_is_sent_as_an_image_part_after_the_text(api: FakeApi) -> None:
    assert describer(api)("a photo from the zoo", image=PNG) == "a cat"
    assert user_content(api) == [
        {"type": "text", "text": "a photo from the zoo"},
        image_part("image/png", PNG),
    ]


@pytest.mark.parametrize(
    ("data", "mime"), [(PNG, "image/png"), (JPEG, "image/jpeg"), (WEBP, "image/webp")]
)
def test_an_image_alone_is_sent_with_an_empty_text(api: FakeApi, data: bytes, mime: str) -> None:
    assert describer(api)(image=data) == "a cat"
    assert user_content(api) == [{"type": "text", "text": ""}, image_part(mime, data)]


def test_neither_text_nor_image_gives_none_without_a_request(api: FakeApi) -> None:
    assert describer(api)(None, image=None) is None
    assert api.requests == []


def test_bytes_in_no_image_format_are_a_clear_error(api: FakeApi) -> None:
    with pytest.raises(ValueError, match="not in a known image format"):
        describer(api)("text", image=b"%PDF-1.7 not an image")
    assert api.requests == []


FLOW = """
@cocoindex.flow_def(name="Images")
def images_flow(flow_builder, data_scope):
    data_scope["images"] = flow_builder.add_source(
        cocoindex.sources.LocalFile(path=SOURCE, binary=True)
    )
    out = data_scope.add_collector()
    with data_scope["images"].row() as img:
        img["caption"] = flow_builder.transform(
            cocoindex.functions.ExtractByLlm(
                llm_spec=cocoindex.llm.LlmSpec(
                    api_type=cocoindex.llm.LlmApiType.OPENAI, model="vision", address=ADDRESS
                ),
                instruction="Describe the image.",
                output_type=str,
            ),
            image=img["content"],
        )
        out.collect(filename=img["filename"], caption=img["caption"])
    out.export("t", MemTarget(resource="a"), primary_key_fields=["filename"])
"""


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


def test_v0s_image_search_captioning_runs_in_a_flow(ws: Workspace, api: FakeApi) -> None:
    # v0.3.39's image_search example captions each image with flow_builder.transform(image=).
    h.write_files(ws, {"cat.png": PNG, "notes.txt": b"plain text"})
    h.write_app(ws, FLOW.replace("ADDRESS", repr(api.address)))
    h.apply_all(ws)
    run = h.update(ws)
    assert h.store() == {"cat.png": {"caption": "a cat"}}
    (failed,) = run.named("row.failed")
    assert failed["row"] == "notes.txt"
    assert "not in a known image format" in failed["error"]
    (request,) = api.of("/chat/completions")
    assert request.body["messages"][1]["content"][1] == image_part("image/png", PNG)
