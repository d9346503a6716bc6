"""Index options an export declares, shaped as CocoIndex v0's ``cocoindex.index``: the primary
key fields, vector indexes and full-text-search indexes a connector receives in
``get_setup_state(..., index_options)``."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from typing import Any


class VectorSimilarityMetric(enum.Enum):
    COSINE_SIMILARITY = "CosineSimilarity"
    L2_DISTANCE = "L2Distance"
    INNER_PRODUCT = "InnerProduct"


@dataclasses.dataclass
class HnswVectorIndexMethod:
    """HNSW parameters; ``None`` leaves the target's default."""

    kind: str = "Hnsw"
    m: int | None = None
    ef_construction: int | None = None


@dataclasses.dataclass
class IvfFlatVectorIndexMethod:
    """IVFFlat parameters; ``None`` leaves the target's default."""

    kind: str = "IvfFlat"
    lists: int | None = None


VectorIndexMethod = HnswVectorIndexMethod | IvfFlatVectorIndexMethod


@dataclasses.dataclass
class VectorIndexDef:
    """A vector index on a collected field."""

    field_name: str
    metric: VectorSimilarityMetric
    method: VectorIndexMethod | None = None


@dataclasses.dataclass
class FtsIndexDef:
    """A full-text-search index on a collected field; ``parameters`` go to the target's index
    creation as it defines them (e.g. ``tokenizer_name`` for LanceDB)."""

    field_name: str
    parameters: dict[str, Any] | None = None


@dataclasses.dataclass
class IndexOptions:
    """What ``export(..., primary_key_fields=..., vector_indexes=..., fts_indexes=...)``
    declared."""

    primary_key_fields: Sequence[str]
    vector_indexes: Sequence[VectorIndexDef] = ()
    fts_indexes: Sequence[FtsIndexDef] = ()


__all__ = [
    "FtsIndexDef",
    "HnswVectorIndexMethod",
    "IndexOptions",
    "IvfFlatVectorIndexMethod",
    "VectorIndexDef",
    "VectorIndexMethod",
    "VectorSimilarityMetric",
]
