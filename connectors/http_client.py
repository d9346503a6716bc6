"""The HTTP connector's client: JSON requests over kept-alive connections, a total timeout per
request, bounded retries with backoff, and a retry budget per target and run.

Built on ``httpcore`` (the transport under ``httpx``): it keeps connections alive, never follows
a redirect (a ``3xx`` is an answer, and headers never reach another origin), and its network
backend is a public extension point, used here to bound each request as a whole: every connect,
read and write waits at most until the request's deadline, so a server trickling bytes cannot
hold a request beyond its ``timeout``.

The retry budget: once a request has failed after all its attempts, the target's retries are
spent for the rest of the run (later requests get one attempt each, so narrowing a failing batch
costs one request per step). When that failure says the endpoint itself is unavailable (no
connection, a timeout, ``429``, ``502``, ``503``, ``504``) later requests are not sent at all
and fail at once, except one probe every ``COOLDOWN`` seconds; a success ends that (requests
are sent again) but the retries stay spent until the next run.
"""

from __future__ import annotations

import contextvars
import dataclasses
import datetime
import email.utils
import ssl
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import httpcore

import cocotui

#: How the client waits between attempts; tests replace it (or pass ``sleep=`` to the client).
SLEEP: Callable[[float], None] = time.sleep

MAX_DELAY = 60.0
#: Seconds after an endpoint-down failure before one request is tried again.
COOLDOWN = 60.0
_EXCERPT = 300
#: Statuses saying the endpoint, not the request, is the problem.
_UNAVAILABLE = frozenset({429, 502, 503, 504})


class HttpTargetError(RuntimeError):
    """A request that failed for good, or a spec or row that cannot be sent."""


