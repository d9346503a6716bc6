"""Clients of OpenAI-compatible APIs (OpenAI, Ollama, LiteLLM, vLLM, OpenRouter) for the LLM
functions, through the official ``openai`` package (the ``cocotui[llm]`` extra).

A key is the auth entry a spec's ``api_key`` refers to (``cocoindex.add_transient_auth_entry``,
see :mod:`cocotui.auth_registry`: the spec holds only the reference), else the environment
variable v0 reads (``OPENAI_API_KEY``, ``LITELLM_API_KEY``...); it is read when the client is
made and handed to it only: never stored in a spec, a cache or a message.

Rate limits (429) and server errors (5xx) are retried with exponential backoff by the client
(honouring ``Retry-After``); any other failure is an :class:`LlmCallError` naming the API, the
model and the HTTP status.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from cocotui.auth_registry import TransientAuthEntryReference, get_auth_entry
from cocotui.llm import LlmApiType

#: Retries after a 429, a 5xx or a lost connection (with the client's exponential backoff).
MAX_RETRIES = 6


@dataclasses.dataclass(frozen=True)
class _Api:
    default_address: str | None
    key_variable: str | None
    #: Whether the key must be set (OpenAI's own API), else it is sent only when set.
    key_required: bool = False


_APIS: dict[LlmApiType, _Api] = {
    LlmApiType.OPENAI: _Api(None, "OPENAI_API_KEY", key_required=True),
    # Ollama takes no key (v0 ignores a spec's api_key for it).
    LlmApiType.OLLAMA: _Api("http://localhost:11434/v1", None),
    LlmApiType.LITE_LLM: _Api("http://127.0.0.1:4000", "LITELLM_API_KEY"),
    LlmApiType.VLLM: _Api("http://127.0.0.1:8000/v1", "VLLM_API_KEY"),
    LlmApiType.OPEN_ROUTER: _Api("https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
}

#: Sent as the key to servers that need none (the client insists on one).
_NO_KEY = "unused"


class LlmCallError(RuntimeError):
    """A call to an LLM API failed (after retries, for transient failures)."""


def check_supported(api_type: LlmApiType, what: str) -> None:
    """Fail the flow's load for an API cocotui cannot call yet."""
    if api_type not in _APIS:
        supported = ", ".join(f"LlmApiType.{t.name}" for t in _APIS)
        raise NotImplementedError(
            f"{what}: api_type=LlmApiType.{api_type.name} is not supported yet (supported: "
            f"{supported}, all through their OpenAI-compatible API)"
        )


def _base_url(api_type: LlmApiType, address: str | None) -> str | None:
    if address is None:
        return _APIS[api_type].default_address
    if api_type is LlmApiType.OLLAMA and not address.rstrip("/").endswith("/v1"):
        return address.rstrip("/") + "/v1"  # v0 takes Ollama's own address
    return address


def api_key_of(
    api_type: LlmApiType, api_key: TransientAuthEntryReference[str] | None, what: str
) -> str | None:
    """The key to send: the auth entry ``api_key`` refers to, else the API's environment
    variable (``None`` for an API that takes no key, or an optional key that is not set)."""
    check_supported(api_type, what)
    api = _APIS[api_type]
    if api.key_variable is None:
        return None
    if api_key is not None:
        entry = get_auth_entry(str, api_key)
        if not isinstance(entry, str) or not entry:
            raise LlmCallError(
                f"{what}: the auth entry {api_key.key!r} given as api_key must be a non-empty "
                f"string"
            )
        return entry
    key = os.environ.get(api.key_variable)
    if api.key_required and not key:
        raise LlmCallError(
            f"{what}: the {api.key_variable} environment variable must be set (or the spec's "
            f"api_key given)"
        )
    return key


def make_client(
    api_type: LlmApiType,
    address: str | None,
    api_key: TransientAuthEntryReference[str] | None,
    what: str,
) -> Any:
    """An ``openai.OpenAI`` client for the API, with its key (see :func:`api_key_of`)."""
    key = api_key_of(api_type, api_key, what)
    try:
        import openai
    except ImportError as exc:
        raise ImportError(f"{what} needs the openai package: pip install 'cocotui[llm]'") from exc
    return openai.OpenAI(
        api_key=key or _NO_KEY,
        base_url=_base_url(api_type, address),
        max_retries=MAX_RETRIES,
    )


def describe_failure(exc: Exception, client: Any, api_type: LlmApiType, model: str) -> LlmCallError:
    """An API error of ``client``'s as a row error naming the API, the model and the status;
    the key is masked should the server (or a proxy) have echoed it."""
    import openai

    where = f"LlmApiType.{api_type.name} model {model!r}"
    if isinstance(exc, openai.APIStatusError):
        message = f"{where}: HTTP {exc.status_code}: {exc.message}"
    elif isinstance(exc, openai.APIConnectionError):
        message = f"{where}: cannot reach the API ({exc})"
    else:
        message = f"{where}: {type(exc).__name__}: {exc}"
    key = getattr(client, "api_key", None)
    if key and key != _NO_KEY:
        message = message.replace(key, "<api key>")
    return LlmCallError(message)
