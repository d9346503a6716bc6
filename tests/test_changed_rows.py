"""Rows that change (issue 16, the per-row path of an update): what a changed row sends and
what tracking keeps of it, once the per-row work was made lighter."""

from __future__ import annotations

import json
import sqlite3

from conftest import Workspace

DUPLICATE_KEY_APP = """\
import cocotui as cocoindex
from recording_connector import RecordingTarget

@cocoindex.op.function
def versions(text):
    # Two values for one key: the whole text, then its first line (the last one wins).
    return [{"text": text}, {"text": text.split("\\n")[0]}]

@cocoindex.flow_def(name="Docs")
def docs(flow_builder, data_scope):
    data_scope["documents"] = flow_builder.add_source(
        cocoindex.sources.LocalFile(path="../source"))
    out = data_scope.add_collector()
    with data_scope["documents"].row() as doc:
        doc["versions"] = doc["content"].transform(versions)
        with doc["versions"].row() as version:
            out.collect(filename=doc["filename"], content=version["text"])
    out.export("out", RecordingTarget(resource="a"), primary_key_fields=["filename"])
"""


def _rows(ws: Workspace) -> dict[str, object]:
    rows: dict[str, object] = json.loads((ws.resources / "a.rows.json").read_text())
    return rows


def test_changed_row_collecting_a_key_twice_keeps_the_last_value(workspace: Workspace) -> None:
    """A row collects one key twice; it changes so that the first value changes and the last
    does not. The target keeps the last value (nothing to send), not the first one."""
    ws = workspace
    ws.write_raw_app(DUPLICATE_KEY_APP)
    ws.write_source_file("a.txt", "alpha\none")
    assert ws.apply().returncode == 0
    first = ws.cli("update", ws.app, "--workers", "1")
    assert first.returncode == 0, first.stderr
    assert _rows(ws)['"a.txt"'] == {"content": "alpha"}
    ws.clear_calls()
    ws.write_source_file("a.txt", "alpha\ntwo, longer")
    second = ws.cli("update", ws.app, "--workers", "1")
    assert second.returncode == 0, second.stderr
    assert _rows(ws)['"a.txt"'] == {"content": "alpha"}
    assert ws.calls("mutate") == []


def test_tracking_holds_exactly_the_keys_rows_produce(workspace: Workspace) -> None:
    """New, modified and deleted rows: tracking holds one key per row that exists, each with
    the fingerprint of the value the target holds, and forgets the deleted row."""
    ws = workspace
    ws.write_raw_app(DUPLICATE_KEY_APP)
    for name in ("a.txt", "b.txt", "c.txt"):
        ws.write_source_file(name, f"{name}\nbody")
    assert ws.apply().returncode == 0
    assert ws.cli("update", ws.app).returncode == 0
    (ws.source_dir / "c.txt").unlink()
    ws.write_source_file("b.txt", "changed\nbody")
    ws.write_source_file("d.txt", "d.txt\nbody")
    result = ws.cli("update", ws.app, "--json")
    assert result.returncode == 0, result.stderr
    assert _rows(ws) == {
        '"a.txt"': {"content": "a.txt"},
        '"b.txt"': {"content": "changed"},
        '"d.txt"': {"content": "d.txt"},
    }
    db = sqlite3.connect(ws.tracking_file)
    try:
        keys = db.execute(
            "SELECT s.row_key, k.key, k.value_fp IS NOT NULL FROM target_keys AS k "
            "JOIN source_rows AS s ON s.id = k.row_id ORDER BY s.row_key"
        ).fetchall()
        rows = [r[0] for r in db.execute("SELECT row_key FROM source_rows ORDER BY row_key")]
    finally:
        db.close()
    assert keys == [
        ("a.txt", "('a.txt',)", 1),
        ("b.txt", "('b.txt',)", 1),
        ("d.txt", "('d.txt',)", 1),
    ]
    assert rows == ["a.txt", "b.txt", "d.txt"]
    # Nothing left to send: a run right after sends nothing.
    ws.clear_calls()
    assert ws.cli("update", ws.app).returncode == 0
    assert ws.calls("mutate") == []
