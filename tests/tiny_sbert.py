"""A tiny sentence-transformers model the tests build and save themselves (no download), and a
recorder of the texts each ``encode`` call gets: for the tests of ``SentenceTransformerEmbed``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer
from tokenizers import Tokenizer, models, pre_tokenizers

try:
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
except ImportError:  # sentence-transformers before 6
    from sentence_transformers.models import StaticEmbedding

#: The model's vocabulary; any other word is ``[UNK]``.
WORDS = ["[UNK]", "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
DIM = 8


def build_tiny_model(path: Path, seed: int = 0) -> str:
    """A static-embedding sentence-transformers model over a word-level vocabulary, saved as
    a model directory (what ``SentenceTransformer(path)`` loads)."""
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    weights = np.random.default_rng(seed).standard_normal((len(WORDS), DIM)).astype(np.float32)
    module = StaticEmbedding(tokenizer, embedding_weights=weights)
    SentenceTransformer(modules=[module], device="cpu").save(str(path))
    return str(path)


def record_encode(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The texts of every later call of ``SentenceTransformer.encode``, call by call."""
    calls: list[list[str]] = []
    original = SentenceTransformer.encode

    def encode(self: SentenceTransformer, sentences: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(list(sentences))
        return original(self, sentences, *args, **kwargs)

    monkeypatch.setattr(SentenceTransformer, "encode", encode)
    return calls
