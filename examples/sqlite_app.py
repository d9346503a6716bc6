"""Example: one row per markdown guide in a SQLite table.

    cocotui apply examples/sqlite_app.py --yes
    cocotui update examples/sqlite_app.py
    sqlite3 out/guides.db 'SELECT filename, title, words, headings FROM guides'

The database is ``$EXAMPLE_OUT/guides.db`` (default ``out/``, relative to the working
directory). Keys are file names; ``headings`` (a list) is stored as JSON text.
"""

from __future__ import annotations

import os
from pathlib import Path

import guide_facts

import cocotui as cocoindex
from cocotui_connectors.sqlite import SqliteTable

DATABASE = Path(os.environ.get("EXAMPLE_OUT", "out")) / "guides.db"


@cocoindex.flow_def(name="GuidesToSqlite")
def guides_to_sqlite(flow_builder: cocoindex.FlowBuilder, data_scope: cocoindex.DataScope) -> None:
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
        SqliteTable(database=str(DATABASE), table="guides"),
        primary_key_fields=["filename"],
    )
