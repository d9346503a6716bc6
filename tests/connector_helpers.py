"""Helpers for the first-party connector tests (``test_connector_*.py``): apps over
``LocalFile`` that export to one connector, source directories, the rows a target must hold to
equal its source, a local HTTP service, and the PostgreSQL server CI provides."""

from __future__ import annotations

import dataclasses
import json
import os
import textwrap
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from cocotui.testing import AppRunner, read_call_log

POSTGRES_URL_ENV = "COCOTUI_TEST_POSTGRES_URL"

#: What each file of a source directory becomes, per app version.
COLLECT = {
    # key: filename; values: content
    "v1": 'filename=f["filename"], content=f["content"]',
    # a new value field
    "v2": 'filename=f["filename"], content=f["content"], length=f["content"].transform(length)',
    # a new primary key: (folder, name)
    "v3": (
        'folder=f["filename"].transform(folder), name=f["filename"].transform(name), '
        'content=f["content"]'
    ),
}
KEYS = {"v1": ["filename"], "v2": ["filename"], "v3": ["folder", "name"]}

APP = """\
import cocotui as cocoindex
{imports}


@cocoindex.op.function()
def length(text: str) -> int:
    return len(text)


@cocoindex.op.function()
def folder(filename: str) -> str:
    return filename.rpartition("/")[0]


@cocoindex.op.function()
def name(filename: str) -> str:
    return filename.rpartition("/")[2]


@cocoindex.flow_def(name="Docs")
def docs_flow(flow_builder, data_scope):
    data_scope["files"] = flow_builder.add_source(cocoindex.sources.LocalFile(path={source!r}))
    out = data_scope.add_collector()
    with data_scope["files"].row() as f:
        out.collect({collect})
    out.export("docs", {spec}, primary_key_fields={keys!r})
"""


def write_app(path: Path, *, imports: str, spec: str, source: Path, version: str = "v1") -> Path:
    """An app with one flow ``Docs`` exporting every file of ``source`` to ``spec``; ``version``
    picks the collected fields (see :data:`COLLECT`)."""
    path.write_text(
        APP.format(
            imports=textwrap.dedent(imports).strip(),
            source=str(source),
            collect=COLLECT[version],
            spec=spec,
            keys=KEYS[version],
        )
    )
    return path


def write_sources(source: Path, files: Mapping[str, str | None]) -> None:
    """Write (or, for ``None``, delete) files under ``source``."""
    for name, content in files.items():
        path = source / name
        if content is None:
            path.unlink(missing_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)


#: What changes under a crash test's source after its first update: an edit, a delete, an edit
#: in a folder and two new files (with ``--batch-rows 2``, more than one ``mutate`` call).
CRASH_CHANGES: dict[str, str | None] = {
    "a.txt": "ALPHA",
    "b.txt": None,
    "docs/e.txt": "ECHO",
    "g.txt": "golf",
    "h.txt": "hotel",
}


def update_killed_inside_mutate(runner: AppRunner, source: Path, kill: str, log: Path) -> None:
    """Make :data:`CRASH_CHANGES` under ``source``, then an update in batches of two rows that
    is SIGKILLed at ``kill`` (``mutate:...``), the last call logged to ``log`` being ``mutate``."""
    write_sources(source, CRASH_CHANGES)
    killed = runner.update("--batch-rows", "2", kill=kill, record=log)
    assert killed.killed, killed.result.stderr
    assert read_call_log(log)[-1]["method"] == "mutate"


def assert_rolls_forward(runner: AppRunner, assert_equal_to_source: Callable[[], None]) -> None:
    """The next update succeeds and leaves the target equal to its source; the one after it
    has nothing left to send."""
    again = runner.update()
    assert again.ok, again.result.stderr
    assert_equal_to_source()
    assert runner.update().mutations == 0
    assert_equal_to_source()


def source_files(source: Path) -> dict[str, str]:
    return {
        p.relative_to(source).as_posix(): p.read_text()
        for p in sorted(source.rglob("*"))
        if p.is_file()
    }


