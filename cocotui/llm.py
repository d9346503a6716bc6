"""LLM specs, as CocoIndex v0's ``cocoindex.llm``: which API and model a function such as
``ExtractByLlm`` or ``EmbedText`` uses. Plain data; the functions that call LLMs read them."""

from __future__ import annotations

import dataclasses
import enum

from cocotui.auth_registry import TransientAuthEntryReference


class LlmApiType(enum.Enum):
    """The API an LLM is reached through (values as v0 stores them)."""

    OPENAI = "OpenAi"
    OLLAMA = "Ollama"
    GEMINI = "Gemini"
    VERTEX_AI = "VertexAi"
    ANTHROPIC = "Anthropic"
    LITE_LLM = "LiteLlm"
    OPEN_ROUTER = "OpenRouter"
    VOYAGE = "Voyage"
    VLLM = "Vllm"
    BEDROCK = "Bedrock"
    AZURE_OPENAI = "AzureOpenAi"
    NOVITA = "Novita"


@dataclasses.dataclass
class VertexAiConfig:
    """Vertex AI settings of an :class:`LlmSpec`."""

    kind = "VertexAi"

    project: str
    region: str | None = None


@dataclasses.dataclass
class OpenAiConfig:
    """OpenAI settings of an :class:`LlmSpec`."""

    kind = "OpenAi"

    org_id: str | None = None
    project_id: str | None = None


@dataclasses.dataclass
class AzureOpenAiConfig:
    """Azure OpenAI settings of an :class:`LlmSpec`."""

    kind = "AzureOpenAi"

    deployment_id: str
    api_version: str | None = None


@dataclasses.dataclass
class LlmSpec:
    """An LLM: its API, model, optional address, key (an auth entry) and API settings."""

    api_type: LlmApiType
    model: str
    address: str | None = None
    api_key: TransientAuthEntryReference[str] | None = None
    api_config: VertexAiConfig | OpenAiConfig | AzureOpenAiConfig | None = None


__all__ = ["AzureOpenAiConfig", "LlmApiType", "LlmSpec", "OpenAiConfig", "VertexAiConfig"]
