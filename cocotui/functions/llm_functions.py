"""``EmbedText`` and ``ExtractByLlm``, as CocoIndex v0's, for OpenAI-compatible APIs (see
:mod:`cocotui.functions.llm_client`). Both are cached across runs (``cache=True``), so an
unchanged text is never sent twice; the spec (model, address, dimension, output type,
instruction) is part of the cache's key."""

from __future__ import annotations

import base64
import json
from typing import Any, Literal

from cocotui.auth_registry import TransientAuthEntryReference
from cocotui.functions.json_schema import decode_output, output_schema
from cocotui.functions.llm_client import (
    api_key_of,
    check_supported,
    describe_failure,
    make_client,
)
from cocotui.llm import LlmApiType, LlmSpec, VertexAiConfig
from cocotui.op_function import ArgRelationship, FunctionSpec, executor_class
from cocotui.typing import Float32, Vector

#: The dimensions of OpenAI's embedding models, for a spec that gives none (as v0 knows them).
_KNOWN_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}

_SYSTEM_PROMPT = (
    "You extract or generate structured information from the user's input. Follow the "
    "instructions, base the answer only on the input, and answer with JSON matching the given "
    "schema, nothing else."
)


class EmbedText(FunctionSpec):
    """Embed a text with an embedding model behind an API."""

    api_type: LlmApiType
    model: str
    address: str | None = None
    output_dimension: int | None = None
    expected_output_dimension: int | None = None
    task_type: str | None = None
    api_config: VertexAiConfig | None = None
    api_key: TransientAuthEntryReference[str] | None = None


@executor_class(
    cache=True,
    batching=True,
    max_batch_size=64,  # v0's: what most embedding APIs accept in one request
    behavior_version=1,
    arg_relationship=(ArgRelationship.EMBEDDING_ORIGIN_TEXT, "text"),
)
class EmbedTextExecutor:
    spec: EmbedText

    def analyze(self) -> Any:
        """``Vector[Float32, dim]``: the dimension asked for, or the model's when known."""
        spec = self.spec
        check_supported(spec.api_type, "EmbedText")
        if spec.api_key is not None:  # a missing auth entry fails the flow's load, as in v0
            api_key_of(spec.api_type, spec.api_key, "EmbedText")
        dim = spec.output_dimension or spec.expected_output_dimension
        dim = dim or _KNOWN_DIMENSIONS.get(spec.model)
        if dim is None:
            return Vector[Float32]  # type: ignore[misc]
        return Vector[Float32, Literal[dim]]  # type: ignore[valid-type]

    def prepare(self) -> None:
        self._client = make_client(
            self.spec.api_type, self.spec.address, self.spec.api_key, "EmbedText"
        )

    def __call__(self, text: list[str]) -> list[list[float]]:
        options: dict[str, Any] = {"encoding_format": "float"}  # the client asks base64
        if self.spec.output_dimension is not None:
            options["dimensions"] = self.spec.output_dimension
        try:
            response = self._client.embeddings.create(model=self.spec.model, input=text, **options)
        except Exception as exc:
            raise describe_failure(exc, self._client, self.spec.api_type, self.spec.model) from None
        by_index = sorted(response.data, key=lambda item: item.index)
        return [list(item.embedding) for item in by_index]


#: Leading bytes of the image formats an image argument may be in, and their MIME types.
_IMAGE_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (8, b"WEBP", "image/webp"),  # after "RIFF" and the size
    (0, b"BM", "image/bmp"),
    (0, b"II*\x00", "image/tiff"),
    (0, b"MM\x00*", "image/tiff"),
    (4, b"ftypavif", "image/avif"),
    (4, b"ftypheic", "image/heif"),
)


def image_content_part(image: bytes) -> dict[str, Any]:
    """The image as a chat message part: a ``data:`` URL of its MIME type (told by its first
    bytes, as v0 does) and base64 content."""
    mime = next(
        (
            mime
            for offset, signature, mime in _IMAGE_SIGNATURES
            if image[offset : offset + len(signature)] == signature
        ),
        None,
    )
    if mime is None:
        raise ValueError(
            "ExtractByLlm: image is not in a known image format (PNG, JPEG, GIF, WebP, BMP, "
            "TIFF, AVIF, HEIF)"
        )
    url = f"data:{mime};base64,{base64.b64encode(image).decode('ascii')}"
    return {"type": "image_url", "image_url": {"url": url, "detail": "auto"}}


class ExtractByLlm(FunctionSpec):
    """Extract a value of ``output_type`` (a dataclass, a list, a basic type, nested) from a
    text, an image (``image=``, the image file's bytes) or both, with an LLM, through
    structured output (a JSON schema of ``output_type``)."""

    llm_spec: LlmSpec
    output_type: type
    instruction: str | None = None


@executor_class(cache=True, behavior_version=1)
class ExtractByLlmExecutor:
    spec: ExtractByLlm

    def analyze(self) -> Any:
        """The output's type is ``output_type``; an API or a type cocotui cannot use fails
        the flow's load."""
        llm = self.spec.llm_spec
        check_supported(llm.api_type, "ExtractByLlm")
        if llm.api_key is not None:  # a missing auth entry fails the flow's load, as in v0
            api_key_of(llm.api_type, llm.api_key, "ExtractByLlm")
        output_schema(self.spec.output_type)
        return self.spec.output_type

    def cache_identity(self) -> str:
        """The output type's schema: changing a field of the class changes the answers."""
        return json.dumps(output_schema(self.spec.output_type), sort_keys=True)

    def prepare(self) -> None:
        llm = self.spec.llm_spec
        self._client = make_client(llm.api_type, llm.address, llm.api_key, "ExtractByLlm")
        schema = output_schema(self.spec.output_type)
        self._format = {"name": "ExtractedData", "schema": schema, "strict": True}
        instruction = self.spec.instruction
        self._system = _SYSTEM_PROMPT + (f"\n\n{instruction}" if instruction else "")

    def __call__(self, text: str | None = None, image: bytes | None = None) -> Any:
        if text is None and image is None:
            return None  # as v0: nothing to extract from
        llm = self.spec.llm_spec
        user: str | list[dict[str, Any]] = text or ""
        if image is not None:
            user = [{"type": "text", "text": text or ""}, image_content_part(image)]
        try:
            response = self._client.chat.completions.create(
                model=llm.model,
                messages=[
                    {"role": "system", "content": self._system},
                    {"role": "user", "content": user},
                ],
                response_format={"type": "json_schema", "json_schema": self._format},
            )
        except Exception as exc:
            raise describe_failure(exc, self._client, llm.api_type, llm.model) from None
        content = response.choices[0].message.content if response.choices else None
        if not content:
            raise ValueError(f"ExtractByLlm: model {llm.model!r} gave no answer")
        try:
            answer = json.loads(content)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"ExtractByLlm: model {llm.model!r} did not answer JSON: {exc}"
            ) from None
        return decode_output(self.spec.output_type, answer)
