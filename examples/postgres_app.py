"""Example: one row per markdown guide in a PostgreSQL table.

    export DATABASE_URL=postgresql://me:secret@127.0.0.1:5432/mydb
    cocotui apply examples/postgres_app.py --yes
    cocotui update examples/postgres_app.py
    psql "$DATABASE_URL" -c 'SELECT filename, title, words, headings FROM guides'

The URL is read from ``DATABASE_URL`` when the app runs (``url_env``), so the password is
neither in this file nor in the state. The table is ``$EXAMPLE_TABLE`` (default ``guides``).
``title`` and ``words`` get SQL types; ``headings`` keeps the default ``jsonb``.
"""

from __future__ import annotations

import os

import guide_facts

import cocotui as cocoindex
from cocotui_connectors.postgres import PostgresTable

TABLE = os.environ.get("EXAMPLE_TABLE", "guides")


@cocoindex.flow_def(name="GuidesToPostgres")
def guides_to_postgres(
    flow_builder: cocoindex.FlowBuilder, data_scope: cocoindex.DataScope
) -> None:
    data_scope["guides"] = flow_builder.add_source(guide_facts.source())
    rows = data_scope.add_collector()
    with data_scope["guides"].row() as guide:
        rows.collect(
            filename=guide["filename"],
            title=guide["content"].transform(guide_facts.title),
            words=guide["content"].transform(guide_facts.word_count),
            headings=guide["content"].transform(guide_facts.headings),
        )
    rows.export(
        "guides",
        PostgresTable(
            url_env="DATABASE_URL",
            table=TABLE,
            column_types={"title": "text", "words": "integer"},
        ),
        primary_key_fields=["filename"],
    )
