"""Built-in transform functions, as CocoIndex v0's ``cocoindex.functions``: construct one with
its spec's arguments, then pass it to ``transform``::

    doc["chunks"] = doc["content"].transform(
        cocoindex.functions.SplitRecursively(), language="markdown", chunk_size=2000
    )

Splitting by syntax (programming languages, markdown) needs the ``cocotui[splitting]`` extra,
``SentenceTransformerEmbed`` the ``cocotui[embeddings]`` extra, ``EmbedText`` and
``ExtractByLlm`` the ``cocotui[llm]`` extra.
"""

from cocotui.functions.chunks import Chunk, ChunkKey, ChunkTable, TextPosition
from cocotui.functions.grammars import GrammarUnavailableError
from cocotui.functions.json_schema import OutputMismatchError, OutputTypeError
from cocotui.functions.llm_client import LlmCallError
from cocotui.functions.llm_functions import (
    EmbedText,
    EmbedTextExecutor,
    ExtractByLlm,
    ExtractByLlmExecutor,
)
from cocotui.functions.parse import (
    DetectProgrammingLanguage,
    DetectProgrammingLanguageExecutor,
    JsonParseError,
    ParseJson,
    ParseJsonExecutor,
)
from cocotui.functions.sbert import SentenceTransformerEmbed, SentenceTransformerEmbedExecutor
from cocotui.functions.split import (
    CustomLanguageSpec,
    SplitBySeparators,
    SplitBySeparatorsExecutor,
    SplitRecursively,
    SplitRecursivelyExecutor,
    SplitSpecError,
)

__all__ = [
    "Chunk",
    "ChunkKey",
    "ChunkTable",
    "CustomLanguageSpec",
    "DetectProgrammingLanguage",
    "DetectProgrammingLanguageExecutor",
    "EmbedText",
    "EmbedTextExecutor",
    "ExtractByLlm",
    "ExtractByLlmExecutor",
    "GrammarUnavailableError",
    "JsonParseError",
    "LlmCallError",
    "OutputMismatchError",
    "OutputTypeError",
    "ParseJson",
    "ParseJsonExecutor",
    "SentenceTransformerEmbed",
    "SentenceTransformerEmbedExecutor",
    "SplitBySeparators",
    "SplitBySeparatorsExecutor",
    "SplitRecursively",
    "SplitRecursivelyExecutor",
    "SplitSpecError",
    "TextPosition",
]
