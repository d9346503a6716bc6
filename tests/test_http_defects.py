"""Issue 15's HTTP connector defects, each against a local server on 127.0.0.1: a redirected
batch POST counted as success (and Authorization sent to another origin), a timeout that a
trickling server stretches, retries multiplied while the engine narrows a failing batch, keys
that servers normalise into another path, and a data-path setting that blocked ``update``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from connector_helpers import SAMPLE_FILES, HttpService, http_service, write_app, write_sources

from cocotui.testing import AppRunner, ConnectorHarness
from cocotui_connectors.http import HttpClient, HttpEndpoint, HttpStatusError, HttpTargetError

TOKEN = "Bearer t0ken-s3cret"
IMPORTS = "from cocotui_connectors.http import HttpEndpoint"


@pytest.fixture
def service() -> Iterator[HttpService]:
    with http_service() as running:
        yield running


def runner_for(tmp_path: Path, **fields: Any) -> AppRunner:
    source = tmp_path / "source"
    if not source.exists():
        write_sources(source, SAMPLE_FILES)
    fields = {"headers_env": {"Authorization": "TEST_TOKEN"}, "backoff": 0.01, **fields}
    spec = "HttpEndpoint(" + ", ".join(f"{k}={v!r}" for k, v in fields.items()) + ")"
    app = write_app(tmp_path / "app.py", imports=IMPORTS, spec=spec, source=source)
    return AppRunner(app, tmp_path / "state", env={"TEST_TOKEN": TOKEN})


class Recorder:
    """A server answering every request with ``status`` (and ``headers``), recording what
    arrived: (method, path, headers); ``before_answer`` runs first."""

    def __init__(
        self,
        status: int = 200,
        headers: dict[str, str] | None = None,
        before_answer: Callable[[], None] = lambda: None,
    ) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recorder.requests.append((self.command, self.path, dict(self.headers.items())))
                before_answer()
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_PUT = do_POST = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def landing() -> Iterator[Recorder]:
    """Another origin (another port) that a redirect points at."""
    recorder = Recorder(200)
    yield recorder
    recorder.close()


# ---------------------------------------------------------------------------------------------
# Item 1: a redirect is not success, and credentials never follow it


def test_a_redirected_batch_post_fails_its_rows(tmp_path: Path, landing: Recorder) -> None:
    redirecting = Recorder(302, {"Location": f"{landing.url}/landing?token=abc"})
    try:
        runner = runner_for(
            tmp_path, base_url=f"{redirecting.url}/items", batch_endpoint="/batch", max_attempts=2
        )
        runner.apply()
        for _ in range(2):  # not "added" and then "unchanged": failed on every run
            outcome = runner.update()
            assert outcome.returncode == 1
            assert outcome.counters("Docs.docs")["errors"] == len(SAMPLE_FILES)
            error = outcome.failed_rows[0]["error"]
            assert "HTTP 302" in error and f"{landing.url}/landing" in error
            assert "token=abc" not in error
    finally:
        redirecting.close()
    assert landing.requests == []  # neither the rows nor the Authorization header went there
    assert {method for method, _, _ in redirecting.requests} == {"POST"}  # never a GET


def test_a_redirected_put_sends_no_header_to_the_other_origin(landing: Recorder) -> None:
    redirecting = Recorder(307, {"Location": f"{landing.url}/elsewhere"})
    try:
        client = HttpClient({"Authorization": TOKEN, "X-Api-Key": "k3y"}, sleep=lambda _: None)
        with pytest.raises(HttpStatusError, match=r"row 'a'.*HTTP 307.*redirected") as caught:
            client.request("PUT", f"{redirecting.url}/items/a", b"{}", what="row 'a'")
        assert caught.value.status == 307
    finally:
        redirecting.close()
    assert landing.requests == []


def test_environment_proxies_are_still_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """What urllib did, kept by the move to httpcore: ``http_proxy`` and ``no_proxy``."""
    proxy = Recorder(204)
    try:
        monkeypatch.setenv("http_proxy", proxy.url.replace("http://", "http://me:p%40ss@"))
        monkeypatch.setenv("no_proxy", "bypassed.invalid")
        client = HttpClient({}, max_attempts=1)
        assert client.request("PUT", "http://target.invalid/items/a", b"{}", what="row") == 204
        with pytest.raises(HttpTargetError, match="ConnectError"):
            client.request("PUT", "http://bypassed.invalid/items/a", b"{}", what="row")
    finally:
        proxy.close()
    ((method, target, headers),) = proxy.requests
    assert (method, target) == ("PUT", "http://target.invalid/items/a")
    assert headers["Proxy-Authorization"] == "Basic bWU6cEBzcw=="  # me:p@ss


# ---------------------------------------------------------------------------------------------
# Item 9: a total timeout per request, and a retry budget per target and run


class Trickler:
    """Answers one request with a valid response sent one byte every ``interval`` seconds
    (about ``len(RESPONSE) * interval`` in all), stopping early when the client hangs up."""

    RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n" + b"x" * 40

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.sent = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(30)  # the server ends by itself, even if no client comes
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    @property
    def completed(self) -> bool:
        return self.sent == len(self.RESPONSE)

    def _serve(self) -> None:
        try:
            connection, _ = self.listener.accept()
        except TimeoutError:
            return
        with connection:
            connection.recv(65536)
            try:
                for byte in self.RESPONSE:
                    connection.sendall(bytes([byte]))
                    self.sent += 1
                    time.sleep(self.interval)
            except OSError:
                pass  # the client hung up: what a total timeout does
        self.listener.close()


def test_the_timeout_bounds_the_whole_request() -> None:
    trickler = Trickler()
    client = HttpClient({}, timeout=0.5, max_attempts=1)
    with pytest.raises(HttpTargetError, match=r"within the 0.5 s timeout"):
        client.request("PUT", f"{trickler.url}/items/a", b"{}", what="row 'a'")
    trickler.thread.join(timeout=30)
    # The client gave up while the server was still trickling: each byte came in well under the
    # timeout, so only a deadline over the whole request could stop it.
    assert not trickler.completed
    assert 0 < trickler.sent < len(Trickler.RESPONSE)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_endpoint_known_down_fails_later_requests_at_once() -> None:
    sleeps: list[float] = []
    client = HttpClient({}, max_attempts=3, backoff=0.1, sleep=sleeps.append)
    url = f"http://127.0.0.1:{closed_port()}/items"
    with pytest.raises(HttpTargetError, match="after 3 attempt"):
        client.request("PUT", f"{url}/a", b"{}", what="row 'a'")
    assert sleeps == [0.1, 0.2]
    with pytest.raises(HttpTargetError, match=r"row 'b' not sent: the endpoint failed earlier"):
        client.request("PUT", f"{url}/b", b"{}", what="row 'b'")
    assert sleeps == [0.1, 0.2]  # no retry, no wait


def test_narrowing_a_failing_batch_does_not_multiply_retries(
    tmp_path: Path, service: HttpService
) -> None:
    service.always[("POST", "/batch")] = 503
    runner = runner_for(
        tmp_path, base_url=f"{service.url}/items", batch_endpoint="../batch", max_attempts=3
    )
    runner.apply()
    outcome = runner.update()
    assert outcome.counters("Docs.docs")["errors"] == len(SAMPLE_FILES)
    # One batch exhausted its 3 attempts; the engine's narrowing calls (2N-2 more) sent nothing.
    assert len(service.of("POST", "/batch")) == 3
    assert sum("not sent" in row["error"] for row in outcome.failed_rows) == len(SAMPLE_FILES)

    # The rows are retried on the next run, and go through once the service is back.
    del service.always[("POST", "/batch")]
    assert runner.update().ok
    assert len(service.items) == len(SAMPLE_FILES)


def test_a_row_the_service_cannot_take_does_not_stop_the_others(
    tmp_path: Path, service: HttpService
) -> None:
    service.always[("PUT", "/items/b.txt")] = 500
    runner = runner_for(tmp_path, base_url=f"{service.url}/items", max_attempts=3)
    runner.apply()
    outcome = runner.update()
    assert [row["row"] for row in outcome.failed_rows] == ["b.txt"]
    assert len(service.items) == len(SAMPLE_FILES) - 1
    # Its own 3 attempts, then one per step of the engine's halving (6 rows: 3 steps), instead
    # of 3 attempts at every step.
    assert len(service.of("PUT", "/items/b.txt")) == 3 + 3


class Gate:
    """Holds the first request until ``release`` is set."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> None:
        if not self.arrived.is_set():
            self.arrived.set()
            self.release.wait(timeout=60)


