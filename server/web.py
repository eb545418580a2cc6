"""Streamable HTTP: loopback by default; anything else needs authentication.

Authentication goes through the SDK's own resource-server support: a `TokenVerifier`
checks the bearer token, the SDK's middleware refuses requests without a valid one (401 with
`WWW-Authenticate`) and puts the verified principal in its auth context, from which
`confirm.caller_of` reads who is calling. The client's token only opens this server; it is
never passed on to the Kubernetes API.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

import uvicorn
from mcp.server import MCPServer
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from starlette.applications import Starlette

from k8s_debug_mcp.server.settings import Settings, is_loopback

if TYPE_CHECKING:
    from k8s_debug_mcp.server.app import AppContext

__all__ = ["MAX_REQUEST_BODY", "StaticTokenVerifier", "auth_for", "http_app", "run_http"]

MAX_REQUEST_BODY = 1024 * 1024  # tool arguments are small; exec stdin is capped at 64 KiB


class StaticTokenVerifier:
    """One shared bearer token (the simple single-user mode), compared in constant time."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()

    async def verify_token(self, token: str) -> AccessToken | None:
        if not hmac.compare_digest(token.encode(), self._token):
            return None
        return AccessToken(token="static", client_id="static-token", scopes=[])


def auth_for(settings: Settings) -> tuple[AuthSettings, StaticTokenVerifier] | None:
    """The SDK auth configuration for these settings; None when HTTP runs without a token (loopback)."""
    if settings.http_token is None:
        return None
    base = f"http://{settings.host}:{settings.port}"
    auth = AuthSettings(issuer_url=base, resource_server_url=None, validate_token_resource=False)
    return auth, StaticTokenVerifier(settings.http_token.get_secret_value())


def http_app(server: MCPServer[AppContext], settings: Settings) -> Starlette:
    return server.streamable_http_app(host=settings.host, max_request_body_size=MAX_REQUEST_BODY)


def run_http(server: MCPServer[AppContext], settings: Settings) -> None:
    if not is_loopback(settings.host) and settings.http_token is None:  # Settings refuses this too
        raise SystemExit("refusing a non-loopback bind without a bearer token")
    uvicorn.run(http_app(server, settings), host=settings.host, port=settings.port, log_level="warning")
