"""CocoIndex v0's built-in ``cocoindex.targets.Qdrant``: one Qdrant point per row.

Laid out as v0.3.39's engine lays it out (``rust/cocoindex/src/ops/targets/qdrant.rs``):

* the single primary key field is the point id: an ``int`` (a non-negative 64-bit integer), a
  ``uuid.UUID``, or a ``str`` that is a UUID (Qdrant accepts no other ids; v0 hashes nothing);
* each value field typed a number vector of fixed dimension is a **named vector** (a vector of
  such vectors is a multi-vector compared with MaxSim); a null vector is left out of the point;
* every other value field goes to the **payload**, as JSON;
* the collection is created with one vector config per vector field: its dimension, the
  distance of its ``VectorIndexDef`` (cosine when none is declared) and the HNSW ``m`` /
  ``ef_construction`` it gives. FTS indexes and IVFFlat are refused, as v0 refuses them.

A change of the vectors (a field, a dimension, a metric, HNSW parameters) is ``NOT_COMPATIBLE``:
the collection is dropped, created again and every row exported again. Payload fields change
freely (Qdrant payloads have no schema).

``connection`` is an ``AuthEntryReference`` to a :class:`QdrantConnection` (as in v0), or a
``QdrantConnection`` given directly; without it, ``http://localhost:6334`` as in v0. A
``grpc_url`` that is not ``http(s)://`` names qdrant-client's local mode instead: a directory
path (or ``:memory:``), which needs no server. The API key is never part of the persistent key
or the setup state; a direct connection whose spec is gone (a dropped target) takes it from
``QDRANT_API_KEY``.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import json
import os
import threading
import urllib.parse
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict

import cocotui
from cocotui import auth_registry
from cocotui.engine_type import BasicValueType, FieldSchema, VectorTypeSchema
from cocotui.index import (
    HnswVectorIndexMethod,
    IndexOptions,
    IvfFlatVectorIndexMethod,
    VectorSimilarityMetric,
)

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

DEFAULT_URL = "http://localhost:6334"
API_KEY_ENV = "QDRANT_API_KEY"
_NUMBER_KINDS = ("Float32", "Float64", "Int64")
_DISTANCE = {
    VectorSimilarityMetric.COSINE_SIMILARITY: "Cosine",
    VectorSimilarityMetric.L2_DISTANCE: "Euclid",
    VectorSimilarityMetric.INNER_PRODUCT: "Dot",
}


@dataclasses.dataclass
class QdrantConnection:
    """Where Qdrant is: a gRPC URL (``http://host:6334``) and its API key, or a local-mode
    directory (or ``:memory:``) in ``grpc_url``."""

    grpc_url: str
    api_key: str | None = None


class Qdrant(cocotui.op.TargetSpec):
    """Target powered by Qdrant - https://qdrant.tech/."""

    collection_name: str
    connection: (
        auth_registry.TransientAuthEntryReference[QdrantConnection] | QdrantConnection | None
    ) = None


class QdrantKey(TypedDict):
    """The persistent key: the collection and where it lives (an auth entry's key or a
    connection URL, never the API key)."""

    collection_name: str
    auth_entry: str | None
    url: str | None


@dataclasses.dataclass(frozen=True)
class QdrantVectorDef:
    """One named vector of the collection, as v0's ``VectorDef``."""

    vector_size: int
    metric: VectorSimilarityMetric = VectorSimilarityMetric.COSINE_SIMILARITY
    multi_vector_comparator: str | None = None
    hnsw_m: int | None = None
    hnsw_ef_construction: int | None = None


@dataclasses.dataclass(frozen=True)
class QdrantState:
    """The setup state: the collection's named vectors."""

    vectors: dict[str, QdrantVectorDef]
    #: Vector fields Qdrant cannot index (no fixed dimension): they go to the payload.
    unsupported_vector_fields: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class PreparedQdrant:
    """What ``mutate`` receives: the client, the collection and which fields are vectors."""

    client: QdrantClient
    connection: QdrantConnection
    collection_name: str
    vectors: dict[str, QdrantVectorDef]


class QdrantTargetError(ValueError):
    """A spec, schema, connection or row the Qdrant target cannot use."""


# ---------------------------------------------------------------------------------------------
# Connections


def _connection(spec: Qdrant) -> QdrantConnection:
    conn = spec.connection
    if conn is None:
        return QdrantConnection(DEFAULT_URL)
    if isinstance(conn, QdrantConnection):
        return conn
    lookup = getattr(auth_registry, "get_auth_entry", None)
    if lookup is None:
        raise QdrantTargetError(
            f"Qdrant.connection refers to auth entry {conn.key!r} but this cocotui has no auth "
            f"registry to look it up; pass a QdrantConnection directly"
        )
    found = lookup(QdrantConnection, conn)
    if isinstance(found, Mapping):
        found = QdrantConnection(**found)
    if not isinstance(found, QdrantConnection):
        raise QdrantTargetError(f"auth entry {conn.key!r} is not a QdrantConnection")
    return found


def _key_connection(key: QdrantKey) -> QdrantConnection:
    """The connection of a persistent key: its auth entry, else its URL with the API key the
    current spec gave (remembered by ``get_persistent_key``) or ``QDRANT_API_KEY``."""
    if key["auth_entry"] is not None:
        reference: auth_registry.AuthEntryReference[QdrantConnection]
        reference = auth_registry.AuthEntryReference(key["auth_entry"])
        return _connection(Qdrant(collection_name=key["collection_name"], connection=reference))
    url = key["url"] or DEFAULT_URL
    return _api_keys.get(url) or QdrantConnection(url, os.environ.get(API_KEY_ENV))


_api_keys: dict[str, QdrantConnection] = {}
_clients: dict[tuple[str, str | None], QdrantClient] = {}
_clients_lock = threading.Lock()


def is_local(url: str) -> bool:
    return not url.startswith(("http://", "https://"))


def client_for(conn: QdrantConnection) -> QdrantClient:
    """One client per location and key in this process (local mode locks its directory, so
    there may be only one)."""
    try:
        from qdrant_client import QdrantClient
    except ImportError:
        raise QdrantTargetError(
            "the Qdrant target needs qdrant-client: pip install 'cocotui[qdrant]'"
        ) from None
    with _clients_lock:
        client = _clients.get((conn.grpc_url, conn.api_key))
        if client is None:
            if conn.grpc_url == ":memory:":
                client = QdrantClient(location=":memory:")
            elif is_local(conn.grpc_url):
                client = QdrantClient(path=os.path.abspath(conn.grpc_url))
            else:
                port = urllib.parse.urlsplit(conn.grpc_url).port or 6334
                client = QdrantClient(
                    url=conn.grpc_url,
                    grpc_port=port,
                    prefer_grpc=True,
                    api_key=conn.api_key,
                    check_compatibility=False,
                )
            _clients[(conn.grpc_url, conn.api_key)] = client
        return client


def close_clients() -> None:
    """Close every client (releasing local-mode directories)."""
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


def _call(conn: QdrantConnection, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, a failure reported with where and what (never the API key)."""
    try:
        return fn(*args, **kwargs)
    except QdrantTargetError:
        raise
    except Exception as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if conn.api_key:
            detail = detail.replace(conn.api_key, "***")
        raise QdrantTargetError(f"Qdrant at {conn.grpc_url}: {what} failed: {detail}") from exc


# ---------------------------------------------------------------------------------------------
# Schema


def _vector_shape(field: FieldSchema) -> tuple[int, bool] | None:
    """(dimension, is a multi-vector) of a number vector of fixed dimension, else ``None``."""
    typ = field.value_type.type
    if not isinstance(typ, BasicValueType) or typ.vector is None:
        return None
    vector: VectorTypeSchema = typ.vector
    if vector.element_type.kind in _NUMBER_KINDS:
        return None if vector.dimension is None else (vector.dimension, False)
    inner = vector.element_type.vector
    if inner is not None and inner.element_type.kind in _NUMBER_KINDS and inner.dimension:
        return inner.dimension, True
    return None


def _is_vector(field: FieldSchema) -> bool:
    typ = field.value_type.type
    return isinstance(typ, BasicValueType) and typ.kind == "Vector"


def build_state(
    key_fields: list[FieldSchema], value_fields: list[FieldSchema], options: IndexOptions
) -> QdrantState:
    """The collection v0 creates for these fields and indexes (its errors, worded as v0's)."""
    if len(key_fields) != 1:
        raise QdrantTargetError(
            f"Expected exactly one primary key field for the point ID. Got {len(key_fields)}."
        )
    if options.fts_indexes:
        raise QdrantTargetError("FTS indexes are not supported for Qdrant target")
    vectors: dict[str, QdrantVectorDef] = {}
    unsupported: list[str] = []
    for field in value_fields:
        shape = _vector_shape(field)
        if shape is not None:
            vectors[field.name] = QdrantVectorDef(
                vector_size=shape[0], multi_vector_comparator="MaxSim" if shape[1] else None
            )
        elif _is_vector(field):
            unsupported.append(field.name)
    seen: set[str] = set()
    for index in options.vector_indexes:
        if index.field_name not in vectors:
            raise QdrantTargetError(
                f"Field `{index.field_name}` specified in vector index is expected to be a "
                f"number vector with fixed size"
            )
        if index.field_name in seen:
            raise QdrantTargetError(
                f"Field `{index.field_name}` specified more than once in vector index definition"
            )
        seen.add(index.field_name)
        method = index.method
        if isinstance(method, IvfFlatVectorIndexMethod):
            raise QdrantTargetError(
                "IVFFlat vector index method is not supported for Qdrant. Only HNSW is supported."
            )
        hnsw = method if isinstance(method, HnswVectorIndexMethod) else HnswVectorIndexMethod()
        vectors[index.field_name] = dataclasses.replace(
            vectors[index.field_name],
            metric=index.metric,
            hnsw_m=hnsw.m,
            hnsw_ef_construction=hnsw.ef_construction,
        )
    return QdrantState(vectors=vectors, unsupported_vector_fields=unsupported)


def _vectors_config(state: QdrantState) -> dict[str, Any]:
    from qdrant_client import models

    config: dict[str, Any] = {}
    for name, vector in state.vectors.items():
        hnsw = None
        if vector.hnsw_m is not None or vector.hnsw_ef_construction is not None:
            hnsw = models.HnswConfigDiff(m=vector.hnsw_m, ef_construct=vector.hnsw_ef_construction)
        multi = None
        if vector.multi_vector_comparator is not None:
            multi = models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM)
        config[name] = models.VectorParams(
            size=vector.vector_size,
            distance=models.Distance(_DISTANCE[vector.metric]),
            hnsw_config=hnsw,
            multivector_config=multi,
        )
    return config


# ---------------------------------------------------------------------------------------------
# Rows


def point_id(key: Any) -> int | str:
    """A row key as v0 makes it a point id: an unsigned integer or a UUID."""
    if isinstance(key, tuple) and len(key) == 1:
        key = key[0]
    if isinstance(key, bool):
        raise QdrantTargetError(f"Invalid Qdrant point ID: {key!r}")
    if isinstance(key, int):
        if not 0 <= key < 2**64:
            raise QdrantTargetError(f"Invalid Qdrant point ID: {key} (must be 0 to 2^64-1)")
        return key
    if isinstance(key, uuid.UUID):
        return str(key)
    if isinstance(key, str):
        try:
            return str(uuid.UUID(key))
        except ValueError:
            raise QdrantTargetError(
                f"Invalid Qdrant point ID: {key!r}; Qdrant takes an unsigned integer or a UUID "
                f"(collect(id=cocoindex.GeneratedField.UUID, ...) gives one per row)"
            ) from None
    raise QdrantTargetError(f"Invalid Qdrant point ID: {key!r}")


def _json_default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
    raise TypeError(f"a value of type {type(value).__name__} cannot be stored as JSON")


def _dense(value: Any, name: str, size: int, key: Any) -> list[float]:
    try:
        vector = [float(x) for x in value]
    except (TypeError, ValueError):
        raise QdrantTargetError(f"row {key!r}: field '{name}' is not a number vector") from None
    if len(vector) != size:
        raise QdrantTargetError(
            f"row {key!r}: vector field '{name}' has dimension {len(vector)}, "
            f"the collection's is {size}"
        )
    return vector


def make_point(target: PreparedQdrant, key: Any, value: Mapping[str, Any]) -> Any:
    from qdrant_client import models

    vectors: dict[str, Any] = {}
    payload: dict[str, Any] = {}
    for name, field_value in value.items():
        vector = target.vectors.get(name)
        if vector is None:
            payload[name] = field_value
        elif field_value is None:
            continue  # as v0: a null vector is left out of the point
        elif vector.multi_vector_comparator is not None:
            vectors[name] = [_dense(v, name, vector.vector_size, key) for v in field_value]
        else:
            vectors[name] = _dense(field_value, name, vector.vector_size, key)
    try:
        payload = json.loads(json.dumps(payload, default=_json_default))
    except (TypeError, ValueError) as exc:
        raise QdrantTargetError(f"row {key!r}: {exc}") from None
    return models.PointStruct(id=point_id(key), vector=vectors, payload=payload)


# ---------------------------------------------------------------------------------------------
# The connector


def _recreate(client: QdrantClient, name: str, state: QdrantState) -> None:
    if client.collection_exists(name):
        client.delete_collection(name)
    client.create_collection(name, vectors_config=_vectors_config(state))


def _converge(client: QdrantClient, key: QdrantKey, current: QdrantState) -> None:
    """Bring the collection to ``current`` whatever an earlier (possibly interrupted) call
    left: kept when its vectors are the wanted ones, created again otherwise."""
    name = key["collection_name"]
    if client.collection_exists(name):
        params = client.get_collection(name).config.params.vectors
        existing = params if isinstance(params, dict) else {}
        if existing.keys() == current.vectors.keys() and all(
            existing[n].size == v.vector_size and existing[n].distance.value == _DISTANCE[v.metric]
            for n, v in current.vectors.items()
        ):
            return
    _recreate(client, name, current)


@cocotui.op.target_connector(spec_cls=Qdrant, setup_state_cls=QdrantState)
class QdrantConnector:
    @staticmethod
    def get_persistent_key(spec: Qdrant, target_name: str) -> QdrantKey:
        if not isinstance(spec.collection_name, str) or not spec.collection_name:
            raise QdrantTargetError("Qdrant.collection_name must be a non-empty string")
        conn = spec.connection
        if conn is None or isinstance(conn, QdrantConnection):
            url = DEFAULT_URL if conn is None else conn.grpc_url
            if conn is not None:
                _api_keys[url] = conn
            return {"collection_name": spec.collection_name, "auth_entry": None, "url": url}
        return {"collection_name": spec.collection_name, "auth_entry": conn.key, "url": None}

    @staticmethod
    def get_setup_state(
        spec: Qdrant,
        key_fields_schema: list[FieldSchema],
        value_fields_schema: list[FieldSchema],
        index_options: IndexOptions,
    ) -> QdrantState:
        return build_state(key_fields_schema, value_fields_schema, index_options)

    @staticmethod
    def describe(key: QdrantKey) -> str:
        where = f"auth entry {key['auth_entry']}" if key["auth_entry"] else key["url"]
        return f"Qdrant collection {key['collection_name']} @ {where}"

    @staticmethod
    def check_state_compatibility(
        desired: QdrantState, existing: QdrantState
    ) -> cocotui.op.TargetStateCompatibility:
        if desired.vectors == existing.vectors:
            return cocotui.op.TargetStateCompatibility.COMPATIBLE
        return cocotui.op.TargetStateCompatibility.NOT_COMPATIBLE

    @staticmethod
    def apply_setup_change(
        key: QdrantKey, previous: QdrantState | None, current: QdrantState | None
    ) -> None:
        conn = _key_connection(key)
        client = client_for(conn)
        name = key["collection_name"]
        if current is None:
            if _call(conn, "checking the collection", client.collection_exists, name):
                _call(conn, "deleting the collection", client.delete_collection, name)
            return
        if previous is not None and previous.vectors != current.vectors:
            _call(conn, "recreating the collection", _recreate, client, name, current)
            return
        _call(conn, "creating the collection", _converge, client, key, current)

    @staticmethod
    def prepare(spec: Qdrant, setup_state: QdrantState) -> PreparedQdrant:
        conn = _connection(spec)
        return PreparedQdrant(
            client=client_for(conn),
            connection=conn,
            collection_name=spec.collection_name,
            vectors=dict(setup_state.vectors),
        )

    @staticmethod
    def mutate(*all_mutations: tuple[PreparedQdrant, dict[Any, dict[str, Any] | None]]) -> None:
        from qdrant_client import models

        for target, rows in all_mutations:
            # Every row is checked before anything is sent: a bad row loses nothing.
            points = [make_point(target, k, v) for k, v in rows.items() if v is not None]
            deleted: list[models.ExtendedPointId] = [
                point_id(k) for k, v in rows.items() if v is None
            ]
            conn, name = target.connection, target.collection_name
            if points:
                _call(conn, "upserting points", target.client.upsert, name, points, wait=True)
            if deleted:
                selector = models.PointIdsList(points=deleted)
                _call(conn, "deleting points", target.client.delete, name, selector, wait=True)
