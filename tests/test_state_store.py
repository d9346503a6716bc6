"""The TOML setup store: lossless encoding of values TOML cannot hold natively, round trips,
refusal of damaged or newer files, owner-only permissions and atomic writes."""

from __future__ import annotations

import math
import os
import stat
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from conftest import Workspace, export
from hypothesis import given, settings
from hypothesis import strategies as st

from cocotui.state.lock import WriterLock
from cocotui.state.setup_store import (
    SCHEMA_VERSION,
    AppState,
    SetupRecord,
    StateError,
    TargetState,
    TomlSetupStore,
)
from cocotui.values.toml_tags import decode, encode

# ---------------------------------------------------------------------------------------------
# Values: JSON-like, plus tuples and dicts with non-string keys (what keys and states may hold)

floats = st.floats(allow_nan=False)  # NaN != NaN; inf, -inf and -0.0 are included
scalars = st.none() | st.booleans() | st.integers() | floats | st.text()
tricky_text = st.sampled_from(["$", "$$", "a$b", "", "null", "items", "tuple", "dict"])
hashable = st.recursive(
    scalars | tricky_text,
    lambda inner: st.lists(inner, max_size=3).map(tuple),
    max_leaves=6,
)


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=4).map(tuple)
        | st.dictionaries(st.text() | tricky_text, inner, max_size=4)
        | st.dictionaries(hashable, inner, max_size=4)
    )


values = st.recursive(scalars | tricky_text, _containers, max_leaves=25)


