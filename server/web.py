"""Streamable HTTP: loopback by default; anything else needs authentication.

Authentication is the SDK's own (server/auth.py). The client's token only opens this server;
it is never passed on to the Kubernetes API. /healthz and /readyz answer in front of the token check
(server/observability.py); Prometheus metrics, when a metrics port is set, are served on that port.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
import uvicorn
from mcp.server import MCPServer
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from k8s_debug_mcp.server.observability import HealthEndpoints, Readiness, start_metrics_server
from k8s_debug_mcp.server.settings import Settings, is_loopback
from k8s_debug_mcp.tools.gateway import KubeGateway

if TYPE_CHECKING:
    from k8s_debug_mcp.server.app import AppContext

__all__ = ["MAX_REQUEST_BODY", "SlowClientGuard", "http_app", "run_http"]

MAX_REQUEST_BODY = 1024 * 1024  # tool arguments are small; exec stdin is capped at 64 KiB


class SlowClientGuard:
    """ASGI: a request must deliver its body within `read_timeout` seconds (408 otherwise), so a client
    sending a byte a second cannot hold a worker; uvicorn bounds idle keep-alive and connections."""

    def __init__(self, app: ASGIApp, *, read_timeout: float) -> None:
        self.app = app
        self.read_timeout = read_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = anyio.current_time() + self.read_timeout
        started = body_done = False

        async def guarded_receive() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()  # the body is in; later receives wait for a disconnect
            with anyio.move_on_after(max(deadline - anyio.current_time(), 0)) as waited:
                message = await receive()
            if waited.cancelled_caught:
                raise _TooSlow
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app(scope, guarded_receive, tracking_send)
        except _TooSlow:
            if not started:
                await send({"type": "http.response.start", "status": 408, "headers": [(b"connection", b"close")]})
                await send({"type": "http.response.body", "body": b"request body too slow"})


class _TooSlow(Exception):
    pass


def http_app(server: MCPServer[AppContext], settings: Settings, *, ready: Readiness | None = None) -> HealthEndpoints:
    """The MCP app (authenticated by the SDK when a token is set) behind unauthenticated /healthz and
    /readyz. Readiness: the API server answers a SelfSubjectReview with the server's own credentials."""
    mcp_app: Starlette = server.streamable_http_app(host=settings.host, max_request_body_size=MAX_REQUEST_BODY)
    app = SlowClientGuard(mcp_app, read_timeout=settings.http_read_timeout)
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
        uvicorn.run(
            http_app(server, settings),
            host=settings.host,
            port=settings.port,
            log_level="warning",
            timeout_keep_alive=int(settings.http_idle_timeout),
            limit_concurrency=settings.http_max_connections,
        )
    finally:
        if metrics is not None:
            metrics.close()
