"""``ParseJson`` and ``DetectProgrammingLanguage``, as CocoIndex v0's."""

from __future__ import annotations

import json
import re
from typing import Any

from cocotui.functions.languages import detect_language
from cocotui.op_function import FunctionSpec, executor_class
from cocotui.typing import Json

_JSON_WHITESPACE = " \t\n\r"
_SURROGATE = re.compile("[\ud800-\udfff]")
#: v0 keeps integers that fit in 64 bits (signed or not); larger ones become floats.
_INT_RANGE = range(-(2**63), 2**64)


class JsonParseError(ValueError):
    """A text that is not JSON, as v0 judges it."""


def _reject_constant(name: str) -> Any:
    raise JsonParseError(f"invalid JSON: {name} is not a JSON value")


def _integer(digits: str) -> int | float:
    value = int(digits)
    return value if value in _INT_RANGE else float(digits)


def _number(digits: str) -> float:
    value = float(digits)
    if value in (float("inf"), float("-inf")):
        raise JsonParseError(f"invalid JSON: number out of range: {digits}")
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Keys in order, as v0 hands objects back; a repeated key keeps its last value."""
    return dict(sorted(dict(pairs).items()))


def _reject_lone_surrogates(value: Any) -> None:
    if isinstance(value, str):
        if _SURROGATE.search(value):
            raise JsonParseError("invalid JSON: lone surrogate in a \\u escape")
    elif isinstance(value, dict):
        for key, item in value.items():
            _reject_lone_surrogates(key)
            _reject_lone_surrogates(item)
    elif isinstance(value, list):
        for item in value:
            _reject_lone_surrogates(item)


_DECODER = json.JSONDecoder(
    object_pairs_hook=_object,
    parse_int=_integer,
    parse_float=_number,
    parse_constant=_reject_constant,
)


class ParseJson(FunctionSpec):
    """Parse a text into a JSON value, as v0 does: objects with their keys sorted, integers
    beyond 64 bits as floats, no ``NaN``/``Infinity``, and whatever follows the first value
    ignored. ``language`` may name the format; ``"json"`` is the only one v0 knows, and any
    other name parses JSON too."""


@executor_class()
class ParseJsonExecutor:
    spec: ParseJson

    def __call__(self, text: str, language: str | None = None) -> Json:
        if text is None:  # v0 gives null for a null text
            return None
        start = len(text) - len(text.lstrip(_JSON_WHITESPACE))
        try:
            value, _ = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError as exc:
            raise JsonParseError(f"invalid JSON: {exc}") from None
        if "\\u" in text and not _SURROGATE.search(text):
            # A lone surrogate then comes from an escape, which v0 refuses. (Surrogates in the
            # text itself stand for undecodable bytes of the file, which v0 reads as U+FFFD.)
            _reject_lone_surrogates(value)
        return value


class DetectProgrammingLanguage(FunctionSpec):
    """The programming language of a file from its name's extension (``"main.rs"`` gives
    ``"rust"``), with v0's language names; ``None`` when the extension is unknown."""


@executor_class()
class DetectProgrammingLanguageExecutor:
    spec: DetectProgrammingLanguage

    def __call__(self, filename: str) -> str | None:
        if filename is None:  # v0 gives null for a null name
            return None
        return detect_language(filename)
