"""Target key parts in row tracking: canonical JSON (no pickle), and databases written by
earlier versions (pickled parts) still read."""

from __future__ import annotations

import datetime
import decimal
import pickle
import sqlite3
import uuid
from typing import Any

import pytest
import update_helpers as h
from conftest import Workspace

from cocotui.engine.key_codec import KeyCodecError, decode_parts, encode_parts


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


@pytest.mark.parametrize(
    "parts",
    [
        ("a.md",),
        (1, True, None, 2.5, "x"),
        (float("inf"), float("nan")),
        ((1, "nested"), [1, (2, 3)], {"a": (2,), "b": 1}, {1: "int key", (1, 2): "tuple key"}),
        (b"\x00\xff", uuid.UUID(int=7), decimal.Decimal("1.10")),
        (
            datetime.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=datetime.UTC),
            datetime.date(2024, 1, 2),
            datetime.time(3, 4, 5),
            datetime.timedelta(days=1, seconds=2, microseconds=3),
        ),
        ({"$": "a dict whose key is the tag"},),
        ('a"\\b\n\u00e9\u2028', "lone \udcff surrogate", -5, 10**30, False),
    ],
)
def test_parts_come_back_exactly(parts: tuple[Any, ...]) -> None:
    stored = encode_parts(parts)
    back = decode_parts(stored)
    assert repr(back) == repr(parts)  # types and order too, not only equality
    assert stored.startswith(b"[")


def test_equal_dicts_are_stored_alike() -> None:
    assert encode_parts(({"a": 1, "b": 2},)) == encode_parts(({"b": 2, "a": 1},))


def test_a_part_of_another_type_cannot_be_tracked() -> None:
    with pytest.raises(KeyCodecError, match="type object"):
        encode_parts((object(),))


def _stored_parts(ws: Workspace) -> dict[str, bytes]:
    with h.engine_of(ws) as engine:
        path = engine.paths.tracking
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT key, key_parts FROM target_keys"))


def test_tracking_stores_json_and_reads_pickled_parts_of_earlier_versions(ws: Workspace) -> None:
    h.write_files(ws, {"a.md": "alpha", "b.md": "beta"})
    h.flow_app(ws)
    h.apply_all(ws)
    assert h.update(ws).result.ok
    stored = _stored_parts(ws)
    assert {decode_parts(v) for v in stored.values()} == {("a.md",), ("b.md",)}
    assert all(v.startswith(b"[") for v in stored.values())

    # As an earlier version left the database: the parts pickled.
    with h.engine_of(ws) as engine:
        path = engine.paths.tracking
    with sqlite3.connect(path) as db:
        for key, value in stored.items():
            legacy = pickle.dumps(decode_parts(value))
            db.execute("UPDATE target_keys SET key_parts = ? WHERE key = ?", (legacy, key))

    (ws.source_dir / "a.md").unlink()
    h.write_files(ws, {"b.md": "BETA"})
    run = h.update(ws)
    assert run.result.ok, run.named("row.failed")
    assert h.sent() == {"a.md": None, "b.md": {"content": "BETA"}}
    assert h.store() == h.content_rows({"b.md": "BETA"})
    # The row committed again is stored in the new form.
    assert all(v.startswith(b"[") for v in _stored_parts(ws).values())
