"""Streamable HTTP: loopback by default; anything else needs authentication.

Authentication is the SDK's own (server/auth.py). The client's token only opens this server;
it is never passed on to the Kubernetes API. /healthz and /readyz answer in front of the token check
(server/observability.py); Prometheus metrics, when a metrics port is set, are served on that port.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import uvicorn
from mcp.server import MCPServer
from starlette.applications import Starlette

from k8s_debug_mcp.server.observability import HealthEndpoints, Readiness, start_metrics_server
from k8s_debug_mcp.server.settings import Settings, is_loopback
from k8s_debug_mcp.tools.gateway import KubeGateway

if TYPE_CHECKING:
    from k8s_debug_mcp.server.app import AppContext

__all__ = ["MAX_REQUEST_BODY", "http_app", "run_http"]

MAX_REQUEST_BODY = 1024 * 1024  # tool arguments are small; exec stdin is capped at 64 KiB


def http_app(server: MCPServer[AppContext], settings: Settings, *, ready: Readiness | None = None) -> HealthEndpoints:
    """The MCP app (authenticated by the SDK when a token is set) behind unauthenticated /healthz and
    /readyz. Readiness: the API server answers a SelfSubjectReview with the server's own credentials."""
    app: Starlette = server.streamable_http_app(host=settings.host, max_request_body_size=MAX_REQUEST_BODY)
    if ready is not None:
        return HealthEndpoints(app, ready=ready)
    probe = KubeGateway(settings.kube, policy=settings.policy)
    return HealthEndpoints(app, ready=probe.whoami, on_shutdown=probe.close)


def run_http(server: MCPServer[AppContext], settings: Settings) -> None:
    if not is_loopback(settings.host) and settings.http_token is None:  # Settings refuses this too
        raise SystemExit("refusing a non-loopback bind without a bearer token")
    metrics = None
    if settings.metrics_port is not None:
        metrics = start_metrics_server(settings.metrics_host or settings.host, settings.metrics_port)
    try:
        uvicorn.run(http_app(server, settings), host=settings.host, port=settings.port, log_level="warning")
    finally:
        if metrics is not None:
            metrics.close()
