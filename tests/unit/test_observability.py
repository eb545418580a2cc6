"""Probes, metrics and traces (server/observability.py): probes answer without the bearer token
and say nothing but ready/not ready; metrics are served on their own loopback port; traces
reach a real OTLP/HTTP receiver on loopback."""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import subprocess
import sys
import textwrap
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from k8s_debug_mcp.server.observability import (
    HealthEndpoints,
    Metrics,
    configure_tracing,
    label,
    start_metrics_server,
)

pytestmark = pytest.mark.anyio


async def inner_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Stands in for the MCP app behind the probes: says which path it served."""
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": f"app:{scope['path']}".encode()})


async def call(app: Any, path: str, *, method: str = "GET", token: str | None = None) -> tuple[int, bytes]:
    headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
    scope = {"type": "http", "method": method, "path": path, "headers": headers}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(msg: dict[str, Any]) -> None:
        sent.append(msg)

    await app(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return int(sent[0]["status"]), body


class Probe:
    """A readiness check whose answer the test controls, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.error: BaseException | None = None
        self.delay = 0.0

    async def __call__(self) -> None:
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(CollectorRegistry(), process_collectors=False)


class RequiresToken:
    """Stands in for the token-guarded MCP app: 401 unless the bearer token is sent (the SDK's own
    check is exercised over HTTP in tests/mcp/test_transports.py)."""

    def __init__(self, app: Any, token: str) -> None:
        self.app, self.expected = app, f"Bearer {token}".encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        given = dict(scope.get("headers") or []).get(b"authorization", b"")
        if given != self.expected:
            await send({"type": "http.response.start", "status": 401, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send)


def guarded(probe: Probe, metrics: Metrics, **kw: Any) -> HealthEndpoints:
    return HealthEndpoints(RequiresToken(inner_app, "s3cret"), ready=probe, metrics=metrics, **kw)


async def test_healthz_and_readyz_answer_without_the_bearer_token(metrics: Metrics) -> None:
    app = guarded(Probe(), metrics)
    assert await call(app, "/healthz") == (200, b'{"status": "ok"}')
    assert await call(app, "/readyz") == (200, b'{"status": "ready"}')


async def test_every_other_path_still_needs_the_token(metrics: Metrics) -> None:
    app = guarded(Probe(), metrics)
    assert (await call(app, "/mcp"))[0] == 401
    assert (await call(app, "/healthz/../mcp"))[0] == 401
    assert (await call(app, "/readyz/x"))[0] == 401
    assert await call(app, "/mcp", token="s3cret") == (200, b"app:/mcp")


async def test_readyz_is_503_with_only_the_error_class_when_the_check_fails(metrics: Metrics) -> None:
    probe = Probe()
    probe.error = ConnectionRefusedError("https://10.0.0.1:6443 refused the connection")
    status, body = await call(guarded(probe, metrics), "/readyz")
    assert status == 503
    assert json.loads(body) == {"status": "not ready", "reason": "ConnectionRefusedError"}
    assert b"10.0.0.1" not in body
    assert metrics.registry.get_sample_value("k8s_debug_mcp_ready") == 0


async def test_healthz_stays_200_while_not_ready(metrics: Metrics) -> None:
    probe = Probe()
    probe.error = RuntimeError("down")
    assert (await call(guarded(probe, metrics), "/healthz"))[0] == 200
    assert probe.calls == 0  # liveness never waits on the API server


async def test_a_slow_check_is_cut_off_by_the_timeout(metrics: Metrics) -> None:
    probe = Probe()
    probe.delay = 5
    status, body = await call(guarded(probe, metrics, timeout=0.05), "/readyz")
    assert (status, json.loads(body)["reason"]) == (503, "timeout")


async def test_the_verdict_is_cached_briefly_then_checked_again(metrics: Metrics) -> None:
    probe = Probe()
    app = guarded(probe, metrics, cache_seconds=60)
    for _ in range(5):
        assert (await call(app, "/readyz"))[0] == 200
    assert probe.calls == 1
    fresh = guarded(probe, metrics, cache_seconds=0)
    probe.error = OSError("gone")
    assert (await call(fresh, "/readyz"))[0] == 503
    probe.error = None
    assert (await call(fresh, "/readyz"))[0] == 200
    assert metrics.registry.get_sample_value("k8s_debug_mcp_ready") == 1


async def test_probes_accept_only_get_and_head(metrics: Metrics) -> None:
    app = guarded(Probe(), metrics)
    assert (await call(app, "/healthz", method="POST"))[0] == 405
    assert await call(app, "/healthz", method="HEAD") == (200, b"")


async def test_lifespan_shutdown_runs_the_cleanup_and_reaches_the_app(metrics: Metrics) -> None:
    closed: list[bool] = []

    async def close() -> None:
        closed.append(True)

    app = HealthEndpoints(inner_app, ready=Probe(), metrics=metrics, on_shutdown=close)
    queue = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return queue.pop(0)

    async def send(msg: dict[str, Any]) -> None:
        sent.append(msg["type"])

    await app({"type": "lifespan"}, receive, send)
    assert closed == [True]
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_calls_are_counted_by_tool_and_outcome_with_latency(metrics: Metrics) -> None:
    metrics.observe_call("list_pods", "ok", 0.02)
    metrics.observe_call("list_pods", "ok", 0.2)
    metrics.observe_call("add_debug_container", "Forbidden", 1.5)
    get = metrics.registry.get_sample_value
    assert get("k8s_debug_mcp_tool_calls_total", {"tool": "list_pods", "outcome": "ok"}) == 2
    assert get("k8s_debug_mcp_tool_calls_total", {"tool": "add_debug_container", "outcome": "forbidden"}) == 1
    assert get("k8s_debug_mcp_tool_call_duration_seconds_count", {"tool": "list_pods"}) == 2
    assert get("k8s_debug_mcp_tool_call_duration_seconds_bucket", {"tool": "list_pods", "le": "0.025"}) == 1
    assert get("k8s_debug_mcp_tool_call_duration_seconds_sum", {"tool": "add_debug_container"}) == 1.5


def test_refusals_and_api_errors_are_counted(metrics: Metrics) -> None:
    metrics.observe_refusal("allowed_namespaces")
    metrics.observe_refusal("user declined")
    metrics.observe_api_error(403)
    metrics.observe_api_error(403)
    metrics.observe_api_error(0)
    get = metrics.registry.get_sample_value
    assert get("k8s_debug_mcp_refusals_total", {"reason": "allowed_namespaces"}) == 1
    assert get("k8s_debug_mcp_refusals_total", {"reason": "user_declined"}) == 1
    assert get("k8s_debug_mcp_kube_api_errors_total", {"status": "403"}) == 2
    assert get("k8s_debug_mcp_kube_api_errors_total", {"status": "0"}) == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("PolicyDenied", "policydenied"), ("a b/c", "a_b_c"), ("", "unknown"), ("x" * 500, "x" * 48), ("ü", "unknown")],
)
def test_label_values_are_short_safe_words(raw: str, expected: str) -> None:
    assert label(raw) == expected


