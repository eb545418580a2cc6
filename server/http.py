"""Streamable HTTP: loopback by default, a bearer token required for anything else.

The client's token only opens this server; it is never passed on to the Kubernetes API
(the server talks to Kubernetes with its own kubeconfig or service account).
"""

from __future__ import annotations

import hmac
import json
from typing import Any

import uvicorn
from mcp.server import MCPServer

from k8s_debug_mcp.server.settings import Settings, is_loopback

__all__ = ["BearerAuth", "http_app", "run_http"]

MAX_REQUEST_BODY = 1024 * 1024  # tool arguments are small; exec stdin is capped at 64 KiB


class BearerAuth:
    """ASGI middleware: every HTTP request must carry `Authorization: Bearer <token>`."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = next((v for k, v in scope.get("headers", []) if k == b"authorization"), b"")
            if not hmac.compare_digest(given, self.expected):
                body = json.dumps({"error": "unauthorized", "error_description": "a valid bearer token is required"})
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"www-authenticate", b'Bearer realm="k8s-debug-mcp"'),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body.encode()})
                return
        await self.app(scope, receive, send)


def http_app(server: MCPServer[Any], settings: Settings) -> Any:
    app = server.streamable_http_app(host=settings.host, max_request_body_size=MAX_REQUEST_BODY)
    token = settings.http_token.get_secret_value() if settings.http_token else None
    return BearerAuth(app, token) if token else app


def run_http(server: MCPServer[Any], settings: Settings) -> None:
    if not is_loopback(settings.host) and settings.http_token is None:  # Settings refuses this too
        raise SystemExit("refusing a non-loopback bind without a bearer token")
    uvicorn.run(http_app(server, settings), host=settings.host, port=settings.port, log_level="warning")
