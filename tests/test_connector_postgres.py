"""The PostgreSQL table connector against a real server (``COCOTUI_TEST_POSTGRES_URL``; started
by ``.ci/run``): lifecycle through the CLI, passwords kept out of the state and every message,
idempotency, column types, one transaction per call, and roll-forward after a SIGKILL inside
``mutate``. In CI a missing server fails these tests; elsewhere they are skipped."""

from __future__ import annotations

import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from connector_helpers import (
    SAMPLE_FILES,
    assert_rolls_forward,
    expected_rows,
    postgres_url,
    update_killed_inside_mutate,
    write_app,
    write_sources,
)
from psycopg import sql

from cocotui.op import TargetStateCompatibility
from cocotui.testing import (
    AppRunner,
    ConnectorHarness,
    assert_idempotent,
    check_idempotency,
)
from cocotui_connectors.postgres import (
    PostgresTable,
    PostgresTargetError,
    mask_password,
    without_password,
)

IMPORTS = "from cocotui_connectors.postgres import PostgresTable"
URL_ENV = "TEST_PG_URL"


@pytest.fixture
def url() -> str:
    return postgres_url()


@pytest.fixture
def password(url: str) -> str:
    secret = urllib.parse.urlsplit(url).password
    assert secret, "the test server's URL must carry a password (see .ci/run)"
    return urllib.parse.unquote(secret)