class HttpStatusError(HttpTargetError):
    """The service answered a status that is neither success nor worth retrying."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


# ---------------------------------------------------------------------------------------------
# A total deadline per request, enforced at the socket operations


_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "cocotui_http_deadline", default=None
)


def _remaining(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` shortened to what is left of the current request's deadline."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the request's total timeout has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _remaining(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _remaining(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        wait = _remaining(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, wait))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        wait = _remaining(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, wait, local_address, socket_options)
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _proxy(url: str) -> httpcore.Proxy | None:
    """The proxy the environment asks for (``https_proxy``, ``no_proxy``...), as urllib did."""
    parts = urllib.parse.urlsplit(url)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    proxy_parts = urllib.parse.urlsplit(proxy)
    auth = None
    if proxy_parts.username is not None:
        auth = (
            urllib.parse.unquote(proxy_parts.username),
            urllib.parse.unquote(proxy_parts.password or ""),
        )
        proxy_parts = proxy_parts._replace(netloc=proxy_parts.netloc.rpartition("@")[2])
    return httpcore.Proxy(proxy_parts.geturl(), auth=auth)


# ---------------------------------------------------------------------------------------------
# The client


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait per a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, (when - datetime.datetime.now(datetime.UTC)).total_seconds())


def _excerpt(data: bytes) -> str:
    text = data[:_EXCERPT].decode("utf-8", "replace").strip()
    return f": {text}" if text else ""


def _without_query(url: str) -> str:
    """A URL as shown in errors: its query and fragment may carry tokens."""
    return urllib.parse.urlsplit(url)._replace(query="", fragment="").geturl()


@dataclasses.dataclass(frozen=True)
class _Answer:
    status: int
    reason: str
    headers: dict[str, str]
    content: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclasses.dataclass(frozen=True)
class _Outage:
    """The endpoint is unavailable: why, and when it last failed."""

    problem: str
    since: float


class HttpClient:
    """JSON requests with bounded retries on ``429``/``5xx``, timeouts and connection failures,
    and the per-run retry budget described in the module's documentation."""

    def __init__(
        self,
        headers: dict[str, str],
        *,
        timeout: float = 30.0,
        max_attempts: int = 5,
        backoff: float = 0.5,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"cocotui/{cocotui.__version__}",
            **headers,
        }
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self.sleep = sleep
        self._pools: dict[str, httpcore.ConnectionPool] = {}
        self._retries_spent = False
        self._outage: _Outage | None = None

    def __repr__(self) -> str:  # header values are secrets: never shown
        return f"HttpClient(headers={sorted(self._headers)}, max_attempts={self.max_attempts})"

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()

    def delay(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        asked = _retry_after(retry_after)
        if asked is not None:
            return min(asked, MAX_DELAY)
        return float(min(self.backoff * 2 ** (attempt - 1), MAX_DELAY))

    def _pool(self, url: str) -> httpcore.ConnectionPool:
        proxy = _proxy(url)
        name = "" if proxy is None else repr(proxy.url)
        pool = self._pools.get(name)
        if pool is None:
            pool = self._pools[name] = httpcore.ConnectionPool(
                ssl_context=ssl.create_default_context(),  # the system's trust store
                proxy=proxy,
                network_backend=_DeadlineBackend(),
            )
        return pool

    def _send(self, method: str, url: str, body: bytes | None) -> _Answer:
        headers = dict(self._headers)
        if body is not None:
            headers["Content-Length"] = str(len(body))
        token = _DEADLINE.set(time.monotonic() + self.timeout)
        try:
            response = self._pool(url).request(
                method,
                url,
                headers=list(headers.items()),
                content=body,
                extensions={"timeout": {k: self.timeout for k in ("connect", "read", "write")}},
            )
        finally:
            _DEADLINE.reset(token)
        reason = response.extensions.get("reason_phrase", b"")
        return _Answer(
            response.status,
            reason.decode("latin-1") if isinstance(reason, bytes) else str(reason),
            {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in response.headers},
            response.content,
        )

    def _attempts(self, method: str, url: str, what: str) -> int:
        """How many attempts the budget allows now; raises at once while the endpoint is
        known to be down."""
        outage = self._outage
        if outage is not None and time.monotonic() - outage.since < COOLDOWN:
            raise HttpTargetError(
                f"{method} {_without_query(url)}: {what} not sent: the endpoint failed earlier "
                f"in this run ({outage.problem}); retried on the next run"
            )
        return 1 if self._retries_spent else self.max_attempts

    def request(
        self,
        method: str,
        url: str,
        body: bytes | None,
        *,
        what: str,
        accept: Sequence[int] = (),
    ) -> int:
        """Send until a ``2xx`` (or a status in ``accept``) arrives; return the status.
        ``what`` names the row or resource in errors."""
        attempts = self._attempts(method, url, what)
        shown = _without_query(url)
        problem, down = "", False
        for attempt in range(1, attempts + 1):
            retry_after: str | None = None
            try:
                answer = self._send(method, url, body)
            except httpcore.TimeoutException:
                problem, down = f"no complete answer within the {self.timeout:g} s timeout", True
            except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.ProxyError) as exc:
                problem, down = f"{type(exc).__name__}: {exc}", True
            else:
                if 200 <= answer.status < 300 or answer.status in accept:
                    self._outage = None
                    return answer.status
                problem = f"HTTP {answer.status} {answer.reason}{_excerpt(answer.content)}"
                down = answer.status in _UNAVAILABLE
                self._refuse(method, shown, what, answer, problem)
                retry_after = answer.header("Retry-After")
            if attempt < attempts:
                (self.sleep or SLEEP)(self.delay(attempt, retry_after))
        self._retries_spent = True
        self._outage = _Outage(problem, time.monotonic()) if down else None
        raise HttpTargetError(
            f"{method} {shown}: {what} failed after {attempts} attempt(s); last: {problem}"
        )

    @staticmethod
    def _refuse(method: str, url: str, what: str, answer: _Answer, problem: str) -> None:
        """Raise for an answer that no retry can change: a redirect or a ``4xx``."""
        if 300 <= answer.status < 400:
            location = _without_query(answer.header("Location") or "(no Location)")
            raise HttpStatusError(
                f"{method} {url}: {what} failed: HTTP {answer.status} {answer.reason}, redirected "
                f"to {location}; writes do not follow redirects: configure the URL it names",
                answer.status,
            )
        if answer.status != 429 and answer.status < 500:
            raise HttpStatusError(f"{method} {url}: {what} failed: {problem}", answer.status)