def strictly_equal(a: Any, b: Any) -> bool:
    """Equality that tells bool from int, int from float, tuple from list and -0.0 from 0.0
    (dict key order aside)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(strictly_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        # Key order is not kept (TOML writes plain values before tables), key types are.
        if len(a) != len(b):
            return False
        b_items = list(b.items())
        for ka, va in a.items():
            match = [vb for kb, vb in b_items if strictly_equal(ka, kb)]
            if len(match) != 1 or not strictly_equal(va, match[0]):
                return False
        return True
    return bool(a == b)


def toml_round_trip(value: Any) -> Any:
    text = tomli_w.dumps({"value": encode(value)})
    return decode(tomllib.loads(text)["value"])


@settings(max_examples=200, deadline=None)
@given(values)
def test_encode_decode_round_trips_through_toml(value: Any) -> None:
    assert strictly_equal(toml_round_trip(value), value)


@pytest.mark.parametrize(
    "value",
    [
        None,
        {"a": None, "b": [None, 1]},
        {7: "int", True: "bool", (1, "x"): "tuple", None: "none", 1.5: "float"},
        {"$": "dollar", "$x": 1},
        {"nested": {2: {(): [(), []]}}},
        ("tuple", ["list"], ("inner",)),
        [float("inf"), float("-inf"), -0.0],
        "$",
        {"$": "null"},  # looks like an encoded None
        {"$": "tuple", "items": [1]},  # looks like an encoded tuple
    ],
)
def test_encode_decode_examples(value: Any) -> None:
    assert strictly_equal(toml_round_trip(value), value)


def test_nan_round_trips_as_nan() -> None:
    back = toml_round_trip({"x": [float("nan")]})
    assert math.isnan(back["x"][0])


# ---------------------------------------------------------------------------------------------
# Targets through the store

records = st.builds(
    SetupRecord,
    values,
    st.lists(st.text(min_size=1), max_size=3).map(tuple),
    st.lists(st.text(min_size=1), max_size=3).map(tuple),
)
targets = st.builds(
    TargetState,
    flow=st.text(min_size=1),
    kind=st.text(min_size=1),
    key=values,
    export=st.text(min_size=1),
    committed=st.none() | records,
    staged=st.lists(st.none() | records, max_size=3),
    description=st.text(),
    applied_at=st.none() | st.text(min_size=1),
    last_error=st.none() | st.text(min_size=1),
)


def records_equal(a: SetupRecord | None, b: SetupRecord | None) -> bool:
    if a is None or b is None:
        return a is b
    return (
        strictly_equal(a.state, b.state)
        and a.key_fields == b.key_fields
        and a.value_fields == b.value_fields
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(targets, max_size=3))
def test_targets_round_trip_through_the_store(
    tmp_path_factory: Any, items: list[TargetState]
) -> None:
    path = tmp_path_factory.mktemp("store") / "app.toml"
    store = TomlSetupStore(path, "app")
    store.save(AppState("app", items))
    loaded = store.load()
    assert loaded.app == "app"
    assert len(loaded.targets) == len(items)
    for got, want in zip(loaded.targets, items, strict=True):
        assert (got.flow, got.kind, got.export) == (want.flow, want.kind, want.export)
        assert strictly_equal(got.key, want.key)
        assert got.key_id == want.key_id
        assert records_equal(got.committed, want.committed)
        assert len(got.staged) == len(want.staged)
        assert all(records_equal(x, y) for x, y in zip(got.staged, want.staged, strict=True))
        assert (got.description, got.applied_at, got.last_error) == (
            want.description,
            want.applied_at,
            want.last_error,
        )


def test_missing_file_is_an_empty_state(tmp_path: Path) -> None:
    store = TomlSetupStore(tmp_path / "none.toml", "none")
    assert store.load().targets == []
    assert not (tmp_path / "none.toml").exists()


# ---------------------------------------------------------------------------------------------
# Damaged and newer files


def _applied_workspace(ws: Workspace) -> bytes:
    ws.write_app(export("out", resource="a", options={"x": None}), export("two", resource="b"))
    assert ws.apply().returncode == 0
    ws.write_app(export("out", resource="a", version=2), export("two", resource="b"))
    ws.clear_calls()
    return ws.state_file.read_bytes()


def _assert_refused(ws: Workspace, damaged: bytes, *expected: str, commands: int = 1) -> None:
    """The store refuses ``damaged``, naming the file; so do the first ``commands`` of apply,
    drop and plan, run as CLI processes; the file is left as it was."""
    ws.state_file.write_bytes(damaged)
    with pytest.raises(StateError) as exc:
        TomlSetupStore(ws.state_file, "demo_app").load()
    assert str(ws.state_file) in str(exc.value)
    for part in expected:
        assert part in str(exc.value)
    cli_commands = [("apply", ws.app, "--yes"), ("drop", ws.app, "--yes"), ("plan", ws.app)]
    for args in cli_commands[:commands]:
        result = ws.cli(*args)
        assert result.returncode == 1, (damaged, result)
        assert result.stderr.startswith("error: ")
        assert str(ws.state_file) in result.stderr
        for part in expected:
            assert part in result.stderr
        assert "Traceback" not in result.stderr
    assert ws.state_file.read_bytes() == damaged
    assert ws.side_effect_calls() == []


def test_corrupt_state_is_refused_and_left_unchanged(workspace: Workspace) -> None:
    ws = workspace
    good = _applied_workspace(ws)
    broken = good.replace(b'flow = "Docs"', b'flow = "Docs', 1)
    _assert_refused(ws, broken, "not valid TOML", commands=3)
    _assert_refused(ws, b"\xff\xfe not utf-8", "not valid TOML")
    _assert_refused(ws, good.replace(b"[targets.committed]", b"[targets.commited]"), "damaged")


def test_truncated_state_is_refused_and_left_unchanged(workspace: Workspace) -> None:
    ws = workspace
    good = _applied_workspace(ws)
    lines = good.splitlines(keepends=True)
    cuts = sorted({len(good) // 2, len(good) - 3, *(sum(map(len, lines[:n])) for n in (6, 12))})
    for i, cut in enumerate(cuts):
        assert 0 < cut < len(good)
        _assert_refused(ws, good[:cut], commands=1 if i < 2 else 0)


def test_newer_schema_version_is_refused(workspace: Workspace) -> None:
    ws = workspace
    good = _applied_workspace(ws)
    newer = good.replace(
        f"schema_version = {SCHEMA_VERSION}".encode(),
        f"schema_version = {SCHEMA_VERSION + 1}".encode(),
    )
    assert newer != good
    _assert_refused(ws, newer, "schema_version", "upgrade cocotui")
    with pytest.raises(StateError, match="schema_version"):
        TomlSetupStore(ws.state_file, "demo_app").load()


def test_unreadable_state_names_the_file(workspace: Workspace) -> None:
    ws = workspace
    _applied_workspace(ws)
    ws.state_file.unlink()
    ws.state_file.mkdir()  # reading a directory fails with an OSError
    with pytest.raises(StateError) as exc:
        TomlSetupStore(ws.state_file, "demo_app").load()
    assert str(ws.state_file) in str(exc.value)


# ---------------------------------------------------------------------------------------------
# Permissions and atomic writes


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_and_lock_files_are_owner_only(workspace: Workspace) -> None:
    ws = workspace
    old_umask = os.umask(0)  # even a permissive umask must not widen them
    try:
        _applied_workspace(ws)
        ws.state_file.chmod(0o644)
        assert ws.apply().returncode == 0  # rewritten: the new file is private again
    finally:
        os.umask(old_umask)
    assert _mode(ws.state_file) == 0o600
    assert _mode(ws.lock_file) == 0o600
    assert _mode(ws.tracking_file) == 0o600


def test_fresh_state_directory_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "new" / "app.toml"
    TomlSetupStore(path, "app").save(AppState("app"))
    assert _mode(path.parent) == 0o700
    assert _mode(path) == 0o600
    with WriterLock(tmp_path / "new2" / "app.lock", "app"):
        assert _mode(tmp_path / "new2" / "app.lock") == 0o600


def _state_with(version: int) -> AppState:
    record = SetupRecord({"v": version, "none": None}, ("k",), ("v",))
    return AppState("app", [TargetState("F", "K", "key", "out", committed=record)])


def test_writes_are_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "app.toml"
    store = TomlSetupStore(path, "app")
    store.save(_state_with(1))
    before = path.read_bytes()

    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])

    # A crash after part of the new content was written leaves the old file as it was.
    real_write = os.write

    def half_write(fd: int, data: bytes) -> int:
        real_write(fd, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", half_write)
    with pytest.raises(StateError, match="No space left on device"):
        store.save(_state_with(2))
    assert path.read_bytes() == before
    monkeypatch.setattr(os, "write", real_write)

    # A crash before the rename, likewise.
    def no_replace(src: Any, dst: Any) -> None:
        raise OSError("killed before rename")

    monkeypatch.setattr(os, "replace", no_replace)
    synced.clear()
    with pytest.raises(StateError, match="killed before rename"):
        store.save(_state_with(3))
    assert path.read_bytes() == before
    assert synced, "the temp file must be fsynced before it is renamed"
    monkeypatch.undo()

    store.save(_state_with(4))
    assert store.load().targets[0].committed == SetupRecord({"v": 4, "none": None}, ("k",), ("v",))
    # The failed writes left temp files; the next write (under the lock) removes them.
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name != "app.toml")
    assert leftovers == []


def test_fingerprint_follows_the_file(tmp_path: Path) -> None:
    store = TomlSetupStore(tmp_path / "app.toml", "app")
    empty = store.fingerprint()
    store.save(_state_with(1))
    first = store.fingerprint()
    store.save(_state_with(2))
    assert len({empty, first, store.fingerprint()}) == 3
