"""CocoIndex v0's ``cocoindex.targets.chromadb.ChromaDB``: one ChromaDB record per row.

Laid out as v0.3.39 lays it out (``python/cocoindex/targets/chromadb.py``): the single key
field is the record id (a ``str`` as it is, a number as its text, anything else as sorted JSON),
the one vector field is the embedding, ``document_field`` (a ``str`` field) the document, and
every other field goes to the metadata (``str``/``int``/``float``/``bool`` as they are, anything
else as JSON; nulls left out). The collection's ``hnsw:space`` is the metric of the export's
``VectorIndexDef`` (cosine by default), with ``hnsw_config``'s parameters.

A change of the key field or of the metric is ``NOT_COMPATIBLE``: the collection is deleted and
created again, every row exported again. Departures from v0, both to lose nothing: a change of
the value fields is ``PARTIALLY_COMPATIBLE`` (every row is sent again, so that the metadata has
the new fields; v0 leaves the old records as they are), and the API key of a ``CLOUD`` client is
never stored in the setup state (v0 stores it): a dropped target whose spec is gone takes it
from ``CHROMA_API_KEY``.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import os
from collections.abc import Mapping
from typing import Any, TypedDict

import cocotui
from cocotui.engine_type import BasicValueType, FieldSchema
from cocotui.index import IndexOptions, VectorSimilarityMetric

API_KEY_ENV = "CHROMA_API_KEY"
DEFAULT_PATH = "./chromadb_data"
_DISTANCE = {
    VectorSimilarityMetric.COSINE_SIMILARITY: "cosine",
    VectorSimilarityMetric.L2_DISTANCE: "l2",
    VectorSimilarityMetric.INNER_PRODUCT: "ip",
}


class ChromaDBTargetError(ValueError):
    """A spec, schema or row the ChromaDB target cannot use."""


class ClientType(enum.Enum):
    PERSISTENT = "persistent"
    HTTP = "http"
    CLOUD = "cloud"


@dataclasses.dataclass
class HnswConfig:
    """HNSW parameters of the collection; ``None`` keeps ChromaDB's default."""

    m: int | None = None
    ef_construction: int | None = None
    ef_search: int | None = None


class ChromaDB(cocotui.op.TargetSpec):
    """A ChromaDB collection: local (``path``), on a server (``host``, ``port``) or in the
    cloud (``api_key``)."""

    collection_name: str
    client_type: ClientType = ClientType.PERSISTENT
    path: str | None = None
    host: str | None = None
    port: int | None = None
    ssl: bool = False
    api_key: str | None = None
    tenant: str = "default_tenant"
    database: str = "default_database"
    hnsw_config: HnswConfig | None = None
    document_field: str | None = None


class ChromaDBKey(TypedDict):
    client_type: str
    location: str  # path for persistent, host:port for http, "cloud"
    collection_name: str
    tenant: str
    database: str


@dataclasses.dataclass
class ChromaDBState:
    key_field_schema: FieldSchema
    value_fields_schema: list[FieldSchema]
    distance_metric: str
    hnsw_config: HnswConfig | None = None


@dataclasses.dataclass
class PreparedChromaDB:
    collection: Any  # chromadb.Collection
    vector_field: str
    dimension: int | None
    document_field: str | None


# ---------------------------------------------------------------------------------------------
# Clients


def _location(spec: ChromaDB) -> str:
    if spec.client_type is ClientType.PERSISTENT:
        return os.path.abspath(spec.path or DEFAULT_PATH)
    if spec.client_type is ClientType.CLOUD:
        return "cloud"
    return f"{spec.host or 'localhost'}:{spec.port or 8000}"


_api_keys: dict[tuple[str, str], str] = {}


def _client(key: ChromaDBKey, ssl: bool = False) -> Any:
    try:
        import chromadb
    except ImportError:
        raise ChromaDBTargetError(
            "the ChromaDB target needs chromadb: pip install 'cocotui[chromadb]'"
        ) from None
    kind, where = ClientType(key["client_type"]), key["location"]
    tenant, database = key["tenant"], key["database"]
    if kind is ClientType.PERSISTENT:
        return chromadb.PersistentClient(path=where, tenant=tenant, database=database)
    if kind is ClientType.CLOUD:
        api_key = _api_keys.get((tenant, database)) or os.environ.get(API_KEY_ENV)
        return chromadb.CloudClient(api_key=api_key, tenant=tenant, database=database)
    host, _, port = where.rpartition(":")
    try:
        return chromadb.HttpClient(
            host=host, port=int(port), ssl=ssl, tenant=tenant, database=database
        )
    except Exception as exc:  # the client checks the server when it is made
        raise ChromaDBTargetError(f"ChromaDB at {where}: {exc}") from exc


def _metadata(state: ChromaDBState) -> dict[str, Any]:
    metadata: dict[str, Any] = {"hnsw:space": state.distance_metric}
    config = state.hnsw_config
    if config is not None:
        for name, value in (
            ("hnsw:M", config.m),
            ("hnsw:construction_ef", config.ef_construction),
            ("hnsw:search_ef", config.ef_search),
        ):
            if value is not None:
                metadata[name] = value
    return metadata


# ---------------------------------------------------------------------------------------------
# Rows


def _vector_fields(fields: list[FieldSchema]) -> list[FieldSchema]:
    return [
        f
        for f in fields
        if isinstance(f.value_type.type, BasicValueType) and f.value_type.type.kind == "Vector"
    ]


def record_id(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, int | float | bool):
        return str(key)
    return json.dumps(key, sort_keys=True, default=str)


