"""Probes and metrics for running the server as a service.

- `HealthEndpoints`: an ASGI wrapper answering ``GET /healthz`` (200 whenever the process
  serves requests) and ``GET /readyz`` (200 only when the readiness check passes, e.g. the
  Kubernetes API server answers) *in front of* the wrapped app, so probes need no bearer
  token. Every other request goes to the wrapped app unchanged. The readiness check is an
  async callable the app passes in; it raises (anything) when not ready. Its result is
  cached for a moment and bounded by a timeout, so probes never pile up on a slow API
  server. The body says only "ready" / "not ready" and the error's class name: these
  endpoints are unauthenticated and must not leak addresses or messages.
- Prometheus metrics in their own registry, served on a separate port by
  `start_metrics_server` (prometheus-client's threaded HTTP server; ``/metrics``).
  The registry (and whoever else) records through four small functions:

  ==========================  ==================================================
  observe_call(tool, outcome, seconds)   k8s_debug_mcp_tool_calls_total{tool,outcome},
                                         k8s_debug_mcp_tool_call_duration_seconds{tool}
  observe_refusal(reason)                k8s_debug_mcp_refusals_total{reason}
  observe_api_error(status)              k8s_debug_mcp_kube_api_errors_total{status}
  set_ready(ok)                          k8s_debug_mcp_ready (1/0, last /readyz verdict)
  ==========================  ==================================================

  plus ``k8s_debug_mcp_build_info{version}`` and the process/platform/GC collectors.
  Label values are normalised to short ``[a-z0-9_]`` words so a caller cannot explode
  the series count.
- `configure_tracing`: OpenTelemetry traces through the MCP SDK's own spans, exported
  over OTLP/HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``) is set
  and the optional ``otel`` extra is installed; otherwise nothing happens.

The metric objects live in one `Metrics` instance per process (`METRICS`), like the
logging configuration: the tools report into it from wherever they run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    start_http_server,
)
from prometheus_client.exposition import generate_latest

from k8s_debug_mcp import __version__

__all__ = [
    "METRICS",
    "HealthEndpoints",
    "Metrics",
    "MetricsServer",
    "Readiness",
    "configure_tracing",
    "label",
    "observe_api_error",
    "observe_call",
    "observe_refusal",
    "set_ready",
    "start_metrics_server",
]

Readiness = Callable[[], Awaitable[object]]
"""Returns when ready; raises (any exception) when not."""

# Tool calls span milliseconds (reads) to minutes (exec with a long timeout, waits for a debugger).
DURATION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
_LABEL_RE = re.compile(r"[^a-z0-9_]+")
_MAX_LABEL = 48


def label(value: object) -> str:
    """A bounded, Prometheus-friendly label value: 'PolicyDenied' -> 'policydenied'."""
    text = _LABEL_RE.sub("_", str(value).strip().lower()).strip("_")
    return text[:_MAX_LABEL] or "unknown"


class Metrics:
    """The server's metrics in their own registry (tests make a fresh one per test)."""

    def __init__(self, registry: CollectorRegistry | None = None, *, process_collectors: bool = True) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        if process_collectors:
            for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
                self.registry.register(collector)
        r = self.registry
        self.tool_calls = Counter(
            "k8s_debug_mcp_tool_calls", "Tool calls by tool and outcome.", ["tool", "outcome"], registry=r
        )
        self.tool_call_duration = Histogram(
            "k8s_debug_mcp_tool_call_duration_seconds",
            "Tool call latency, from arguments received to result sent.",
            ["tool"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.refusals = Counter(
            "k8s_debug_mcp_refusals",
            "Requests the server refused, by reason (policy setting, user, RBAC).",
            ["reason"],
            registry=r,
        )
        self.api_errors = Counter(
            "k8s_debug_mcp_kube_api_errors",
            "Kubernetes API errors by HTTP status (0: unreachable).",
            ["status"],
            registry=r,
        )
        self.ready = Gauge("k8s_debug_mcp_ready", "1 when the last readiness check passed.", registry=r)
        self.build_info = Gauge("k8s_debug_mcp_build_info", "The running version.", ["version"], registry=r)
        self.build_info.labels(version=__version__).set(1)

    def observe_call(self, tool: str, outcome: str, seconds: float) -> None:
        name = label(tool)
        self.tool_calls.labels(tool=name, outcome=label(outcome)).inc()
        self.tool_call_duration.labels(tool=name).observe(max(seconds, 0.0))

    def observe_refusal(self, reason: str) -> None:
        self.refusals.labels(reason=label(reason)).inc()

    def observe_api_error(self, status: int) -> None:
        self.api_errors.labels(status=str(status) if 0 <= status <= 999 else "other").inc()

    def set_ready(self, ok: bool) -> None:
        self.ready.set(1 if ok else 0)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


METRICS = Metrics()


def observe_call(tool: str, outcome: str, seconds: float) -> None:
    """Count one tool call and its latency (the registry calls this once per call)."""
    METRICS.observe_call(tool, outcome, seconds)


def observe_refusal(reason: str) -> None:
    """Count a refusal: a policy setting's name, 'user_declined', 'rbac', 'audit_unavailable', ..."""
    METRICS.observe_refusal(reason)


def observe_api_error(status: int) -> None:
    """Count a Kubernetes API error by HTTP status (0 when the API server was not reached)."""
    METRICS.observe_api_error(status)


def set_ready(ok: bool) -> None:
    METRICS.set_ready(ok)


# -- probes ---------------------------------------------------------------------------


@dataclass
class _Verdict:
    ok: bool
    reason: str
    at: float


class HealthEndpoints:
    """ASGI: /healthz and /readyz answered before the wrapped app (and its authentication)."""

    def __init__(
        self,
        app: Any,
        *,
        ready: Readiness,
        timeout: float = 3.0,
        cache_seconds: float = 2.0,
        metrics: Metrics | None = None,
        on_shutdown: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.app = app
        self._ready = ready
        self._timeout = timeout
        self._cache_seconds = cache_seconds
        self._metrics = metrics if metrics is not None else METRICS
        self._on_shutdown = on_shutdown
        self._verdict: _Verdict | None = None
        self._lock = asyncio.Lock()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("path") in ("/healthz", "/readyz"):
            await self._probe(scope, send)
            return
        if scope["type"] == "lifespan" and self._on_shutdown is not None:
            receive = self._watch_shutdown(receive)
        await self.app(scope, receive, send)

    def _watch_shutdown(self, receive: Any) -> Any:
        on_shutdown = self._on_shutdown
        assert on_shutdown is not None

        async def wrapped() -> Any:
            message = await receive()
            if message.get("type") == "lifespan.shutdown":
                with contextlib.suppress(Exception):  # shutting down anyway: the app must still stop
                    await on_shutdown()
            return message

        return wrapped

    async def check(self) -> _Verdict:
        """The readiness verdict, at most `cache_seconds` old; one check runs at a time."""
        async with self._lock:
            now = time.monotonic()
            if self._verdict is not None and now - self._verdict.at < self._cache_seconds:
                return self._verdict
            try:
                await asyncio.wait_for(self._ready(), self._timeout)
                verdict = _Verdict(True, "", time.monotonic())
            except TimeoutError:
                verdict = _Verdict(False, "timeout", time.monotonic())
            except Exception as exc:  # any failure means "not ready"; only its class is shown
                verdict = _Verdict(False, type(exc).__name__, time.monotonic())
            self._verdict = verdict
            self._metrics.set_ready(verdict.ok)
            return verdict

    async def _probe(self, scope: dict[str, Any], send: Any) -> None:
        if scope.get("method") not in ("GET", "HEAD"):
            await _respond(send, 405, {"error": "method not allowed"}, scope, extra=[(b"allow", b"GET, HEAD")])
            return
        if scope["path"] == "/healthz":
            await _respond(send, 200, {"status": "ok"}, scope)
            return
        verdict = await self.check()
        if verdict.ok:
            await _respond(send, 200, {"status": "ready"}, scope)
        else:
            await _respond(send, 503, {"status": "not ready", "reason": verdict.reason}, scope)


async def _respond(
    send: Any, status: int, body: dict[str, str], scope: dict[str, Any], extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    data = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
        (b"cache-control", b"no-store"),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else data})


# -- the metrics port ---------------------------------------------------------------------


class MetricsServer:
    """prometheus-client's HTTP server in a daemon thread: /metrics (any path) on its own port."""

    def __init__(self, host: str, port: int, metrics: Metrics | None = None) -> None:
        self.metrics = metrics if metrics is not None else METRICS
        self._server, self._thread = start_http_server(port, addr=host, registry=self.metrics.registry)
        self.host = host
        self.port = int(self._server.server_address[1])

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def start_metrics_server(host: str, port: int, metrics: Metrics | None = None) -> MetricsServer:
    """Serve the metrics on host:port (port 0: any free port; see `.port`)."""
    return MetricsServer(host, port, metrics)


# -- traces -------------------------------------------------------------------------------

_TRACING_LOCK = threading.Lock()


def configure_tracing(service_name: str = "k8s-debug-mcp") -> bool:
    """Export the MCP SDK's OpenTelemetry spans over OTLP/HTTP when an endpoint is configured.

    The standard OTEL_* variables configure the exporter (endpoint, headers, timeout).
    Returns True when a tracer provider was installed; False when no endpoint is set.
    Raises RuntimeError when an endpoint is set but the `otel` extra is not installed.
    """
    env = os.environ
    if not (env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")):
        return False
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise RuntimeError(
            "an OTLP endpoint is configured but OpenTelemetry's SDK is missing: "
            "install k8s-debug-mcp[otel] (or unset OTEL_EXPORTER_OTLP_ENDPOINT)"
        ) from exc
    with _TRACING_LOCK:
        name = env.get("OTEL_SERVICE_NAME") or service_name  # the standard variable wins
        resource = Resource.create({"service.name": name, "service.version": __version__})
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
    return True