@pytest.fixture
def metrics_port(metrics: Metrics) -> Iterator[int]:
    server = start_metrics_server("127.0.0.1", 0, metrics)
    try:
        yield server.port
    finally:
        server.close()


def test_the_metrics_port_serves_prometheus_text_on_loopback(metrics: Metrics, metrics_port: int) -> None:
    metrics.observe_call("diagnose", "ok", 0.5)
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = resp.read().decode()
    assert 'k8s_debug_mcp_tool_calls_total{outcome="ok",tool="diagnose"} 1.0' in text
    assert "# TYPE k8s_debug_mcp_tool_call_duration_seconds histogram" in text
    assert "# TYPE k8s_debug_mcp_refusals_total counter" in text
    assert "# TYPE k8s_debug_mcp_kube_api_errors_total counter" in text
    assert 'k8s_debug_mcp_build_info{version="' in text


def test_the_default_metrics_include_process_collectors() -> None:
    text = Metrics(CollectorRegistry()).exposition().decode()
    assert "process_resident_memory_bytes" in text
    assert "python_info" in text


def test_no_otlp_endpoint_means_no_tracing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    assert configure_tracing() is False


class _Collector(http.server.BaseHTTPRequestHandler):
    """The smallest OTLP/HTTP receiver: keeps each POST's path and body."""

    received: list[tuple[str, bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.received.append((self.path, body))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_with_an_otlp_endpoint_the_sdk_spans_reach_the_collector() -> None:
    collector = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    collector.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=collector.serve_forever, daemon=True)
    thread.start()
    script = textwrap.dedent(
        """
        import asyncio
        from mcp import Client
        from mcp.server import MCPServer
        from opentelemetry import trace
        from k8s_debug_mcp.server.observability import configure_tracing

        assert configure_tracing() is True
        server = MCPServer(name="otel-test")

        @server.tool()
        def ping() -> str:
            return "pong"

        async def main() -> None:
            async with Client(server) as client:
                await client.call_tool("ping", {})

        asyncio.run(main())
        trace.get_tracer_provider().shutdown()
        """
    )
    try:
        env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.server_address[1]}"}
        proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
    finally:
        collector.shutdown()
        collector.server_close()
    received: list[tuple[str, bytes]] = collector.received  # type: ignore[attr-defined]
    assert [path for path, _ in received][:1] == ["/v1/traces"]
    spans = b"".join(body for _, body in received)
    assert b"tools/call ping" in spans
    assert b"k8s-debug-mcp" in spans  # the resource's service.name
