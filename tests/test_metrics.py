"""``cocotui update --metrics ADDRESS``: Prometheus metrics of a running update, scraped over
HTTP from a live exporter in a subprocess as Prometheus would (issue 14, item 3)."""

from __future__ import annotations

import socket
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
import update_helpers as h
from conftest import Workspace
from prometheus_client.parser import text_string_to_metric_families
from python_probe import run_probe
from test_live_cli import LiveProcess, is_event, live_process

from cocotui.engine.events import StopToken
from cocotui.engine.metrics import MetricsError, MetricsObserver, parse_address
from cocotui.engine.update import UpdateOptions

__all__ = ["live_process"]  # the fixture, shared with test_live_cli

TIMEOUT = 30.0
TARGET = "Docs.t"
SOURCE = "Docs.documents"

#: (metric sample name, sorted label items) -> value
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def ws(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    ws = h.prepare(workspace, monkeypatch)
    h.write_files(ws, {"a.md": "alpha"})
    h.flow_app(ws)
    h.apply_all(ws)
    return ws


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def mutations(samples: Samples, kind: str) -> float:
    return samples.get(("cocotui_mutations_total", (("kind", kind), ("target", TARGET))), -1)


def scrape_until(port: int, condition: Callable[[Samples], bool], what: str) -> Samples:
    """Scrape until ``condition`` holds (the exporter may not listen yet, or not have exported
    yet), for at most ``TIMEOUT`` seconds."""
    deadline = time.monotonic() + TIMEOUT
    samples: Samples = {}
    while time.monotonic() < deadline:
        try:
            samples = scrape(port)
        except OSError:
            continue  # not listening yet
        if condition(samples):
            return samples
    raise AssertionError(f"timed out waiting for {what}; last scrape: {samples}")


def test_live_exporter_metrics_move_as_files_change(
    ws: Workspace, tmp_path: Path, live_process: Callable[..., LiveProcess]
) -> None:
    port = free_port()
    run = live_process(
        ws, "--json", "--workers", "1", "--metrics", f"127.0.0.1:{port}", log=tmp_path / "m"
    )
    run.wait_line(is_event("live.ready"), "live.ready")
    first = scrape_until(port, lambda s: mutations(s, "insert") == 1, "the initial export")
    assert first[("cocotui_exporter_running", ())] == 1
    assert first[("cocotui_exporter_start_time_seconds", ())] <= time.time()
    assert first[("cocotui_rows_in_flight", (("target", TARGET),))] == 0

    h.write_files(ws, {"b.md": "beta"})
    scrape_until(port, lambda s: mutations(s, "insert") == 2, "the insert of b.md")
    h.write_files(ws, {"a.md": "alpha, edited"})
    scrape_until(port, lambda s: mutations(s, "update") == 1, "the update of a.md")
    (ws.source_dir / "b.md").unlink()
    last = scrape_until(port, lambda s: mutations(s, "delete") == 1, "the delete of b.md")

    source = (("source", SOURCE),)
    # a, then b, a, b again (or more: a watcher may report one write as two events)
    assert last[("cocotui_rows_processed_total", source)] >= 4
    assert last[("cocotui_pass_duration_seconds_count", source)] >= 4  # initial + 3 watched
    assert 0 <= last[("cocotui_last_change_lag_seconds", source)] < TIMEOUT
    assert last[("cocotui_source_errors_total", source)] == 0
    assert last[("cocotui_target_errors_total", (("target", TARGET),))] == 0
    code, stderr = run.interrupt()
    assert code == 0, stderr
    assert f"serving http://127.0.0.1:{port}/metrics" in stderr


def test_default_bind_is_loopback(ws: Workspace) -> None:
    port = free_port()
    assert parse_address(str(port)) == ("127.0.0.1", port)
    metrics = MetricsObserver()
    metrics.serve(parse_address(str(port)))
    try:
        assert metrics.bound == ("127.0.0.1", port)
        assert scrape(port)[("cocotui_exporter_running", ())] == 0  # no run yet
    finally:
        metrics.close()


def test_taken_port_is_a_clear_error(ws: Workspace) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = ws.cli("update", ws.app, "--live", "--metrics", str(port))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: cannot serve metrics on 127.0.0.1:{port}: Address already in use"
    )


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("http", "the port must be a number from 1 to 65535"),
        ("localhost:0", "the port must be a number from 1 to 65535"),
        ("localhost:70000", "the port must be a number from 1 to 65535"),
        (":9464", "is not PORT, HOST:PORT or [IPv6]:PORT"),
        ("::1:9464", "an IPv6 host goes in brackets"),
        ("[nope]:9464", "'nope' is not an IPv6 address"),
    ],
)
def test_malformed_address_is_refused(ws: Workspace, address: str, message: str) -> None:
    with pytest.raises(MetricsError, match=message.replace("[", r"\[")):
        parse_address(address)
    result = ws.cli("update", ws.app, "--live", "--metrics", address)
    assert result.returncode == 2  # a usage error, said before anything runs
    assert f"argument --metrics: metrics address {address!r}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("9464", ("127.0.0.1", 9464)),
        ("0.0.0.0:9464", ("0.0.0.0", 9464)),
        ("metrics.internal:80", ("metrics.internal", 80)),
        ("[::1]:9464", ("::1", 9464)),
    ],
)
def test_addresses(address: str, expected: tuple[str, int]) -> None:
    assert parse_address(address) == expected


def test_metrics_count_what_a_one_shot_update_reports(ws: Workspace) -> None:
    """The observer alone, fed by a one-shot update: its counters are the run's."""
    h.write_files(ws, {"b.md": "beta", "c.md": "gamma"})
    metrics = MetricsObserver()
    with h.engine_of(ws) as engine:
        result = engine.update(UpdateOptions(workers=1), metrics, StopToken())
    value = metrics.registry.get_sample_value
    counters = result.targets[TARGET]
    for field, kind in (("inserted", "insert"), ("updated", "update"), ("deleted", "delete")):
        labels = {"target": TARGET, "kind": kind}
        assert value("cocotui_mutations_total", labels) == getattr(counters, field)
    assert value("cocotui_mutations_total", {"target": TARGET, "kind": "insert"}) == 3
    assert value("cocotui_rows_processed_total", {"source": SOURCE}) == 3
    assert value("cocotui_exporter_running") == 0


def test_startup_does_not_import_prometheus_client() -> None:
    probe = (
        "import json, sys; from cocotui.cli.main import build_parser; build_parser(); "
        "print(json.dumps('prometheus_client' in sys.modules))"
    )
    imported, _ = run_probe(probe, timeout=60)
    assert imported is False