@pytest.fixture
def table(url: str) -> Iterator[str]:
    """A fresh table name in ``public`` (and schema ``s_<name>``), dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:10]}"
    yield name
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(f"s_{name}"))
        )


Snapshot = tuple[list[tuple[str, str]], list[str], list[tuple[Any, ...]]] | None


def dump(url: str, table: str, schema: str = "public") -> Snapshot:
    """(columns with types, primary key, rows sorted), or ``None`` without a table."""
    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute(
            "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s",
            (schema, table),
        ).fetchone()
        if found is None:
            return None
        columns = conn.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            (found[0],),
        ).fetchall()
        primary_key = conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY (i.indkey) WHERE i.indrelid = %s AND i.indisprimary "
            "ORDER BY array_position(i.indkey::int2[], a.attnum)",
            (found[0],),
        ).fetchall()
        rows = conn.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(schema, table)))
        return (
            [(str(n), str(t)) for n, t in columns],
            [str(n) for (n,) in primary_key],
            sorted(rows.fetchall(), key=repr),
        )


def table_rows(url: str, table: str) -> dict[Any, dict[str, Any]]:
    found = dump(url, table)
    assert found is not None, f"no table {table}"
    columns, primary_key, rows = found
    names = [n for n, _ in columns]
    result: dict[Any, dict[str, Any]] = {}
    for row in rows:
        record = dict(zip(names, row, strict=True))
        key = tuple(record.pop(k) for k in primary_key)
        result[key[0] if len(key) == 1 else key] = record
    return result


def make_runner(
    tmp_path: Path, url: str, table: str, version: str = "v1", spec: str | None = None
) -> AppRunner:
    source = tmp_path / "source"
    if not source.exists():
        write_sources(source, SAMPLE_FILES)
    types = ", column_types={'length': 'integer'}" if version == "v2" else ""
    app = write_app(
        tmp_path / "app.py",
        imports=IMPORTS,
        spec=spec or f"PostgresTable(url_env={URL_ENV!r}, table={table!r}{types})",
        source=source,
        version=version,
    )
    return AppRunner(app, tmp_path / "state", env={URL_ENV: url})


def test_lifecycle_through_the_cli(tmp_path: Path, url: str, password: str, table: str) -> None:
    source = tmp_path / "source"
    runner = make_runner(tmp_path, url, table)
    host, port = urllib.parse.urlsplit(url).hostname, urllib.parse.urlsplit(url).port
    dbname = urllib.parse.urlsplit(url).path.lstrip("/")

    # create
    (change,) = runner.plan()["changes"]
    assert (change["action"], change["kind"]) == ("create", "PostgresTable")
    assert change["key"] == {
        "host": host,
        "port": str(port),
        "dbname": dbname,
        "schema": "public",
        "table": table,
    }
    assert change["current"]["url"] is None and change["current"]["url_env"] == URL_ENV
    assert change["description"] == (
        f"PostgreSQL table public.{table} in database {dbname} on {host}:{port}"
    )
    runner.apply()
    assert dump(url, table) == ([("filename", "text"), ("content", "jsonb")], ["filename"], [])
    assert runner.update().ok
    assert table_rows(url, table) == expected_rows(source)

    # a new value field with a declared type: `~ update` adding the column
    runner = make_runner(tmp_path, url, table, "v2")
    text = runner.command("plan").expect().stdout
    assert "~ update Docs.docs" in text
    (change,) = runner.plan()["changes"]
    assert (change["action"], change["compatibility"]) == ("update", "partially_compatible")
    runner.apply()
    found = dump(url, table)
    assert found is not None and found[0][-1] == ("length", "integer")
    assert runner.update().ok
    assert table_rows(url, table) == expected_rows(source, "v2")

    # a new primary key: NOT_COMPATIBLE, the table is recreated
    runner = make_runner(tmp_path, url, table, "v3")
    (change,) = runner.plan()["changes"]
    assert (change["action"], change["compatibility"]) == ("update", "not_compatible")
    runner.apply()
    found = dump(url, table)
    assert found is not None and found[1] == ["folder", "name"] and found[2] == []
    assert runner.update().ok
    assert table_rows(url, table) == expected_rows(source, "v3")

    write_sources(source, {"a.txt": "ALPHA", "docs/e.txt": None, "new.txt": "november"})
    assert runner.update().ok
    assert table_rows(url, table) == expected_rows(source, "v3")

    runner.drop()
    assert dump(url, table) is None
    assert password not in runner.state_file.read_text()


def test_a_password_in_the_spec_is_never_stored_or_shown(
    tmp_path: Path, url: str, password: str, table: str
) -> None:
    source = tmp_path / "source"
    runner = make_runner(tmp_path, url, table, spec=f"PostgresTable(url={url!r}, table={table!r})")
    runner.env.pop(URL_ENV)
    outputs = [
        runner.command("plan").expect().stdout,
        runner.command("plan", "--json").expect().stdout,
        runner.command("ls").expect().stdout,
        runner.command("apply", "--yes").expect().stdout,
    ]
    assert runner.update().ok
    assert table_rows(url, table) == expected_rows(source)
    outputs.append(runner.command("ls", "--json").expect().stdout)
    state = runner.state_file.read_text()
    for text in [*outputs, state]:
        assert password not in text
        assert urllib.parse.quote(password, safe="") not in text
    assert without_password(url) in state

    # Dropping an export whose URL is no longer in the app: the stored state has no password,
    # so libpq needs one from the environment; the failure says so without showing secrets.
    write_app(
        tmp_path / "app.py",
        imports=IMPORTS,
        spec=f"PostgresTable(url_env={URL_ENV!r}, table='other_{table}')",
        source=source,
    )
    runner.env[URL_ENV] = url
    failed = runner.command("apply", "--yes", env={"PGPASSWORD": None})
    assert failed.returncode == 1
    assert "password" in failed.stderr.lower() and password not in failed.stderr
    assert password not in runner.state_file.read_text()
    runner.command("apply", "--yes", env={"PGPASSWORD": password}).expect()
    assert dump(url, table) is None
    runner.drop()
    assert dump(url, f"other_{table}") is None


def test_connection_errors_mask_the_password(tmp_path: Path, url: str, table: str) -> None:
    parts = urllib.parse.urlsplit(url)
    wrong = "Wr0ng-pass-phrase"
    bad = urllib.parse.urlunsplit(
        parts._replace(netloc=f"{parts.username}:{wrong}@{parts.hostname}:{parts.port}")
    )
    runner = make_runner(tmp_path, bad, table)
    result = runner.command("apply", "--yes")
    assert result.returncode == 1
    assert "authentication failed" in result.stderr or "password" in result.stderr
    assert wrong not in result.stderr + result.stdout
    assert wrong not in runner.state_file.read_text()
    assert mask_password(f"connect to {bad} failed", bad) == (
        f"connect to {parts.scheme}://{parts.username}:***@{parts.hostname}:{parts.port}"
        f"{parts.path} failed"
    )
    assert mask_password("host=h password='x y' user=u", None) == "host=h password=*** user=u"


def _target(url: str, table: str, values: tuple[str, ...] = ("v",), **spec: Any) -> Any:
    return ConnectorHarness(PostgresTable).target(
        PostgresTable(url=url, table=table, **spec), ["id"], list(values)
    )


def test_every_method_is_idempotent(url: str, table: str) -> None:
    target = _target(url, table, column_types={"v": "integer"})

    def snapshot() -> Snapshot:
        return dump(url, table)

    check_idempotency(target, {"a": {"v": 1}, "b": {"v": None}}, snapshot, missing_key="zz")

    target.create()
    target.upsert({"a": {"v": 1}})
    wider = target.changed(value_fields=["v", "w"])
    assert target.compatibility_of(wider) is TargetStateCompatibility.PARTIALLY_COMPATIBLE
    after = assert_idempotent(lambda: target.change_to(wider), snapshot, label="add a column")
    assert after == ([("id", "text"), ("v", "integer"), ("w", "jsonb")], ["id"], [("a", 1, None)])

    retyped = wider.changed(
        PostgresTable(url=url, table=table, column_types={"v": "int8", "w": "jsonb"})
    )
    assert wider.compatibility_of(retyped) is TargetStateCompatibility.PARTIALLY_COMPATIBLE
    after = assert_idempotent(lambda: wider.change_to(retyped), snapshot, label="new type")
    assert after == ([("id", "text"), ("v", "bigint"), ("w", "jsonb")], ["id"], [("a", None, None)])
    # The same type spelled differently is no change at all.
    same = retyped.changed(
        PostgresTable(url=url, table=table, column_types={"v": "BIGINT", "w": "jsonb"})
    )
    retyped.upsert({"a": {"v": 5, "w": {"x": 1}}})
    assert_idempotent(lambda: retyped.change_to(same), snapshot, label="same type")
    assert table_rows(url, table) == {"a": {"v": 5, "w": {"x": 1}}}

    narrower = same.changed(
        PostgresTable(url=url, table=table, column_types={"v": "integer"}), value_fields=["v"]
    )
    after = assert_idempotent(lambda: same.change_to(narrower), snapshot, label="drop a column")
    assert after == ([("id", "text"), ("v", "integer")], ["id"], [("a", None)])

    rekeyed = narrower.changed(key_fields=["id", "n"], value_fields=["v"])
    assert narrower.compatibility_of(rekeyed) is TargetStateCompatibility.NOT_COMPATIBLE
    after = assert_idempotent(lambda: narrower.change_to(rekeyed), snapshot, label="new key")
    assert after is not None and after[1] == ["id", "n"] and after[2] == []
    rekeyed.drop()


def test_values_keys_and_column_types(url: str, table: str) -> None:
    target = _target(
        url, table, ("doc", "raw", "tags"), column_types={"raw": "bytea", "tags": "text[]"}
    )
    target.create()
    target.upsert(
        {
            "a": {"doc": {"title": "A", "n": [1, 2.5, None]}, "raw": b"\x00\x01", "tags": ["x"]},
            "b": {"doc": "plain text", "raw": None, "tags": []},
            "c": {"doc": 3, "raw": b"", "tags": None},
        }
    )
    assert table_rows(url, table) == {
        "a": {"doc": {"title": "A", "n": [1, 2.5, None]}, "raw": b"\x00\x01", "tags": ["x"]},
        "b": {"doc": "plain text", "raw": None, "tags": []},
        "c": {"doc": 3, "raw": b"", "tags": None},
    }
    with pytest.raises(PostgresTargetError, match="key field 'id' is int"):
        target.upsert({5: {"doc": 1, "raw": None, "tags": None}})
    with pytest.raises(PostgresTargetError, match="bytea"):
        target.upsert({"d": {"doc": b"bytes", "raw": None, "tags": None}})
    # One transaction per call: nothing of the failed calls was written.
    assert sorted(table_rows(url, table)) == ["a", "b", "c"]
    target.drop()

    numbered = ConnectorHarness(PostgresTable).target(
        PostgresTable(url=url, table=table, column_types={"id": "bigint", "seq": "integer"}),
        ["id", "seq"],
        ["v"],
    )
    numbered.create()
    numbered.upsert({(1, 1): {"v": "x"}, (1, 2): {"v": "y"}})
    numbered.delete((1, 1), (9, 9))
    assert table_rows(url, table) == {(1, 2): {"v": "y"}}
    numbered.drop()


def test_hostile_names_are_quoted_and_the_schema_is_created(url: str, table: str) -> None:
    schema = f"s_{table}"
    name = 'x"; DROP TABLE victims; --'
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (a int)")  # the "victim"
    target = ConnectorHarness(PostgresTable).target(
        PostgresTable(url=url, table=name, schema=schema), ['k"ey'], ["va lue", "select"]
    )
    check_idempotency(
        target,
        {"a": {"va lue": 1, "select": [2]}},
        lambda: dump(url, name, schema),
        missing_key="z",
    )
    target.create()
    target.upsert({"a": {"va lue": 1, "select": [2]}})
    found = dump(url, name, schema)
    assert found == (
        [('k"ey', "text"), ("va lue", "jsonb"), ("select", "jsonb")],
        ['k"ey'],
        [("a", 1, [2])],
    )
    assert dump(url, table) is not None
    with pytest.raises(PostgresTargetError, match="longer than 63 bytes"):
        ConnectorHarness(PostgresTable).persistent_key(PostgresTable(url=url, table="x" * 64))
    with pytest.raises(PostgresTargetError, match="not an SQL type"):
        _target(url, table, column_types={"v": "int; DROP TABLE victims"})


def test_prepare_connects_once_and_mutate_reuses_the_connection(
    url: str, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _target(url, table)
    target.create()
    connects: list[str] = []
    real = psycopg.connect

    def counting(*args: Any, **kwargs: Any) -> Any:
        connects.append("connect")
        return real(*args, **kwargs)

    monkeypatch.setattr(psycopg, "connect", counting)
    from cocotui_connectors.postgres_common import close_connections

    close_connections()
    target.upsert({"a": {"v": 1}})
    target.upsert({"b": {"v": 2}})
    target.delete("a")
    assert connects == ["connect"]
    assert table_rows(url, table) == {"b": {"v": 2}}
    target.drop()


def test_url_env_pointing_at_another_database_is_refused(
    url: str, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(URL_ENV, url)
    target = ConnectorHarness(PostgresTable).target(
        PostgresTable(url_env=URL_ENV, table=table), ["id"], ["v"]
    )
    target.create()
    parts = urllib.parse.urlsplit(url)
    monkeypatch.setenv(URL_ENV, urllib.parse.urlunsplit(parts._replace(path="/elsewhere")))
    with pytest.raises(PostgresTargetError, match=r"points at .*/elsewhere"):
        target.drop()
    monkeypatch.setenv(URL_ENV, url)
    target.drop()
    monkeypatch.delenv(URL_ENV)
    with pytest.raises(PostgresTargetError, match=f"{URL_ENV} .* is not set"):
        target.drop()


@pytest.mark.parametrize("kill", ["mutate:rows=3", "mutate:before", "mutate:after"])
def test_a_run_killed_inside_mutate_rolls_forward(
    tmp_path: Path, url: str, table: str, kill: str
) -> None:
    source = tmp_path / "source"
    runner = make_runner(tmp_path, url, table)
    runner.apply()
    assert runner.update().ok
    update_killed_inside_mutate(runner, source, kill, tmp_path / "calls.jsonl")
    assert table_rows(url, table) != expected_rows(source)

    def assert_equal_to_source() -> None:
        assert table_rows(url, table) == expected_rows(source)

    assert_rolls_forward(runner, assert_equal_to_source)
    runner.drop()
    assert dump(url, table) is None


def test_passwords_are_removed_and_masked_without_a_server() -> None:
    url = "postgresql://me:p%40ss@db.example:6543/app?sslmode=require&password=other"
    assert without_password(url) == "postgresql://me@db.example:6543/app?sslmode=require"
    assert without_password("postgresql://me@h/db") == "postgresql://me@h/db"
    assert "secret" not in without_password("host=h dbname=d user=u password=secret")
    text = mask_password(f"could not connect with {url} (p@ss)", url)
    assert "p%40ss" not in text and "p@ss" not in text and "other" not in text
    with pytest.raises(PostgresTargetError, match="exactly one of url= and url_env="):
        ConnectorHarness(PostgresTable).persistent_key(PostgresTable(table="t"))
    with pytest.raises(PostgresTargetError) as raised:
        ConnectorHarness(PostgresTable).persistent_key(
            PostgresTable(table="t", url="postgresql://u:hunter2@[h/db")
        )
    assert "hunter2" not in str(raised.value)
    assert "postgresql://u:***@[h/db" in str(raised.value)