def test_ctrl_c_stops_without_narrowing_the_failing_batch(tmp_path: Path) -> None:
    gate = Gate()
    failing = Recorder(500, before_answer=gate)
    try:
        runner = runner_for(
            tmp_path, base_url=f"{failing.url}/items", batch_endpoint="/batch", max_attempts=3
        )
        runner.apply()
        command = ["update", runner.app, "--state-dir", runner.state_dir]
        update = subprocess.Popen(
            [sys.executable, "-m", "cocotui", *command],
            env={**os.environ, "TEST_TOKEN": TOKEN},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert gate.arrived.wait(timeout=60)
            update.send_signal(signal.SIGINT)  # while the batch's first request is in flight
            gate.release.set()
            _, stderr = update.communicate(timeout=60)
        finally:
            update.kill()
    finally:
        failing.close()
    assert "stopped before the end" in stderr
    # The in-flight request's own attempts, and none of the halving that follows a failure.
    assert len(failing.requests) == 3


# ---------------------------------------------------------------------------------------------
# Item 10: keys that a server would normalise into another path


BAD_KEYS = ["", ".", "..", "a//b", "../x", "x/..", "a/./b", "dir/", "a\\..\\b"]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_keys_normalised_away_are_refused(service: HttpService, key: str) -> None:
    target = ConnectorHarness(HttpEndpoint).target(
        HttpEndpoint(base_url=f"{service.url}/items"), ["id"], ["v"]
    )
    with pytest.raises(HttpTargetError, match=r"bad key " + repr(key).replace("\\", "\\\\")):
        target.upsert({key: {"v": 1}})
    with pytest.raises(HttpTargetError, match="bad key"):
        target.delete(key)
    assert service.requests == []


def test_composite_keys_with_an_empty_part_are_refused(service: HttpService) -> None:
    target = ConnectorHarness(HttpEndpoint).target(
        HttpEndpoint(base_url=f"{service.url}/items"), ["folder", "name"], ["v"]
    )
    with pytest.raises(HttpTargetError, match=r"bad key \('', 'a.txt'\)"):
        target.upsert({("", "a.txt"): {"v": 1}})
    target.upsert({("docs", "a.b..txt"): {"v": 1}, ("a/b", "c"): {"v": 2}})
    assert service.items == {"docs/a.b..txt": {"v": 1}, "a/b/c": {"v": 2}}


# ---------------------------------------------------------------------------------------------
# UX: a data-path-only setting is not a setup change


def test_changing_timeout_or_retries_needs_no_apply(tmp_path: Path, service: HttpService) -> None:
    runner = runner_for(tmp_path, base_url=f"{service.url}/items")
    runner.apply()
    runner = runner_for(tmp_path, base_url=f"{service.url}/items", timeout=5.0, max_attempts=2)
    assert [c["action"] for c in runner.plan()["changes"]] == ["none"]
    assert runner.update().ok
    assert len(service.items) == len(SAMPLE_FILES)


def test_a_state_stored_with_the_old_fields_plans_cleanly(
    tmp_path: Path, service: HttpService
) -> None:
    runner = runner_for(tmp_path, base_url=f"{service.url}/items")
    runner.apply()
    state_file = runner.state_file
    text = state_file.read_text()
    marker = 'base_url = "'
    assert text.count(marker) == 1, text
    # What a state written by the previous version holds: the data-path settings too.
    old = "timeout = 30.0\nmax_attempts = 5\nbackoff = 0.5\n" + marker
    state_file.write_text(text.replace(marker, old))
    assert [c["action"] for c in runner.plan()["changes"]] == ["none"]
    assert runner.update().ok
