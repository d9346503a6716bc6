"""Helpers for the vector database target tests (``test_target_{qdrant,lancedb,chromadb}.py``):
an app that embeds each file of a source directory with a local hash embedder (no model) and
exports it to one target, and the typed field schemas the connectors receive."""

from __future__ import annotations

import hashlib
from pathlib import Path

from connector_helpers import source_files, write_sources

from cocotui.engine_type import BasicValueType, EnrichedValueType, FieldSchema, VectorTypeSchema
from cocotui.testing import AppRunner

DIM = 8
TARGET = "Docs.docs"

APP = '''\
"""Each file of $DOCS_DIR, embedded by a hash, exported to one vector database target."""

import hashlib
import os
from typing import Literal

import cocoindex
#IMPORTS#


@cocoindex.op.function()
def embed(text: str) -> cocoindex.Vector[cocoindex.Float32, Literal[#DIM#]]:
    digest = hashlib.sha256(text.encode()).digest()
    return [b / 255.0 for b in digest[:#LENGTH#]]


@cocoindex.flow_def(name="Docs")
def docs_flow(flow_builder, data_scope):
    data_scope["files"] = flow_builder.add_source(
        cocoindex.sources.LocalFile(path=os.environ["DOCS_DIR"])
    )
    out = data_scope.add_collector()
    with data_scope["files"].row() as f:
        f["embedding"] = f["content"].transform(embed)
        out.collect(#ID#filename=f["filename"], content=f["content"], embedding=f["embedding"])
    out.export(
        "docs",
        #SPEC#,
        primary_key_fields=[#KEY#],
        vector_indexes=[
            cocoindex.VectorIndexDef("embedding", cocoindex.VectorSimilarityMetric.#METRIC#)
        ],
    )
'''


def embedding(text: str, dim: int = DIM) -> list[float]:
    """What the app's ``embed`` gives ``text``."""
    return [b / 255.0 for b in hashlib.sha256(text.encode()).digest()[:dim]]


def write_app(
    tmp_path: Path,
    *,
    spec: str,
    imports: str = "",
    uuid_key: bool = False,
    metric: str = "COSINE_SIMILARITY",
    length: int = DIM,
) -> Path:
    """The app at ``tmp_path/app.py``; ``uuid_key`` keys rows by a generated UUID ``id`` (as
    Qdrant needs) instead of ``filename``; ``length`` is the length ``embed`` really returns
    (declared ``DIM``)."""
    app = tmp_path / "app.py"
    app.write_text(
        APP.replace("#IMPORTS#", imports)
        .replace("#DIM#", str(DIM))
        .replace("#LENGTH#", str(length))
        .replace("#ID#", "id=cocoindex.GeneratedField.UUID, " if uuid_key else "")
        .replace("#KEY#", '"id"' if uuid_key else '"filename"')
        .replace("#SPEC#", spec)
        .replace("#METRIC#", metric)
    )
    return app


def make_runner(tmp_path: Path, files: dict[str, str | None], **app: object) -> AppRunner:
    """A runner of the app over ``tmp_path/docs`` (written with ``files``)."""
    docs = tmp_path / "docs"
    write_sources(docs, files)
    return AppRunner(
        write_app(tmp_path, **app),  # type: ignore[arg-type]
        tmp_path / "state",
        env={"DOCS_DIR": str(docs)},
    )


def expected(docs: Path) -> dict[str, str]:
    """filename -> content: what every target must hold to equal its source."""
    return source_files(docs)


def vector_field(name: str, dim: int = DIM) -> FieldSchema:
    vector = VectorTypeSchema(BasicValueType("Float32"), dim)
    return FieldSchema(name, EnrichedValueType(BasicValueType("Vector", vector=vector)))


def basic_field(name: str, kind: str = "Str") -> FieldSchema:
    return FieldSchema(name, EnrichedValueType(BasicValueType(kind)))  # type: ignore[arg-type]