def expected_rows(source: Path, version: str = "v1") -> dict[Any, dict[str, Any]]:
    """What a target must hold to equal ``source``: key -> value fields, per app version."""
    rows: dict[Any, dict[str, Any]] = {}
    for filename, content in source_files(source).items():
        if version == "v1":
            rows[filename] = {"content": content}
        elif version == "v2":
            rows[filename] = {"content": content, "length": len(content)}
        else:
            folder, _, name = filename.rpartition("/")
            rows[(folder, name)] = {"content": content}
    return rows


SAMPLE_FILES = {
    "a.txt": "alpha",
    "b.txt": "bravo",
    "c.txt": "charlie",
    "docs/d.txt": "delta",
    "docs/e.txt": "echo",
    "docs/f.txt": "foxtrot",
}


# ---------------------------------------------------------------------------------------------
# PostgreSQL


def postgres_url() -> str:
    """The test server's URL; without it the test fails in CI and is skipped elsewhere."""
    url = os.environ.get(POSTGRES_URL_ENV)
    if url:
        return url
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(
            f"{POSTGRES_URL_ENV} is not set but CI is: .ci/run must start PostgreSQL and "
            f"export it; PostgreSQL tests may not be skipped in CI",
            pytrace=False,
        )
    pytest.skip(
        f"no PostgreSQL server: set {POSTGRES_URL_ENV} (e.g. postgresql://user:pw@127.0.0.1:5432"
        f"/db) to run these tests; .ci/run starts one"
    )


# ---------------------------------------------------------------------------------------------
# A local HTTP service


@dataclasses.dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class HttpService:
    """A JSON key-value service on 127.0.0.1 (port 0), for the HTTP connector's tests.

    ``PUT /items/<key>`` stores the body, ``DELETE /items/<key>`` removes it (404 when missing),
    ``POST /batch`` applies ``{"upsert": [{"key", "value"}], "delete": [keys]}``, ``PUT`` and
    ``DELETE /provision`` create and remove the collection (with its items).
    ``script[(method, path)]`` is a list of statuses to answer first (one per request; e.g.
    ``[503]`` then success); ``always`` maps a ``(method, path)`` to a status answered every
    time.
    """

    def __init__(self) -> None:
        self.items: dict[str, Any] = {}
        self.provisioned: Any = None
        self.requests: list[Request] = []
        self.script: dict[tuple[str, str], list[int]] = {}
        self.always: dict[tuple[str, str], int] = {}
        self.retry_after = "0"
        self.lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: Any = None) -> None:
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                if status in (429, 503):
                    self.send_header("Retry-After", service.retry_after)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                path = urllib.parse.unquote(self.path)
                with service.lock:
                    service.requests.append(
                        Request(self.command, path, dict(self.headers.items()), body)
                    )
                    status = service._status(self.command, path, body)
                self._answer(status)

            do_PUT = do_DELETE = do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def _status(self, method: str, path: str, body: Any) -> int:
        queued = self.script.get((method, path))
        if queued:
            return queued.pop(0)
        if (method, path) in self.always:
            return self.always[(method, path)]
        if path.startswith("/items/"):
            key = path.removeprefix("/items/")
            if method == "PUT":
                self.items[key] = body
                return 204
            if method == "DELETE":
                return 204 if self.items.pop(key, None) is not None else 404
        if path == "/batch" and method == "POST":
            for row in body.get("upsert", []):
                self.items[key_path(row["key"])] = row["value"]
            for key in body.get("delete", []):
                self.items.pop(key_path(key), None)
            return 200
        if path == "/provision":
            if method == "PUT":
                self.provisioned = body
                return 204
            if method == "DELETE":  # the collection goes, with its items
                existed = self.provisioned is not None
                self.provisioned = None
                self.items.clear()
                return 204 if existed else 404
        return 405

    def of(self, method: str, prefix: str = "") -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.method == method and r.path.startswith(prefix)]

    def start(self) -> HttpService:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def key_path(key: Any) -> str:
    """A key as the per-row URL path spells it: parts of a composite key joined by ``/``."""
    return "/".join(str(part) for part in key) if isinstance(key, list) else str(key)


@contextmanager
def http_service() -> Iterator[HttpService]:
    service = HttpService().start()
    try:
        yield service
    finally:
        service.stop()
