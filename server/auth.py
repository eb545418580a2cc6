"""HTTP authentication through the SDK's own resource-server support.

A `TokenVerifier` checks the bearer token; the SDK's middleware refuses requests without a
valid one (401 with `WWW-Authenticate`) and puts the verified principal in its auth context,
from which `confirm.caller_of` reads who is calling. Two verifiers:

- `StaticTokenVerifier`: one shared token, the simple mode for one user (every caller acts with
  the server's own Kubernetes identity);
- `TokenReviewVerifier` (team mode): each caller's own Kubernetes token, issued for this server's
  audience (`kubectl create token NAME --audience k8s-debug-mcp`, or an OIDC token the API server
  trusts), checked with a TokenReview whose `spec.audiences` is that audience. A token for any other
  audience (the API server's own included) is refused: a token meant for another service is never
  accepted, and no caller's token is ever passed on. The reviewed user (name, uid, groups, extra)
  rides in the AccessToken's claims; every API request made for the caller impersonates it.
  Verdicts are cached briefly (bounded, keyed by a hash of the token, never past the token's
  expiry). With it the SDK serves RFC 9728 protected-resource metadata and names it in
  `WWW-Authenticate`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings

from k8s_debug_mcp.server.confirm import CLAIM_USER
from k8s_debug_mcp.server.logs import get_logger
from k8s_debug_mcp.server.settings import Settings
from k8s_debug_mcp.tools.errors import DebugError
from k8s_debug_mcp.tools.identity import Identity
from k8s_debug_mcp.tools.kube import Json, obj
from k8s_debug_mcp.tools.redact import mask_text
from k8s_debug_mcp.tools.text import cap_chars, one_line

__all__ = ["Reviewer", "StaticTokenVerifier", "TokenReviewVerifier", "auth_for"]

Reviewer = Callable[[str, list[str]], Awaitable[Json]]
"""(token, audiences) -> a TokenReview's status (the gateway's `review_token`)."""

MAX_TOKEN_CHARS: Final = 16 * 1024
MAX_CACHED: Final = 1024
REFUSAL_CACHE_S: Final = 5.0


class StaticTokenVerifier:
    """One shared bearer token (the simple single-user mode), compared in constant time."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()

    async def verify_token(self, token: str) -> AccessToken | None:
        if not hmac.compare_digest(token.encode(), self._token):
            return None
        return AccessToken(token="static", client_id="static-token", scopes=[])


def jwt_expiry(token: str) -> int | None:
    """The `exp` claim of a JWT, read without checking its signature: only to bound how long a verdict the
    API server gave is reused. None for tokens that are not JWTs or carry no expiry."""
    parts = token.split(".")
    if len(parts) != 3 or len(parts[1]) > 8192:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return int(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


@dataclass(frozen=True, slots=True)
class _Verdict:
    until: float
    token: AccessToken | None


class TokenReviewVerifier:
    """Each caller's own Kubernetes token, for this server's audience, checked with a TokenReview."""

    def __init__(
        self,
        review: Reviewer,
        *,
        audience: str,
        cache_seconds: float = 30.0,
        clock: Callable[[], float] = time.time,
        max_cached: int = MAX_CACHED,
    ) -> None:
        self._review = review
        self._audience = audience
        self._cache_s = cache_seconds
        self._clock = clock
        self._max = max_cached
        self._cache: OrderedDict[str, _Verdict] = OrderedDict()
        self._log = get_logger("k8s_debug_mcp.auth")

    def __repr__(self) -> str:
        return f"TokenReviewVerifier(audience={self._audience!r}, cached={len(self._cache)})"

    async def verify_token(self, token: str) -> AccessToken | None:
        if not token or len(token) > MAX_TOKEN_CHARS:
            return None
        key = hashlib.sha256(token.encode()).hexdigest()
        now = self._clock()
        hit = self._cache.get(key)
        if hit is not None:
            if hit.until > now:
                self._cache.move_to_end(key)
                return hit.token
            del self._cache[key]
        try:
            status = await self._review(token, [self._audience])
        except DebugError as exc:
            # not cached: the next request asks again. The SDK answers 401 (the client may retry).
            self._log.warning("token_review_failed", error=exc.message)
            return None
        verdict = self._judge(status, key, now, jwt_expiry(token))
        if verdict.until > now:
            self._cache[key] = verdict
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)
        return verdict.token

    def _judge(self, status: Json, key: str, now: float, expires: int | None) -> _Verdict:
        refused = _Verdict(now + min(REFUSAL_CACHE_S, self._cache_s), None)
        if status.get("authenticated") is not True:
            error = cap_chars(mask_text(one_line(str(status.get("error") or "")))[0], 300)
            self._log.info("token_refused", reason="not_authenticated", detail=error)
            return refused
        audiences = status.get("audiences")
        if not isinstance(audiences, list) or self._audience not in audiences:
            # an audience-unaware authenticator, or a token for the API server itself: never accepted here
            self._log.info("token_refused", reason="audience", audiences=str(audiences)[:200])
            return refused
        identity = Identity.from_user_info(obj(status.get("user")))
        if not identity.username:
            self._log.info("token_refused", reason="no_username")
            return refused
        if expires is not None and expires <= now:
            return _Verdict(now, None)
        until = now + self._cache_s if expires is None else min(now + self._cache_s, float(expires))
        access = AccessToken(
            token=f"sha256:{key[:16]}",
            client_id="kubernetes",
            scopes=[],
            expires_at=expires,
            subject=identity.username,
            # The principal is the Kubernetes user: the same on every replica (sessions and the SDK's sealed
            # request state bind (client_id, iss, subject), so iss must not be a replica's own URL).
            claims={"iss": f"kubernetes-tokenreview:{self._audience}", CLAIM_USER: identity.to_json()},
        )
        return _Verdict(until, access)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


Verifier = StaticTokenVerifier | TokenReviewVerifier


def auth_for(settings: Settings, *, reviewer: Reviewer | None = None) -> tuple[AuthSettings, Verifier] | None:
    """The SDK auth configuration for these settings; None when HTTP runs without a token (loopback)."""
    if settings.http_auth == "tokenreview":
        if reviewer is None:
            from k8s_debug_mcp.tools.gateway import KubeGateway

            # the server's own identity, used for nothing but TokenReviews
            reviewer = KubeGateway(settings.kube, policy=settings.policy).review_token
        resource = settings.resource_url
        issuer = settings.auth_issuer_url or _origin(resource)
        auth = AuthSettings(issuer_url=issuer, resource_server_url=resource, validate_token_resource=False)
        verifier = TokenReviewVerifier(
            reviewer, audience=settings.token_audience, cache_seconds=settings.token_cache_seconds
        )
        return auth, verifier
    if settings.http_token is None:
        return None
    base = f"http://{settings.host}:{settings.port}"
    auth = AuthSettings(issuer_url=base, resource_server_url=None, validate_token_resource=False)
    return auth, StaticTokenVerifier(settings.http_token.get_secret_value())
