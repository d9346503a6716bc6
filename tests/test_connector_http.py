"""The HTTP endpoint connector against a local service on 127.0.0.1: lifecycle through the
CLI, provisioning, batches, retries with backoff and Retry-After, failed rows, idempotency and
roll-forward after a SIGKILL inside ``mutate``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from connector_helpers import (
    SAMPLE_FILES,
    HttpService,
    assert_rolls_forward,
    expected_rows,
    http_service,
    key_path,
    update_killed_inside_mutate,
    write_app,
    write_sources,
)

from cocotui.op import TargetStateCompatibility
from cocotui.testing import AppRunner, ConnectorHarness, assert_idempotent, check_idempotency
from cocotui_connectors.http import (
    HttpClient,
    HttpEndpoint,
    HttpStatusError,
    HttpTargetError,
    row_url,
)

IMPORTS = "from cocotui_connectors.http import HttpEndpoint"
TOKEN = "Bearer t0ken-s3cret"


@pytest.fixture
def service() -> Iterator[HttpService]:
    with http_service() as running:
        yield running


def expected_items(source: Path, version: str = "v1") -> dict[str, Any]:
    """What the service must hold to equal ``source``: URL key -> JSON value."""
    return {
        key_path(list(k) if isinstance(k, tuple) else k): v
        for k, v in expected_rows(source, version).items()
    }


def spec_source(service: HttpService, **extra: Any) -> str:
    fields = {
        "base_url": f"{service.url}/items/",
        "headers_env": {"Authorization": "TEST_TOKEN"},
        "backoff": 0.01,
        **extra,
    }
    return "HttpEndpoint(" + ", ".join(f"{k}={v!r}" for k, v in fields.items()) + ")"


def make_runner(
    tmp_path: Path, service: HttpService, version: str = "v1", **extra: Any
) -> AppRunner:
    source = tmp_path / "source"
    if not source.exists():
        write_sources(source, SAMPLE_FILES)
    app = write_app(
        tmp_path / "app.py",
        imports=IMPORTS,
        spec=spec_source(service, **extra),
        source=source,
        version=version,
    )
    return AppRunner(app, tmp_path / "state", env={"TEST_TOKEN": TOKEN})


def test_lifecycle_through_the_cli(tmp_path: Path, service: HttpService) -> None:
    provision = f"{service.url}/provision"
    source = tmp_path / "source"
    runner = make_runner(tmp_path, service, provision_url=provision)

    # create: provisions the collection
    (change,) = runner.plan()["changes"]
    assert (change["action"], change["kind"], change["key"]) == (
        "create",
        "HttpEndpoint",
        f"{service.url}/items",
    )
    assert change["description"] == f"HTTP endpoint {service.url}/items"
    runner.apply()
    assert service.provisioned == {
        "base_url": f"{service.url}/items",
        "key_fields": ["filename"],
        "value_fields": ["content"],
    }
    assert service.of("PUT", "/provision")[0].headers["Authorization"] == TOKEN
    assert runner.update().ok
    assert service.items == expected_items(source)
    assert all(r.headers["Authorization"] == TOKEN for r in service.of("PUT", "/items/"))

    # a new value field: `~ update`, provisioned again, every row sent again
    runner = make_runner(tmp_path, service, "v2", provision_url=provision)
    (change,) = runner.plan()["changes"]
    assert (change["action"], change["compatibility"]) == ("update", "partially_compatible")
    runner.apply()
    assert service.provisioned["value_fields"] == ["content", "length"]
    assert runner.update().ok
    assert service.items == expected_items(source, "v2")

    # a new primary key: the collection is deleted and provisioned again, rows sent as new
    # (in batches: files at the root have an empty folder, which no URL path segment can carry)
    runner = make_runner(
        tmp_path, service, "v3", provision_url=provision, batch_endpoint=f"{service.url}/batch"
    )
    (change,) = runner.plan()["changes"]
    assert (change["action"], change["compatibility"]) == ("update", "not_compatible")
    runner.apply()
    assert service.items == {}
    assert service.provisioned["key_fields"] == ["folder", "name"]
    assert runner.update().ok
    assert service.items == expected_items(source, "v3")

    # source changes reach the service
    write_sources(source, {"a.txt": "ALPHA", "docs/e.txt": None})
    assert runner.update().ok
    assert service.items == expected_items(source, "v3")

    # drop: DELETE on the provisioning URL
    runner.drop()
    assert service.provisioned is None
    assert service.of("DELETE", "/provision")

    # No secret in the state, the plan or the listing.
    assert TOKEN not in runner.state_file.read_text()
    assert TOKEN not in runner.command("ls").stdout


def test_batches_go_to_the_batch_endpoint(tmp_path: Path, service: HttpService) -> None:
    source = tmp_path / "source"
    runner = make_runner(tmp_path, service, batch_endpoint="../batch", batch_size=4)
    runner.apply()
    assert runner.update().ok
    assert service.items == expected_items(source)
    batches = service.of("POST", "/batch")
    assert [len(b.body["upsert"]) for b in batches] == [4, 2]
    assert service.of("PUT", "/items/") == []
    assert all(b.headers["Authorization"] == TOKEN for b in batches)

    write_sources(source, {"a.txt": None, "b.txt": "BRAVO"})
    assert runner.update().ok
    assert service.items == expected_items(source)
    last = service.of("POST", "/batch")[-1].body
    assert last == {
        "upsert": [{"key": "b.txt", "value": {"content": "BRAVO"}}],
        "delete": ["a.txt"],
    }


def test_composite_keys_in_batches_are_json_lists(tmp_path: Path, service: HttpService) -> None:
    runner = make_runner(tmp_path, service, "v3", batch_endpoint=f"{service.url}/batch")
    runner.apply()
    assert runner.update().ok
    keys = [row["key"] for b in service.of("POST", "/batch") for row in b.body["upsert"]]
    assert ["docs", "d.txt"] in keys and ["", "a.txt"] in keys


def test_503_is_retried_then_succeeds(tmp_path: Path, service: HttpService) -> None:
    runner = make_runner(tmp_path, service)
    runner.apply()
    service.script[("PUT", "/items/a.txt")] = [503, 503]
    service.script[("PUT", "/items/b.txt")] = [429]
    outcome = runner.update()
    assert outcome.ok, outcome.result.stdout
    assert service.items == expected_items(tmp_path / "source")
    assert len(service.of("PUT", "/items/a.txt")) == 3
    assert len(service.of("PUT", "/items/b.txt")) == 2


def test_400_fails_the_row_and_the_others_are_applied(tmp_path: Path, service: HttpService) -> None:
    source = tmp_path / "source"
    runner = make_runner(tmp_path, service)
    runner.apply()
    service.always[("PUT", "/items/b.txt")] = 400
    outcome = runner.update()
    assert outcome.returncode == 1
    (failed,) = outcome.failed_rows
    assert failed["row"] == "b.txt"
    assert "'b.txt'" in failed["error"] and "HTTP 400" in failed["error"]
    assert "HttpStatusError" in failed["traceback"]
    want = expected_items(source)
    del want["b.txt"]
    assert service.items == want
    assert outcome.counters("Docs.docs")["errors"] == 1

    # The row is retried on the next run and goes through once the service accepts it.
    del service.always[("PUT", "/items/b.txt")]
    assert runner.update().ok
    assert service.items == expected_items(source)


def test_deleting_a_missing_row_is_success(service: HttpService) -> None:
    target = ConnectorHarness(HttpEndpoint).target(
        HttpEndpoint(base_url=f"{service.url}/items"), ["id"], ["v"]
    )
    target.delete("never-there")
    assert service.of("DELETE", "/items/never-there")  # answered 404, accepted
    service.always[("DELETE", "/items/gone")] = 410
    with pytest.raises(HttpStatusError, match=r"row 'gone'.*HTTP 410"):
        target.delete("gone")


def test_every_method_is_idempotent(service: HttpService) -> None:
    spec = HttpEndpoint(base_url=f"{service.url}/items", provision_url=f"{service.url}/provision")
    harness = ConnectorHarness(HttpEndpoint)
    target = harness.target(spec, ["id"], ["v"])

    def snapshot() -> Any:
        return json.dumps([service.provisioned, service.items], sort_keys=True)

    check_idempotency(target, {"a": {"v": 1}, "b/c": {"v": [1, 2]}}, snapshot, missing_key="x")

    target.create()
    target.upsert({"a": {"v": 1}})
    wider = target.changed(value_fields=["v", "w"])
    assert target.compatibility_of(wider) is TargetStateCompatibility.PARTIALLY_COMPATIBLE
    assert_idempotent(lambda: target.change_to(wider), snapshot, label="new value field")
    assert service.items == {"a": {"v": 1}}
    rekeyed = wider.changed(key_fields=["id", "n"])
    assert wider.compatibility_of(rekeyed) is TargetStateCompatibility.NOT_COMPATIBLE
    assert_idempotent(lambda: wider.change_to(rekeyed), snapshot, label="new key")
    assert service.items == {}
    assert service.provisioned["key_fields"] == ["id", "n"]

    # Without a provisioning URL setup sends nothing at all.
    plain = harness.target(HttpEndpoint(base_url=f"{service.url}/other"), ["id"], ["v"])
    before = len(service.requests)
    plain.create()
    plain.drop()
    assert len(service.requests) == before


@pytest.mark.parametrize("kill", ["mutate:rows=3", "mutate:before", "mutate:after"])
def test_a_run_killed_inside_mutate_rolls_forward(
    tmp_path: Path, service: HttpService, kill: str
) -> None:
    source = tmp_path / "source"
    runner = make_runner(tmp_path, service)
    runner.apply()
    assert runner.update().ok
    update_killed_inside_mutate(runner, source, kill, tmp_path / "calls.jsonl")
    assert service.items != expected_items(source)

    def assert_equal_to_source() -> None:
        assert service.items == expected_items(source)

    assert_rolls_forward(runner, assert_equal_to_source)


def test_a_missing_header_variable_fails_the_rows(tmp_path: Path, service: HttpService) -> None:
    runner = make_runner(tmp_path, service)
    runner.apply()
    outcome = runner.update(env={"TEST_TOKEN": None})
    assert outcome.returncode == 1
    assert "TEST_TOKEN" in outcome.failed_rows[0]["error"]
    assert service.items == {}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("HttpEndpoint(base_url='ftp://example.com/x')", "http:// or https://"),
        ("HttpEndpoint(base_url='https://user:pw@example.com/x')", "must not contain credentials"),
        ("HttpEndpoint(base_url='https://example.com/x', batch_size=0)", "batch_size"),
        (
            "HttpEndpoint(base_url='https://x.org', headers_env={'Authorization': 'Bearer pw@'})",
            "must name an environment variable",
        ),
    ],
)
def test_invalid_specs_are_reported_at_plan_time(tmp_path: Path, spec: str, message: str) -> None:
    source = tmp_path / "source"
    write_sources(source, {"a.txt": "alpha"})
    app = write_app(tmp_path / "app.py", imports=IMPORTS, spec=spec, source=source)
    result = AppRunner(app, tmp_path / "state").command("plan")
    assert result.returncode == 1
    assert message in result.stderr
    assert "pw@" not in result.stderr


# ---------------------------------------------------------------------------------------------
# The client on its own: backoff, Retry-After, bounded attempts


def test_backoff_doubles_and_retry_after_is_honoured(service: HttpService) -> None:
    sleeps: list[float] = []
    client = HttpClient({}, max_attempts=4, backoff=0.5, sleep=sleeps.append)
    service.retry_after = ""
    service.script[("PUT", "/items/x")] = [503, 500, 502]
    assert client.request("PUT", f"{service.url}/items/x", b"{}", what="row 'x'") == 204
    assert sleeps == [0.5, 1.0, 2.0]

    sleeps.clear()
    service.retry_after = "3"
    service.script[("PUT", "/items/y")] = [429]
    client.request("PUT", f"{service.url}/items/y", b"{}", what="row 'y'")
    assert sleeps == [3.0]

    sleeps.clear()
    service.always[("PUT", "/items/z")] = 503
    with pytest.raises(HttpTargetError, match=r"row 'z' failed after 4 attempt\(s\).*HTTP 503"):
        client.request("PUT", f"{service.url}/items/z", b"{}", what="row 'z'")
    assert len(sleeps) == 3
    assert len(service.of("PUT", "/items/z")) == 4


def test_connection_failures_are_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr("cocotui_connectors.http_client.SLEEP", sleeps.append)
    client = HttpClient({}, max_attempts=3, backoff=0.1)
    with pytest.raises(HttpTargetError, match="after 3 attempt"):
        client.request("PUT", "http://127.0.0.1:9/items/x", b"{}", what="row 'x'")
    assert sleeps == [0.1, 0.2]


def test_keys_become_percent_encoded_path_segments() -> None:
    assert row_url("http://h/items", "a/b c.md", ["k"]) == "http://h/items/a%2Fb%20c.md"
    assert row_url("http://h/items", ("x/y", 3), ["a", "b"]) == "http://h/items/x%2Fy/3"
    with pytest.raises(HttpTargetError, match="tuple of 2"):
        row_url("http://h/items", "x", ["a", "b"])
    assert "s3cret" not in repr(HttpClient({"Authorization": "s3cret"}))
