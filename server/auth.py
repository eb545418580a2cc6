"""HTTP authentication through the SDK's own resource-server support.

A `TokenVerifier` checks the bearer token; the SDK's middleware refuses requests without a
valid one (401 with `WWW-Authenticate`) and puts the verified principal in its auth context,
from which `confirm.caller_of` reads who is calling. The static token is the simple mode for
one user.
"""

from __future__ import annotations

import hmac

from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings

from k8s_debug_mcp.server.settings import Settings

__all__ = ["StaticTokenVerifier", "auth_for"]


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
