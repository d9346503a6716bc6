"""A tiny in-memory JSON store for the HTTP example (standard library only; not for
production). Run ``python examples/http_server.py [PORT]`` (default 8000, on 127.0.0.1).

    PUT    /collections/<name>      create or update a collection (body: its description)
    DELETE /collections/<name>      remove it and its items (404 when missing)
    PUT    /<name>/<key>            store an item (the JSON body)
    DELETE /<name>/<key>            remove it (404 when missing)
    POST   /<name>:batch            {"upsert": [{"key", "value"}], "delete": [keys]}
    GET    /<name>                  every item of the collection, as one JSON object

When ``EXAMPLE_HTTP_TOKEN`` is set, requests must carry it as their Authorization header.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Store:
    def __init__(self) -> None:
        self.collections: dict[str, Any] = {}
        self.items: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()


def _key(key: Any) -> str:
    """An item's name: the key, or the parts of a composite key joined by ``/``."""
    return "/".join(str(part) for part in key) if isinstance(key, list) else str(key)


def make_server(port: int = 8000, store: Store | None = None) -> ThreadingHTTPServer:
    """The server, bound to 127.0.0.1:``port`` (0: any free port); call serve_forever()."""
    data = store or Store()
    token = os.environ.get("EXAMPLE_HTTP_TOKEN")

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, body: Any = None) -> None:
            payload = b"" if body is None else json.dumps(body, indent=2).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _handle(self) -> None:
            if token and self.headers.get("Authorization") != token:
                return self._reply(401, {"error": "bad or missing Authorization header"})
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            parts = [urllib.parse.unquote(p) for p in self.path.strip("/").split("/")]
            with data.lock:
                self._reply(*self._route(self.command, parts, body))

        def _route(self, method: str, parts: list[str], body: Any) -> tuple[int, Any]:
            if len(parts) == 2 and parts[0] == "collections":
                name = parts[1]
                if method == "PUT":
                    data.collections[name] = body
                    data.items.setdefault(name, {})
                    return 204, None
                if method == "DELETE":
                    data.items.pop(name, None)
                    return (
                        (204, None) if data.collections.pop(name, None) is not None else (404, None)
                    )
            if len(parts) == 1 and parts[0].endswith(":batch") and method == "POST":
                items = data.items.setdefault(parts[0].removesuffix(":batch"), {})
                for row in body.get("upsert", []):
                    items[_key(row["key"])] = row["value"]
                for key in body.get("delete", []):
                    items.pop(_key(key), None)
                return 200, {"ok": True}
            if len(parts) == 1 and method == "GET":
                return 200, data.items.get(parts[0], {})
            if len(parts) >= 2:
                items = data.items.setdefault(parts[0], {})
                key = "/".join(parts[1:])
                if method == "PUT":
                    items[key] = body
                    return 204, None
                if method == "DELETE":
                    return (204, None) if items.pop(key, None) is not None else (404, None)
            return 404, {"error": f"no route for {method} {self.path}"}

        do_GET = do_PUT = do_DELETE = do_POST = _handle

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)


if __name__ == "__main__":
    server = make_server(int(sys.argv[1]) if len(sys.argv) > 1 else 8000)
    print(f"serving on http://127.0.0.1:{server.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
