"""``SentenceTransformerEmbed``, as CocoIndex v0's: a text embedded by a sentence-transformers
model, loaded once per process (shared by every use of the same model and arguments) and fed
the texts of many rows at once. Needs the ``cocotui[embeddings]`` extra."""

from __future__ import annotations

import json
import threading
from typing import Any, Literal

from cocotui.op_function import ArgRelationship, FunctionSpec, executor_class
from cocotui.typing import Vector

_INSTALL_HINT = (
    "SentenceTransformerEmbed needs sentence-transformers: pip install 'cocotui[embeddings]'"
)


class SentenceTransformerEmbed(FunctionSpec):
    """Embed a text with the sentence-transformers model ``model`` (a name on the model hub or
    a local directory); ``args`` go to ``SentenceTransformer(...)``, e.g.
    ``{"trust_remote_code": True}``."""

    model: str
    args: dict[str, Any] | None = None


_models: dict[str, Any] = {}
_models_lock = threading.Lock()


def shared_model(model: str, args: dict[str, Any] | None) -> Any:
    """The process's one instance of ``model`` built with ``args`` (loaded on first use)."""
    key = json.dumps([model, args or {}], sort_keys=True, default=repr)
    with _models_lock:
        loaded = _models.get(key)
        if loaded is None:
            try:
                # Imported here: sentence-transformers (and torch) take seconds to import.
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise ImportError(_INSTALL_HINT) from exc
            loaded = _models[key] = SentenceTransformer(model, **(args or {}))
        return loaded


@executor_class(
    gpu=True,
    cache=True,
    batching=True,
    max_batch_size=512,
    behavior_version=1,
    arg_relationship=(ArgRelationship.EMBEDDING_ORIGIN_TEXT, "text"),
)
class SentenceTransformerEmbedExecutor:
    spec: SentenceTransformerEmbed

    def analyze(self) -> Any:
        """``Vector[Float32, dim]`` with the model's own dimension (the model is loaded now,
        when the flow is built, as v0 does)."""
        import numpy as np

        model = shared_model(self.spec.model, self.spec.args)
        # Renamed get_embedding_dimension in sentence-transformers 6.
        dimension = getattr(model, "get_embedding_dimension", None)
        dim = (dimension or model.get_sentence_embedding_dimension)()
        return Vector[np.float32, Literal[dim]]  # type: ignore[valid-type]

    def prepare(self) -> None:
        self._model = shared_model(self.spec.model, self.spec.args)

    def __call__(self, text: list[str]) -> list[Any]:
        # Shortest first: texts of similar lengths share a padded batch inside the model.
        order = sorted(range(len(text)), key=lambda i: len(text[i]))
        vectors = self._model.encode([text[i] for i in order], convert_to_numpy=True)
        results: list[Any] = [None] * len(text)
        for position, index in enumerate(order):
            results[index] = vectors[position]
        return results
