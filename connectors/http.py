"""Rows sent to an HTTP endpoint as JSON: ``PUT {base_url}/{key}`` upserts a row, ``DELETE
{base_url}/{key}`` deletes it, or, when the service has a batch endpoint, one ``POST`` carries up
to ``batch_size`` rows as ``{"upsert": [{"key": ..., "value": ...}], "delete": [key, ...]}``.

Setup calls the optional ``provision_url``: ``PUT`` with ``{"base_url", "key_fields",
"value_fields"}`` to **create** or **change** the remote collection, ``DELETE`` to **drop** it (a
``404`` is success: already gone). A change of the primary key fields is ``NOT_COMPATIBLE``: the
collection is deleted and provisioned again, and every row is exported again (without a
``provision_url`` nothing can clear the rows stored under the old keys; they stay on the
server). Without a ``provision_url`` setup sends nothing.

Every request is idempotent: ``PUT`` replaces, ``DELETE`` of a missing row (``404``) is success,
and provisioning is a ``PUT``. ``timeout`` bounds each request as a whole. Requests answered
``429`` or ``5xx``, timeouts and failed connections are retried up to ``max_attempts`` times with
exponential backoff (``backoff``, doubling, at most 60 seconds), honouring ``Retry-After``; once
the endpoint has failed for good, the run's remaining rows fail at once instead of retrying (see
``connectors.http_client``). A redirect (``3xx``) or any other ``4xx`` fails the row: redirects
are never followed, so a write is never turned into a ``GET`` and headers never reach another
origin. The error names the key and the status; the engine isolates the row and retries it on the
next run. ``timeout``, ``max_attempts`` and ``backoff`` only shape the data path: changing them is
not a setup change (provisioning uses their defaults).

Keys are a single field's value, or a tuple for several fields; in a URL each part is one
percent-encoded path segment (``a/b.md`` -> ``a%2Fb.md``), in a batch a composite key is a JSON
list. In a URL, a part that is empty or has an empty, ``.`` or ``..`` segment between slashes
(``""``, ``..``, ``a//b``, ``../x``) is refused as a bad key (a row error naming it): servers
normalise such paths into another row's or another resource's URL.

Values are JSON objects of the value fields (dicts, lists, numbers, strings, dataclasses;
``bytes`` are refused). Header values come from environment variables (``headers_env`` maps a
header name to a variable name), so tokens are never written in the app or the state.

Example::

    collector.export(
        "documents",
        HttpEndpoint(base_url="https://search.example.com/v1/docs",
                     headers_env={"Authorization": "SEARCH_TOKEN"},
                     batch_endpoint="https://search.example.com/v1/docs:batch"),
        primary_key_fields=["filename"],
    )
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import urllib.parse
from collections.abc import Iterator, Sequence
from typing import Any

import cocotui

from .http_client import HttpClient, HttpStatusError, HttpTargetError
from .json_values import json_default

__all__ = [
    "HttpClient",
    "HttpEndpoint",
    "HttpEndpointConnector",
    "HttpEndpointState",
    "HttpStatusError",
    "HttpTargetError",
    "row_url",
]


class HttpEndpoint(cocotui.op.TargetSpec):
    """Sends each row to ``{base_url}/{key}`` (or in batches to ``batch_endpoint``)."""

    #: Rows live under this URL; it is the persistent key. No credentials in it.
    base_url: str
    #: Header name -> name of the environment variable holding its value.
    headers_env: dict[str, str] | None = None
    #: Rows per batched ``POST``.
    batch_size: int = 100
    #: A URL (or a path relative to ``base_url``) accepting batched ``POST`` requests.
    batch_endpoint: str | None = None
    #: ``PUT`` on create/update and ``DELETE`` on drop, when given.
    provision_url: str | None = None
    #: Seconds each request may take as a whole (connecting, sending, the full answer).
    timeout: float = 30.0
    #: Attempts per request, the first included.
    max_attempts: int = 5
    #: Seconds before the first retry; doubled for each further one.
    backoff: float = 0.5


@dataclasses.dataclass(frozen=True)
class HttpEndpointState:
    """The setup state: what provisioning sends and needs. Data-path settings (batches,
    timeout, retries) are not part of it: changing them is not a setup change. States stored
    before these fields left still plan cleanly: the engine reads a stored state through this
    class, so fields it no longer has are not compared."""

    base_url: str
    provision_url: str | None
    headers_env: dict[str, str] | None
    key_fields: list[str]
    value_fields: list[str]


# ---------------------------------------------------------------------------------------------
# Specs, keys and values


def _check_url(what: str, url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise HttpTargetError(f"{what} must be an http:// or https:// URL, got {url!r}")
    if parts.username is not None or parts.password is not None:
        raise HttpTargetError(
            f"{what} must not contain credentials; send them as a header with headers_env"
        )
    return url


def _base_url(spec_url: str) -> str:
    return _check_url("HttpEndpoint.base_url", spec_url).rstrip("/")


def _batch_url(base_url: str, endpoint: str) -> str:
    return _check_url("HttpEndpoint.batch_endpoint", urllib.parse.urljoin(base_url + "/", endpoint))


_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check_headers_env(headers_env: dict[str, str] | None) -> None:
    """Values must be variable names: a token written there by mistake is refused without
    being repeated in the message (or stored in the state)."""
    for name, variable in (headers_env or {}).items():
        if not isinstance(variable, str) or not _VARIABLE.match(variable):
            raise HttpTargetError(
                f"HttpEndpoint.headers_env[{name!r}] must name an environment variable (letters, "
                f"digits, underscores), not hold the header's value"
            )


def _headers(headers_env: dict[str, str] | None) -> dict[str, str]:
    _check_headers_env(headers_env)
    headers = {}
    for name, variable in (headers_env or {}).items():
        value = os.environ.get(variable)
        if value is None:
            raise HttpTargetError(f"environment variable {variable} (for header {name}) is not set")
        headers[name] = value
    return headers


def _json(value: Any, what: str) -> bytes:
    try:
        return json.dumps(value, default=json_default, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise HttpTargetError(f"{what}: {exc}") from None


def _key_parts(key: Any, key_fields: Sequence[str]) -> list[Any]:
    parts = [key] if len(key_fields) == 1 else key
    if not isinstance(parts, list | tuple) or len(parts) != len(key_fields):
        raise HttpTargetError(
            f"key {key!r} must be a tuple of {len(key_fields)} values ({', '.join(key_fields)})"
        )
    for part in parts:
        if not isinstance(part, str | int | float):
            raise HttpTargetError(
                f"key {key!r}: a part of type {type(part).__name__} cannot be a URL path segment"
            )
    return list(parts)


_SLASHES = re.compile(r"[/\\]")


def _segment(key: Any, part: Any) -> str:
    """One key part as a percent-encoded path segment. Servers merge empty segments and resolve
    ``.``/``..`` (some after decoding ``%2F`` or ``%2E``, or reading ``\\`` as ``/``), which
    would send the row to another URL: such parts are refused."""
    text = str(part)
    if any(piece in ("", ".", "..") for piece in _SLASHES.split(text)):
        raise HttpTargetError(
            f"bad key {key!r}: the part {text!r} cannot be a URL path segment (empty, '.' and "
            f"'..' segments are normalised into another path); use a batch_endpoint or change "
            f"the key"
        )
    return urllib.parse.quote(text, safe="")


def row_url(base_url: str, key: Any, key_fields: Sequence[str]) -> str:
    """``{base_url}/{part}/{part}...``, each key part one percent-encoded path segment."""
    segments = [_segment(key, p) for p in _key_parts(key, key_fields)]
    return f"{base_url}/{'/'.join(segments)}"


@dataclasses.dataclass(frozen=True)
class PreparedHttpEndpoint:
    """What ``mutate`` receives: the URLs, the batch size and a client with the headers."""

    base_url: str
    batch_url: str | None
    batch_size: int
    key_fields: tuple[str, ...]
    client: HttpClient = dataclasses.field(repr=False)


def _chunks(items: list[tuple[Any, Any]], size: int) -> Iterator[list[tuple[Any, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _send_batches(target: PreparedHttpEndpoint, rows: dict[Any, Any]) -> None:
    assert target.batch_url is not None
    items = list(rows.items())
    for chunk in _chunks(items, target.batch_size):
        document: dict[str, list[Any]] = {"upsert": [], "delete": []}
        for key, value in chunk:
            parts = _key_parts(key, target.key_fields)
            json_key = parts[0] if len(parts) == 1 else parts
            if value is None:
                document["delete"].append(json_key)
            else:
                document["upsert"].append({"key": json_key, "value": value})
        keys = ", ".join(repr(k) for k, _ in chunk[:3]) + (", ..." if len(chunk) > 3 else "")
        what = f"a batch of {len(chunk)} row(s) (keys {keys})"
        target.client.request("POST", target.batch_url, _json(document, what), what=what)


def _send_rows(target: PreparedHttpEndpoint, rows: dict[Any, Any]) -> None:
    # Every URL first: a bad key fails the call before anything is sent.
    urls = {key: row_url(target.base_url, key, target.key_fields) for key in rows}
    for key, value in rows.items():
        url = urls[key]
        what = f"row {key!r}"
        if value is None:
            target.client.request("DELETE", url, None, what=what, accept=(404,))
        else:
            target.client.request("PUT", url, _json(value, what), what=what)


def _data_client(spec: HttpEndpoint) -> HttpClient:
    return HttpClient(
        _headers(spec.headers_env),
        timeout=spec.timeout,
        max_attempts=spec.max_attempts,
        backoff=spec.backoff,
    )


def _setup_client(state: HttpEndpointState) -> HttpClient:
    """Provisioning has only the setup state: the default timeout and retries apply."""
    return HttpClient(_headers(state.headers_env))


@cocotui.op.target_connector(spec_cls=HttpEndpoint, setup_state_cls=HttpEndpointState)
class HttpEndpointConnector:
    @staticmethod
    def get_persistent_key(spec: HttpEndpoint, target_name: str) -> str:
        return _base_url(spec.base_url)

    @staticmethod
    def get_setup_state(
        spec: HttpEndpoint,
        key_fields_schema: list[cocotui.FieldSchema],
        value_fields_schema: list[cocotui.FieldSchema],
    ) -> HttpEndpointState:
        if spec.batch_size < 1:
            raise HttpTargetError(
                f"HttpEndpoint.batch_size must be at least 1, got {spec.batch_size}"
            )
        if spec.max_attempts < 1:
            raise HttpTargetError(
                f"HttpEndpoint.max_attempts must be at least 1, got {spec.max_attempts}"
            )
        if spec.timeout <= 0 or spec.backoff < 0:
            raise HttpTargetError("HttpEndpoint.timeout must be positive and backoff not negative")
        base_url = _base_url(spec.base_url)
        _check_headers_env(spec.headers_env)
        if spec.batch_endpoint is not None:
            _batch_url(base_url, spec.batch_endpoint)
        if spec.provision_url is not None:
            _check_url("HttpEndpoint.provision_url", spec.provision_url)
        return HttpEndpointState(
            base_url=base_url,
            provision_url=spec.provision_url,
            headers_env=dict(spec.headers_env) if spec.headers_env else None,
            key_fields=[f.name for f in key_fields_schema],
            value_fields=[f.name for f in value_fields_schema],
        )

    @staticmethod
    def describe(key: str) -> str:
        return f"HTTP endpoint {key}"

    @staticmethod
    def check_state_compatibility(
        desired: HttpEndpointState, existing: HttpEndpointState
    ) -> cocotui.op.TargetStateCompatibility:
        if (desired.key_fields, desired.provision_url) != (
            existing.key_fields,
            existing.provision_url,
        ):
            return cocotui.op.TargetStateCompatibility.NOT_COMPATIBLE  # a new collection
        if set(desired.value_fields) - set(existing.value_fields):
            return cocotui.op.TargetStateCompatibility.PARTIALLY_COMPATIBLE  # send new fields
        return cocotui.op.TargetStateCompatibility.COMPATIBLE

    @staticmethod
    def apply_setup_change(
        key: str, previous: HttpEndpointState | None, current: HttpEndpointState | None
    ) -> None:
        if (
            previous is not None
            and previous.provision_url is not None
            and (
                current is None
                or current.provision_url != previous.provision_url
                or current.key_fields != previous.key_fields
            )
        ):
            # Dropped, moved, or keyed differently: the old collection goes (404: already gone).
            with contextlib.closing(_setup_client(previous)) as client:
                client.request(
                    "DELETE",
                    previous.provision_url,
                    None,
                    what=f"the collection of {key}",
                    accept=(404,),
                )
        if current is not None and current.provision_url is not None:
            body = {
                "base_url": current.base_url,
                "key_fields": current.key_fields,
                "value_fields": current.value_fields,
            }
            what = f"the collection of {key}"
            with contextlib.closing(_setup_client(current)) as client:
                client.request("PUT", current.provision_url, _json(body, what), what=what)

    @staticmethod
    def prepare(spec: HttpEndpoint, setup_state: HttpEndpointState) -> PreparedHttpEndpoint:
        base_url = _base_url(spec.base_url)
        return PreparedHttpEndpoint(
            base_url=base_url,
            batch_url=_batch_url(base_url, spec.batch_endpoint) if spec.batch_endpoint else None,
            batch_size=spec.batch_size,
            key_fields=tuple(setup_state.key_fields),
            client=_data_client(spec),
        )

    @staticmethod
    def mutate(
        *all_mutations: tuple[PreparedHttpEndpoint, dict[Any, dict[str, Any] | None]],
    ) -> None:
        for target, rows in all_mutations:
            if target.batch_url is not None:
                _send_batches(target, rows)
            else:
                _send_rows(target, rows)