def _metadata_value(value: Any) -> str | int | float | bool | None:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _record(target: PreparedChromaDB, key: Any, value: Mapping[str, Any]) -> tuple[Any, ...]:
    """(id, embedding, metadata, document) of one row, checked."""
    ident = record_id(key)
    raw = value.get(target.vector_field)
    if raw is None:
        raise ChromaDBTargetError(
            f"Missing embedding for document {ident}. ChromaDB requires an embedding for each "
            f"document."
        )
    embedding = [float(x) for x in raw]
    if target.dimension is not None and len(embedding) != target.dimension:
        raise ChromaDBTargetError(
            f"row {ident!r}: the embedding has dimension {len(embedding)}, the field's is "
            f"{target.dimension}"
        )
    metadata: dict[str, Any] = {}
    document = None
    for name, field_value in value.items():
        if name == target.vector_field:
            continue
        if name == target.document_field:
            document = field_value if isinstance(field_value, str) else None
        elif (converted := _metadata_value(field_value)) is not None:
            metadata[name] = converted
    return ident, embedding, metadata, document


# ---------------------------------------------------------------------------------------------
# The connector


@cocotui.op.target_connector(spec_cls=ChromaDB, setup_state_cls=ChromaDBState)
class ChromaDBConnector:
    @staticmethod
    def get_persistent_key(spec: ChromaDB, target_name: str) -> ChromaDBKey:
        if spec.client_type is ClientType.CLOUD and spec.api_key:
            _api_keys[(spec.tenant, spec.database)] = spec.api_key
        return {
            "client_type": spec.client_type.value,
            "location": _location(spec),
            "collection_name": spec.collection_name,
            "tenant": spec.tenant,
            "database": spec.database,
        }

    @staticmethod
    def get_setup_state(
        spec: ChromaDB,
        key_fields_schema: list[FieldSchema],
        value_fields_schema: list[FieldSchema],
        index_options: IndexOptions,
    ) -> ChromaDBState:
        if len(key_fields_schema) != 1:
            raise ChromaDBTargetError("ChromaDB only supports a single key field")
        vectors = _vector_fields(value_fields_schema)
        if not vectors:
            raise ChromaDBTargetError(
                "ChromaDB requires a vector field in the value schema for embeddings."
            )
        if len(vectors) > 1:
            raise ChromaDBTargetError(
                f"ChromaDB only supports a single vector field per collection, but found "
                f"{len(vectors)}: {[f.name for f in vectors]}. Consider using LanceDB or Qdrant "
                f"for multiple vector fields."
            )
        if len(index_options.vector_indexes) > 1:
            raise ChromaDBTargetError("ChromaDB only supports a single vector index per collection")
        metric = "cosine"
        if index_options.vector_indexes:
            metric = _DISTANCE[index_options.vector_indexes[0].metric]
        return ChromaDBState(
            key_field_schema=key_fields_schema[0],
            value_fields_schema=list(value_fields_schema),
            distance_metric=metric,
            hnsw_config=spec.hnsw_config,
        )

    @staticmethod
    def describe(key: ChromaDBKey) -> str:
        return f"ChromaDB collection {key['collection_name']}@{key['location']}"

    @staticmethod
    def check_state_compatibility(
        desired: ChromaDBState, existing: ChromaDBState
    ) -> cocotui.op.TargetStateCompatibility:
        if (
            desired.key_field_schema != existing.key_field_schema
            or desired.distance_metric != existing.distance_metric
        ):
            return cocotui.op.TargetStateCompatibility.NOT_COMPATIBLE
        if desired.value_fields_schema != existing.value_fields_schema:
            return cocotui.op.TargetStateCompatibility.PARTIALLY_COMPATIBLE
        return cocotui.op.TargetStateCompatibility.COMPATIBLE

    @staticmethod
    def apply_setup_change(
        key: ChromaDBKey, previous: ChromaDBState | None, current: ChromaDBState | None
    ) -> None:
        if previous is None and current is None:
            return
        client = _client(key)
        name = key["collection_name"]
        exists = name in [c if isinstance(c, str) else c.name for c in client.list_collections()]
        if exists:
            space = client.get_collection(name).metadata or {}
            stale = (
                current is None
                or space.get("hnsw:space", "l2") != current.distance_metric
                or (previous is not None and previous.key_field_schema != current.key_field_schema)
            )
            if stale:
                client.delete_collection(name)
        if current is not None:
            client.get_or_create_collection(name=name, metadata=_metadata(current))

    @staticmethod
    def prepare(spec: ChromaDB, setup_state: ChromaDBState) -> PreparedChromaDB:
        key = ChromaDBConnector.get_persistent_key(spec, spec.collection_name)
        client = _client(key, spec.ssl)
        collection = client.get_or_create_collection(
            name=spec.collection_name, metadata=_metadata(setup_state)
        )
        (vector,) = _vector_fields(setup_state.value_fields_schema)
        typ = vector.value_type.type
        dimension = typ.vector.dimension if isinstance(typ, BasicValueType) and typ.vector else None
        return PreparedChromaDB(collection, vector.name, dimension, spec.document_field)

    @staticmethod
    def mutate(
        *all_mutations: tuple[PreparedChromaDB, dict[Any, dict[str, Any] | None]],
    ) -> None:
        for target, rows in all_mutations:
            # Every row is checked before anything is sent: a bad row loses nothing.
            records = [_record(target, k, v) for k, v in rows.items() if v is not None]
            deleted = [record_id(k) for k, v in rows.items() if v is None]
            if deleted:
                target.collection.delete(ids=deleted)
            if records:
                ids, embeddings, metadatas, documents = (
                    list(c) for c in zip(*records, strict=True)
                )
                target.collection.upsert(
                    ids=ids,
                    embeddings=embeddings,
                    metadatas=metadatas if any(metadatas) else None,
                    documents=documents if any(documents) else None,
                )
