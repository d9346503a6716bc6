"""Prometheus metrics of a running update (``cocotui update --metrics ADDRESS``).

:class:`MetricsObserver` is an engine observer: it folds the run's events into metrics of its
own :class:`~prometheus_client.CollectorRegistry` (never the process-wide one), which
:meth:`MetricsObserver.serve` exposes over HTTP at ``/metrics``. ``prometheus_client`` is
imported only when an observer is made, so a command without ``--metrics`` never loads it.
The metric names are listed in the README ("Metrics").
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

from cocotui.engine.counters import TargetCounters
from cocotui.engine.errors import MetricsError
from cocotui.engine.events import (
    BatchApplied,
    Event,
    LivePassFinished,
    MutateFinished,
    MutateStarted,
    RowFailed,
    RunFinished,
    RunStarted,
    SourceFailed,
    SourceFinished,
    SourceListed,
)

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

#: Where metrics are served when ADDRESS names only a port: this machine only.
DEFAULT_HOST = "127.0.0.1"
#: Pass durations (seconds): from a watch pass over one file to a catch-up over many.
PASS_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
#: Target counters that become ``cocotui_mutations_total{kind=...}``.
MUTATION_KINDS = {"inserted": "insert", "updated": "update", "deleted": "delete"}


class MetricsAddress(NamedTuple):
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_address(text: str) -> MetricsAddress:
    """``PORT`` (on loopback), ``HOST:PORT`` or ``[IPv6]:PORT``."""
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host = DEFAULT_HOST
    elif host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        _check_ipv6(host, text)
    elif ":" in host or not host:
        raise MetricsError(
            f"metrics address {text!r} is not PORT, HOST:PORT or [IPv6]:PORT (an IPv6 host "
            f"goes in brackets)"
        )
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise MetricsError(f"metrics address {text!r}: the port must be a number from 1 to 65535")
    return MetricsAddress(host, int(port_text))


def _check_ipv6(host: str, text: str) -> None:
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        raise MetricsError(f"metrics address {text!r}: {host!r} is not an IPv6 address") from None


class MetricsObserver:
    """Engine events to Prometheus metrics (thread-safe: the engine thread writes, the
    server's threads read)."""

    def __init__(self) -> None:
        import prometheus_client as prom  # here: only ``--metrics`` pays for the import

        self.registry = prom.CollectorRegistry()
        r = self.registry
        self.running = prom.Gauge(
            "cocotui_exporter_running", "1 while an update runs, 0 once it ended", registry=r
        )
        self.start_time = prom.Gauge(
            "cocotui_exporter_start_time_seconds",
            "When the exporter started (Unix time)",
            registry=r,
        )
        self.info = prom.Info("cocotui_exporter", "The app being exported", ["app"], registry=r)
        self.rows = prom.Counter(
            "cocotui_rows_processed", "Source rows evaluated and applied", ["source"], registry=r
        )
        self.mutations = prom.Counter(
            "cocotui_mutations",
            "Target rows sent to mutate and committed, by kind (insert, update, delete)",
            ["target", "kind"],
            registry=r,
        )
        self.source_errors = prom.Counter(
            "cocotui_source_errors",
            "Source rows that failed, and sources that could not be listed",
            ["source"],
            registry=r,
        )
        self.target_errors = prom.Counter(
            "cocotui_target_errors",
            "Target rows whose mutate failed (retried next run)",
            ["target"],
            registry=r,
        )
        self.in_flight = prom.Gauge(
            "cocotui_rows_in_flight",
            "Target rows in a mutate call that has not returned yet",
            ["target"],
            registry=r,
        )
        self.pass_duration = prom.Histogram(
            "cocotui_pass_duration_seconds",
            "Duration of a pass over a source, listing included",
            ["source"],
            buckets=PASS_BUCKETS,
            registry=r,
        )
        self.last_pass = prom.Gauge(
            "cocotui_last_pass_timestamp_seconds",
            "When the last pass over a source ended (Unix time)",
            ["source"],
            registry=r,
        )
        self.lag = prom.Gauge(
            "cocotui_last_change_lag_seconds",
            "Live mode: from the watcher seeing a change to the end of the pass exporting it",
            ["source"],
            registry=r,
        )
        self.start_time.set(time.time())
        #: per target, its counters as last counted (a run's counters start at zero)
        self._counted: dict[str, TargetCounters] = {}
        self._server: WSGIServer | None = None

    def __call__(self, event: Event) -> None:
        match event:
            case RunStarted():
                self._start(event)
            case SourceListed():  # the source's series exist, at 0, from its first pass
                self.rows.labels(source=event.source)
                self.source_errors.labels(source=event.source)
            case BatchApplied():
                self.rows.labels(source=event.source).inc(event.rows)
                self._count(event.targets)
            case MutateStarted() | MutateFinished():
                self._count(event.targets)
            case SourceFinished():
                self.pass_duration.labels(source=event.source).observe(event.counters.elapsed)
                self.last_pass.labels(source=event.source).set(event.time)
            case LivePassFinished() if event.lag is not None:
                self.lag.labels(source=event.source).set(event.lag)
            case RowFailed() | SourceFailed():
                self.source_errors.labels(source=event.source).inc()
            case RunFinished():
                self._count(event.targets)
                self.running.set(0)

    def _start(self, event: RunStarted) -> None:
        self.info.labels(app=event.app).info({})
        self.running.set(1)
        self._counted = {name: TargetCounters() for name in event.targets}
        for name in event.targets:  # every series exists, at 0, from the start
            for kind in MUTATION_KINDS.values():
                self.mutations.labels(target=name, kind=kind)
            self.target_errors.labels(target=name)
            self.in_flight.labels(target=name).set(0)

    def _count(self, targets: Mapping[str, TargetCounters]) -> None:
        """Add what the counters gained since last counted."""
        for name, now in targets.items():
            before = self._counted.setdefault(name, TargetCounters())
            for field, kind in MUTATION_KINDS.items():
                gained = getattr(now, field) - getattr(before, field)
                if gained > 0:
                    self.mutations.labels(target=name, kind=kind).inc(gained)
            if now.errors > before.errors:
                self.target_errors.labels(target=name).inc(now.errors - before.errors)
            self.in_flight.labels(target=name).set(now.in_flight)
            self._counted[name] = now

    # -- serving --------------------------------------------------------------------------------

    def serve(self, address: MetricsAddress) -> None:
        """Serve ``/metrics`` at ``address`` from a daemon thread until :meth:`close`."""
        from prometheus_client import start_http_server

        try:
            self._server, _ = start_http_server(address.port, address.host, self.registry)
        except OSError as exc:  # in use, not this machine's, unknown host
            reason = exc.strerror or str(exc)
            raise MetricsError(f"cannot serve metrics on {address}: {reason}") from None

    @property
    def bound(self) -> MetricsAddress | None:
        """The address served, as the socket is bound."""
        if self._server is None:
            return None
        host, port = self._server.server_address[:2]
        return MetricsAddress(str(host), int(port))

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
