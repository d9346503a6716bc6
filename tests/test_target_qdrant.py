"""v0's built-in ``cocoindex.targets.Qdrant`` through cocotui, on qdrant-client's local mode (a
directory, no server); with ``COCOTUI_TEST_QDRANT_URL`` set (a server's gRPC URL, e.g.
``http://127.0.0.1:6334``) the CLI lifecycle runs against that server too."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from connector_helpers import (
    SAMPLE_FILES,
    write_sources,
)
from vector_target_helpers import (
    DIM,
    basic_field,
    embedding,
    make_runner,
    vector_field,
)
from vector_target_kinds import (
    QDRANT_COLLECTION,
    qdrant_client,
    qdrant_equals_source,
    qdrant_points,
    qdrant_spec,
)

from cocotui.index import IndexOptions, VectorIndexDef, VectorSimilarityMetric
from cocotui.op import TargetStateCompatibility
from cocotui.testing import assert_idempotent, assert_unchanged
from cocotui_connectors.v0_qdrant import (
    Qdrant,
    QdrantConnection,
    QdrantConnector,
    QdrantTargetError,
    close_clients,
)

SERVER_ENV = "COCOTUI_TEST_QDRANT_URL"
LOCATIONS = ["local"] + (["server"] if os.environ.get(SERVER_ENV) else [])


@pytest.fixture(autouse=True)
def _release_local_directories() -> Iterator[None]:
    yield
    close_clients()


def distance(url: str) -> str:
    client = qdrant_client(url)
    try:
        params = client.get_collection(QDRANT_COLLECTION).config.params.vectors
        assert isinstance(params, dict)
        assert params["embedding"].size == DIM
        return str(params["embedding"].distance.value)
    finally:
        client.close()


@pytest.fixture(params=LOCATIONS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "local":
        yield str(tmp_path / "qdrant")
        return
    server = os.environ[SERVER_ENV]
    yield server
    client = qdrant_client(server)
    try:
        if client.collection_exists(QDRANT_COLLECTION):
            client.delete_collection(QDRANT_COLLECTION)
    finally:
        client.close()


# ---------------------------------------------------------------------------------------------
# Lifecycle


def test_lifecycle_through_the_cli(tmp_path: Path, url: str) -> None:
    docs = tmp_path / "docs"
    runner = make_runner(tmp_path, SAMPLE_FILES, spec=qdrant_spec(url), uuid_key=True)
    (change,) = runner.plan()["changes"]
    assert (change["action"], change["kind"]) == ("create", "Qdrant")
    assert change["description"] == f"Qdrant collection {QDRANT_COLLECTION} @ {url}"
    assert qdrant_points(url) is None

    runner.apply()
    assert qdrant_points(url) == {}
    assert distance(url) == "Cosine"
    assert runner.update().ok
    qdrant_equals_source(url, docs)

    # nothing changed: nothing planned, nothing sent
    assert [c["action"] for c in runner.plan()["changes"]] in ([], ["none"])
    assert runner.update().mutations == 0

    # an edit and a deleted source file
    write_sources(docs, {"a.txt": "ALPHA", "b.txt": None})
    assert runner.update().ok
    qdrant_equals_source(url, docs)

    # a spec change (the metric): the collection is created again and every row re-exported
    runner = make_runner(tmp_path, {}, spec=qdrant_spec(url), uuid_key=True, metric="L2_DISTANCE")
    (change,) = runner.plan()["changes"]
    assert change["action"] != "create"
    runner.apply()
    assert distance(url) == "Euclid"
    assert runner.update().ok
    qdrant_equals_source(url, docs)

    runner.drop()
    assert qdrant_points(url) is None


# ---------------------------------------------------------------------------------------------
# Every method, in-process


def _state(metric: VectorSimilarityMetric = VectorSimilarityMetric.COSINE_SIMILARITY) -> Any:
    return QdrantConnector.get_setup_state(
        Qdrant(collection_name="t"),
        [basic_field("id", "Int64")],
        [basic_field("text"), vector_field("v")],
        IndexOptions(["id"], [VectorIndexDef("v", metric)]),
    )


def test_every_method_is_idempotent(tmp_path: Path) -> None:
    spec = Qdrant(collection_name="t", connection=QdrantConnection(str(tmp_path / "q")))
    key = QdrantConnector.get_persistent_key(spec, "t")
    state, l2 = _state(), _state(VectorSimilarityMetric.L2_DISTANCE)
    client = QdrantConnector.prepare(spec, state).client

    def snapshot() -> Any:
        if not client.collection_exists("t"):
            return None
        params = client.get_collection("t").config.params.vectors
        assert isinstance(params, dict)
        found, _ = client.scroll("t", with_vectors=True)
        # cosine vectors are stored normalized: compare them to float32 precision
        rows = [(p.id, p.payload, [round(x, 5) for x in p.vector["v"]]) for p in found]  # type: ignore[index,union-attr]
        return params["v"].distance.value, sorted(rows, key=repr)

    def mutate(rows: dict[Any, Any]) -> None:
        QdrantConnector.mutate((QdrantConnector.prepare(spec, state), rows))

    rows = {1: {"text": "one", "v": embedding("one")}, 2: {"text": "two", "v": embedding("two")}}
    create = lambda: QdrantConnector.apply_setup_change(key, None, state)  # noqa: E731
    assert assert_idempotent(create, snapshot, label="create") == ("Cosine", [])
    assert_idempotent(lambda: mutate(rows), snapshot, label="upsert")
    assert_unchanged(create, snapshot, label="create over the existing collection")
    assert_unchanged(lambda: mutate({3: None}), snapshot, label="delete a missing point")
    after = assert_idempotent(lambda: mutate({1: None}), snapshot, label="delete a point")
    assert [p[0] for p in after[1]] == [2]
    assert QdrantConnector.check_state_compatibility(l2, state) is (
        TargetStateCompatibility.NOT_COMPATIBLE
    )
    change = lambda: QdrantConnector.apply_setup_change(key, state, l2)  # noqa: E731
    assert assert_idempotent(change, snapshot, label="change the metric") == ("Euclid", [])
    drop = lambda: QdrantConnector.apply_setup_change(key, l2, None)  # noqa: E731
    assert assert_idempotent(drop, snapshot, label="drop") is None


def test_point_ids_are_v0s_unsigned_integers_and_uuids() -> None:
    from cocotui_connectors.v0_qdrant import point_id

    some = uuid.uuid4()
    assert point_id(7) == 7
    assert point_id(some) == str(some)
    assert point_id(str(some).upper()) == str(some)
    for bad in ("a.txt", -1, 2**64, True):
        with pytest.raises(QdrantTargetError, match="Invalid Qdrant point ID"):
            point_id(bad)


def test_what_v0_refuses_is_refused() -> None:
    from cocotui.index import FtsIndexDef, IvfFlatVectorIndexMethod

    fields = [basic_field("text"), vector_field("v")]
    spec = Qdrant(collection_name="t")
    for options, message in [
        (IndexOptions(["id"], fts_indexes=[FtsIndexDef("text")]), "FTS indexes"),
        (
            IndexOptions(
                ["id"],
                [
                    VectorIndexDef(
                        "v", VectorSimilarityMetric.L2_DISTANCE, IvfFlatVectorIndexMethod()
                    )
                ],
            ),
            "IVFFlat",
        ),
        (
            IndexOptions(["id"], [VectorIndexDef("text", VectorSimilarityMetric.L2_DISTANCE)]),
            "text",
        ),
    ]:
        with pytest.raises(QdrantTargetError, match=message):
            QdrantConnector.get_setup_state(spec, [basic_field("id")], fields, options)
    with pytest.raises(QdrantTargetError, match="exactly one primary key"):
        QdrantConnector.get_setup_state(
            spec, [basic_field("a"), basic_field("b")], fields, IndexOptions(["a", "b"])
        )


# ---------------------------------------------------------------------------------------------
# Bad input


def test_a_missing_auth_entry_is_a_clear_setup_error(tmp_path: Path) -> None:
    spec = (
        "cocoindex.targets.Qdrant(collection_name='docs', "
        "connection=cocoindex.auth_registry.AuthEntryReference('prod'))"
    )
    runner = make_runner(tmp_path, SAMPLE_FILES, spec=spec, uuid_key=True)
    (change,) = runner.plan()["changes"]
    assert change["description"] == "Qdrant collection docs @ auth entry prod"
    result = runner.command("apply", "--yes")
    assert result.returncode != 0
    assert "'prod'" in result.stderr, result.stderr
    assert runner.plan()["changes"][0]["action"] == "create"  # still to do


def test_a_server_that_is_down_fails_the_setup_without_showing_the_key(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    secret = "qdrant-key-s3cr3t"
    spec = (
        "cocoindex.targets.Qdrant(collection_name='docs', connection=cocoindex.targets."
        f"QdrantConnection(grpc_url='http://127.0.0.1:{port}', api_key={secret!r}))"
    )
    runner = make_runner(tmp_path, SAMPLE_FILES, spec=spec, uuid_key=True)
    result = runner.command("apply", "--yes")
    assert result.returncode != 0
    assert f"Qdrant at http://127.0.0.1:{port}" in result.stderr, result.stderr
    assert secret not in result.stdout + result.stderr
    if runner.state_file.exists():
        assert secret not in runner.state_file.read_text()
    assert runner.plan()["changes"][0]["action"] == "create"
