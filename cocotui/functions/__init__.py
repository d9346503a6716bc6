"""Built-in transform functions, as CocoIndex v0's ``cocoindex.functions``: construct one with
its spec's arguments, then pass it to ``transform``::

    doc["chunks"] = doc["content"].transform(
        cocoindex.functions.SplitRecursively(), language="markdown", chunk_size=2000
    )

Splitting by syntax (programming languages, markdown) needs the ``cocotui[splitting]`` extra.
"""

from cocotui.functions.chunks import Chunk, ChunkKey, ChunkTable, TextPosition
from cocotui.functions.grammars import GrammarUnavailableError
from cocotui.functions.parse import DetectProgrammingLanguage, JsonParseError, ParseJson
from cocotui.functions.split import (
    CustomLanguageSpec,
    SplitBySeparators,
    SplitRecursively,
    SplitSpecError,
)

__all__ = [
    "Chunk",
    "ChunkKey",
    "ChunkTable",
    "CustomLanguageSpec",
    "DetectProgrammingLanguage",
    "GrammarUnavailableError",
    "JsonParseError",
    "ParseJson",
    "SplitBySeparators",
    "SplitRecursively",
    "SplitSpecError",
    "TextPosition",
]
