"""Streamable HTTP: loopback by default; anything else needs authentication.

Authentication is the SDK's own (server/auth.py). The client's token only opens this server;
it is never passed on to the Kubernetes API. /healthz and /readyz answer in front of the token check
(server/observability.py); Prometheus metrics, when a metrics port is set, are served on that port.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

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

__all__ = [
    "MAX_REQUEST_BODY",
    "CancelOnDisconnect",
    "ResourceMetadataAtRoot",
    "SlowClientGuard",
    "http_app",
    "run_http",
]

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
        body_done = timed_out = False

        async def guarded_receive() -> Message:
            nonlocal body_done, timed_out
            if body_done:
                return await receive()  # the body is in; later receives wait for a disconnect
            with anyio.move_on_after(max(deadline - anyio.current_time(), 0)) as waited:
                message = await receive()
            if waited.cancelled_caught:
                # answer 408 here and show the app a disconnect: it stops quietly, and its own
                # error answer (if any) is dropped by guarded_send
                timed_out = body_done = True
                await send({"type": "http.response.start", "status": 408, "headers": [(b"connection", b"close")]})
                await send({"type": "http.response.body", "body": b"request body too slow"})
                return {"type": "http.disconnect"}
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def guarded_send(message: Message) -> None:
            if not timed_out:
                await send(message)

        await self.app(scope, guarded_receive, guarded_send)


class CancelOnDisconnect:
    """ASGI: a 2025-era client that disconnects before its answer arrives gets its request cancelled.

    The spec lets a client resume a broken stream, but only from a server with an event store; this
    one keeps none, so an answer whose stream is gone can never be delivered and the work (an exec
    holding a websocket, a wait on a pod) would run on for nothing. When the request's own stream
    reports a disconnect, the request is cancelled the way the client would do it: a
    `notifications/cancelled` for its id, posted to this app with the session's own headers (so the
    session and the token checks are the same). The 2026 era already cancels on disconnect."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or [])
        if scope["type"] != "http" or scope.get("method") != "POST" or b"mcp-session-id" not in headers:
            await self.app(scope, receive, send)
            return
        body = bytearray()
        request_id: object = None
        answered = cancelled = False

        async def watching_receive() -> Message:
            nonlocal request_id, cancelled
            message = await receive()
            if message["type"] == "http.request":
                body.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    request_id = _request_id(bytes(body))
            elif message["type"] == "http.disconnect" and request_id is not None and not answered and not cancelled:
                cancelled = True
                with anyio.CancelScope(shield=True):
                    await self._cancel(scope, request_id)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                answered = True
            await send(message)

        await self.app(scope, watching_receive, watching_send)

    async def _cancel(self, scope: Scope, request_id: object) -> None:
        note = json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "notifications/cancelled",
                "params": {"requestId": request_id, "reason": "the client disconnected"},
            }
        ).encode()
        headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
        sub = {**scope, "headers": [*headers, (b"content-length", str(len(note)).encode())]}
        delivered = False

        async def one_body() -> Message:
            nonlocal delivered
            if delivered:
                await anyio.sleep_forever()
            delivered = True
            return {"type": "http.request", "body": note, "more_body": False}

        async def discard(message: Message) -> None:
            return None

        with anyio.move_on_after(5):
            await self.app(sub, one_body, discard)


class ResourceMetadataAtRoot:
    """ASGI: RFC 9728 metadata also at `/.well-known/oauth-protected-resource` (no path suffix).

    The SDK serves it where RFC 9728 puts it for the resource `https://host/mcp`:
    `/.well-known/oauth-protected-resource/mcp`, and names that URL in `WWW-Authenticate`. Clients that
    only know the server's origin look at the root; this answers them with the same document."""

    ROOT = "/.well-known/oauth-protected-resource"

    def __init__(self, app: ASGIApp, resource_url: str) -> None:
        self.app = app
        self.target = self.ROOT + (urlsplit(resource_url).path.rstrip("/") or "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") == self.ROOT and self.target != self.ROOT:
            scope = {**scope, "path": self.target, "raw_path": self.target.encode()}
        await self.app(scope, receive, send)


def _request_id(body: bytes) -> object:
    """The id of a single JSON-RPC request in a POST body; None for notifications, responses, batches."""
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if isinstance(message, dict) and "method" in message and isinstance(message.get("id"), (str, int)):
        return message["id"]
    return None


def http_app(server: MCPServer[AppContext], settings: Settings, *, ready: Readiness | None = None) -> HealthEndpoints:
    """The MCP app (authenticated by the SDK when a token is set) behind unauthenticated /healthz and
    /readyz. Readiness: the API server answers a SelfSubjectReview with the server's own credentials."""
    mcp_app: Starlette = server.streamable_http_app(
        host=settings.host, max_request_body_size=MAX_REQUEST_BODY, stateless_http=settings.http_stateless
    )
    inner: ASGIApp = CancelOnDisconnect(mcp_app)
    if settings.team:
        inner = ResourceMetadataAtRoot(inner, settings.resource_url)
    app = SlowClientGuard(inner, read_timeout=settings.http_read_timeout)
    if ready is not None:
        return HealthEndpoints(app, ready=ready)
    probe = KubeGateway(settings.kube, policy=settings.policy)
    return HealthEndpoints(app, ready=probe.whoami, on_shutdown=probe.close)


def run_http(server: MCPServer[AppContext], settings: Settings) -> None:
    if not is_loopback(settings.host) and settings.http_token is None and not settings.team:  # Settings refuses too
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
