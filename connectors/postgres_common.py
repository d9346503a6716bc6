"""What the PostgreSQL connectors share (``PostgresTable`` and v0's ``targets.Postgres``): the
driver, URLs without passwords and masked messages, one connection per URL for a process's runs,
catalog reads, and JSON encoding of values."""

from __future__ import annotations

import atexit
import functools
import json
import os
import re
import threading
import urllib.parse
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .json_values import json_default

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql


class PostgresTargetError(RuntimeError):
    """A spec, row or server error; its message never contains a password."""


_MAX_IDENTIFIER_BYTES = 63  # longer names are silently truncated by PostgreSQL


def psycopg_driver() -> ModuleType:
    try:
        import psycopg as driver
    except ImportError:  # pragma: no cover - depends on the installation
        raise PostgresTargetError(
            "PostgreSQL targets need psycopg 3: pip install 'cocotui[postgres]'"
        ) from None
    return driver


def mask_password(text: str, url: str | None) -> str:
    """``text`` with the password of ``url`` (as written, and URL-decoded) replaced by ``***``,
    and any ``scheme://user:password@`` or ``password=...`` in it masked too."""
    for secret in _passwords(url):
        text = text.replace(secret, "***")
    text = re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)", r"\1***", text)


#: libpq parameters that are secrets: the password, the client key's passphrase, an OAuth
#: client secret. None is stored in the state; this process keeps them in memory only.
_SECRET_PARAMS = frozenset({"password", "sslpassword", "oauth_client_secret"})
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<netloc>[^/?#]*)(?P<rest>.*)$", re.S)
_PASSWORD_PARAM = re.compile(r"password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&]+)")


def _passwords(url: str | None) -> list[str]:
    """Every spelling of the password(s) in ``url``, longest first."""
    if not url:
        return []
    found = set()
    match = _URL.match(url)
    if match and "@" in match["netloc"]:
        userinfo = match["netloc"].rpartition("@")[0]
        if ":" in userinfo:
            found.add(userinfo.partition(":")[2])
    for param in _PASSWORD_PARAM.finditer(url):
        found.add(param.group(1).strip("'"))
    found |= {urllib.parse.unquote(p) for p in found}
    return sorted((p for p in found if p), key=len, reverse=True)


def parse_url(url: str) -> dict[str, str]:
    """The connection parameters of ``url`` (checked by libpq), errors masked."""
    driver = psycopg_driver()
    try:
        params: dict[str, Any] = driver.conninfo.conninfo_to_dict(url)
    except driver.Error as exc:
        raise PostgresTargetError(
            f"invalid PostgreSQL URL {mask_password(url, url)}: {mask_password(str(exc), url)}"
        ) from None
    if _URL.match(url) and "@" in str(params.get("host") or ""):
        # libpq ends the password at its first '@' and takes the rest for the host name:
        # the tail of the password would become part of the persistent key and of messages.
        raise PostgresTargetError(
            "invalid PostgreSQL URL: its user name or password contains an '@'; write it as "
            "%40 (the URL is not shown: it holds a password)"
        )
    return {k: str(v) for k, v in params.items() if v is not None}


def without_password(url: str) -> str:
    """``url`` without its secrets (``password``, ``sslpassword``...); user, host, options and
    the form are kept."""
    params = parse_url(url)
    if not _SECRET_PARAMS & params.keys():
        return url
    match = _URL.match(url)
    if match is not None:
        netloc = match["netloc"]
        if "@" in netloc:
            userinfo, _, hosts = netloc.rpartition("@")
            user = userinfo.partition(":")[0]
            netloc = f"{user}@{hosts}" if user else hosts
        path, _, query = match["rest"].partition("?")
        kept = [
            item
            for item in query.split("&")
            if item and urllib.parse.unquote(item.partition("=")[0]) not in _SECRET_PARAMS
        ]
        query = "&".join(kept)
        return f"{match['scheme']}{netloc}{path}{'?' if query else ''}{query}"
    return str(
        psycopg_driver().conninfo.make_conninfo(
            **{k: v for k, v in params.items() if k not in _SECRET_PARAMS}
        )
    )


def location(url: str) -> tuple[str, str, str]:
    """(host, port, dbname) as libpq resolves them, defaults included."""
    params = parse_url(url)
    host = params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST") or "localhost"
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    user = params.get("user") or os.environ.get("PGUSER") or ""
    dbname = params.get("dbname") or os.environ.get("PGDATABASE") or user
    return host, port, dbname


def check_identifier(what: str, name: str) -> None:
    if not isinstance(name, str) or not name:
        raise PostgresTargetError(f"{what} must be a non-empty string, got {name!r}")
    if "\x00" in name:
        raise PostgresTargetError(f"{what} {name!r} contains a NUL character")
    if len(name.encode("utf-8")) > _MAX_IDENTIFIER_BYTES:
        raise PostgresTargetError(
            f"{what} {name!r} is longer than {_MAX_IDENTIFIER_BYTES} bytes; PostgreSQL would "
            f"truncate it"
        )


json_dumps = functools.partial(json.dumps, default=json_default, ensure_ascii=False)


@contextmanager
def masked_errors(url: str) -> Iterator[None]:
    """Re-raise driver errors with any password masked (and without the original chained)."""
    driver = psycopg_driver()
    try:
        yield
    except driver.Error as exc:
        message = mask_password(f"{type(exc).__name__}: {exc}".strip(), url)
        raise PostgresTargetError(message) from None


def connect(url: str) -> psycopg.Connection[Any]:
    driver = psycopg_driver()
    with masked_errors(url):
        conn: psycopg.Connection[Any] = driver.connect(url, autocommit=True)
    return conn


_connections: dict[str, psycopg.Connection[Any]] = {}
_connections_lock = threading.Lock()


def shared_connection(url: str) -> psycopg.Connection[Any]:
    """One connection per URL for the process's runs, opened again if it was lost."""
    with _connections_lock:
        conn = _connections.get(url)
        if conn is None or conn.closed or conn.broken:
            conn = _connections[url] = connect(url)
        return conn


@atexit.register
def close_connections() -> None:
    with _connections_lock:
        for conn in _connections.values():
            conn.close()
        _connections.clear()


def table_identifier(schema: str, table: str) -> sql.Identifier:
    from psycopg import sql

    return sql.Identifier(schema, table)


def column_list(columns: Iterable[str]) -> sql.Composed:
    from psycopg import sql

    return sql.SQL(", ").join(sql.Identifier(c) for c in columns)


def catalog_columns(
    conn: psycopg.Connection[Any], schema: str, table: str
) -> tuple[dict[str, str], list[str]] | None:
    """(column -> type as PostgreSQL spells it, primary key columns in order), or ``None``."""
    found = conn.execute(
        "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')",
        (schema, table),
    ).fetchone()
    if found is None:
        return None
    oid = found[0]
    columns = conn.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        (oid,),
    ).fetchall()
    primary_key = conn.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
        "ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) "
        "WHERE i.indrelid = %s AND i.indisprimary "
        "ORDER BY array_position(i.indkey::int2[], a.attnum)",
        (oid,),
    ).fetchall()
    return {str(n): str(t) for n, t in columns}, [str(n) for (n,) in primary_key]


def canonical_types(conn: psycopg.Connection[Any], types: dict[str, str]) -> dict[str, str]:
    """The declared types as PostgreSQL spells them (``int8`` -> ``bigint``), read from a
    temporary table inside the current transaction."""
    from psycopg import sql

    names = list(types)
    conn.execute(
        sql.SQL("CREATE TEMPORARY TABLE pg_temp.cocotui_types ({}) ON COMMIT DROP").format(
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(f"c{i}"), sql.SQL(types[name]))
                for i, name in enumerate(names)
            )
        )
    )
    rows = conn.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'pg_temp.cocotui_types'::regclass AND attnum > 0 ORDER BY attnum"
    ).fetchall()
    conn.execute("DROP TABLE pg_temp.cocotui_types")
    return {name: str(t) for name, (t,) in zip(names, rows, strict=True)}
