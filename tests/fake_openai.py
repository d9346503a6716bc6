"""A fake OpenAI-compatible server on 127.0.0.1 (chat completions, embeddings) for the tests of
``EmbedText`` and ``ExtractByLlm``: it records every request and answers from a list of
:data:`Answer` functions. Used as a context manager, which starts and stops it."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

#: What the fake answers a request: (HTTP status, JSON body), from (path, request body).
Answer = Callable[[str, dict[str, Any]], tuple[int, dict[str, Any]]]

#: The chat answer of :meth:`FakeApi.echo`: an invoice, as ``test_functions_llm.Invoice``.
CANNED = {
    "customer": "ACME",
    "items": [{"name": "bolt", "quantity": 3, "price": 2}],
    "note": None,
}


@dataclasses.dataclass
class Request:
    path: str
    body: dict[str, Any]
    authorization: str


class FakeApi:
    """An OpenAI-compatible server on a free port of 127.0.0.1, answering from ``answers``
    (one per request, in order; the last one is repeated); ``with FakeApi() as api:`` serves
    within the block."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.answers: list[Answer] = [self.echo]
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                path = self.path.removeprefix("/v1")
                api.requests.append(Request(path, body, self.headers.get("Authorization", "")))
                answer = api.answers[min(len(api.requests) - 1, len(api.answers) - 1)]
                status, payload = answer(path, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("retry-after-ms", "1")  # the client's backoff, kept short
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.timeout = 10
        self.address = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeApi:
        self.thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    @staticmethod
    def echo(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Embeddings: ``[len(text), number of words]``; chat: ``CANNED`` as the answer."""
        if path == "/embeddings":
            data = [
                {"object": "embedding", "index": i, "embedding": [len(t), len(t.split())]}
                for i, t in enumerate(body["input"])
            ]
            usage = {"prompt_tokens": 1, "total_tokens": 1}
            return 200, {"object": "list", "data": data, "model": body["model"], "usage": usage}
        return 200, chat_answer(body["model"], CANNED)

    def of(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]


def chat_answer(model: str, content: Any) -> dict[str, Any]:
    text = content if isinstance(content, str) else json.dumps(content)
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def status(code: int) -> Answer:
    """An error answer with HTTP status ``code``."""
    return lambda path, body: (code, {"error": {"message": f"status {code}", "type": "x"}})
