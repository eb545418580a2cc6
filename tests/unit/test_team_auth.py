"""Team mode's pure parts: the TokenReview verifier (audience, cache, expiry) and impersonation headers.

The real API server's answers are tested in tests/integration/test_team.py; here the reviewer is a
function returning TokenReview statuses as the API server shapes them.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from k8s_debug_mcp.server import build_server
from k8s_debug_mcp.server.auth import TokenReviewVerifier, auth_for, jwt_expiry
from k8s_debug_mcp.server.confirm import CLAIM_USER
from k8s_debug_mcp.server.settings import Settings
from k8s_debug_mcp.tools.errors import ClusterUnavailable
from k8s_debug_mcp.tools.identity import Identity
from k8s_debug_mcp.tools.kube import Json
from k8s_debug_mcp.tools.policy import Policy
from tests.fakes import FakeGateway, running_pod
from tests.mcp.util import data

pytestmark = pytest.mark.anyio

NOW = 1_800_000_000.0
AUD = "k8s-debug-mcp"
ALICE = {
    "username": "system:serviceaccount:team:alice",
    "uid": "u-1",
    "groups": ["system:serviceaccounts", "system:serviceaccounts:team", "system:authenticated"],
    "extra": {"authentication.kubernetes.io/credential-id": ["JTI=abc"]},
}


def jwt(exp: float | None) -> str:
    def part(d: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")

    claims: dict[str, Any] = {"sub": "x"} if exp is None else {"sub": "x", "exp": int(exp)}
    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2ln"


class Reviewer:
    def __init__(self, status: Json | Exception) -> None:
        self.status = status
        self.calls: list[tuple[str, list[str]]] = []

    async def __call__(self, token: str, audiences: list[str]) -> Json:
        self.calls.append((token, audiences))
        if isinstance(self.status, Exception):
            raise self.status
        return self.status


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def verifier(reviewer: Reviewer, clock: Clock | None = None, **kw: Any) -> TokenReviewVerifier:
    return TokenReviewVerifier(reviewer, audience=AUD, clock=clock or Clock(), **kw)


OK: Json = {"authenticated": True, "audiences": [AUD], "user": ALICE}


async def test_a_token_for_this_audience_names_the_reviewed_user() -> None:
    review = Reviewer(OK)
    token = await verifier(review).verify_token(jwt(NOW + 3600))
    assert token is not None
    assert review.calls[0][1] == [AUD]  # the review asks for our audience, nothing else
    assert token.subject == ALICE["username"]
    assert token.expires_at == int(NOW + 3600)
    assert token.claims is not None
    assert token.claims[CLAIM_USER]["uid"] == "u-1"
    assert token.claims["iss"] == f"kubernetes-tokenreview:{AUD}"  # the same on every replica
    assert "ey" not in token.token  # the AccessToken keeps a digest, never the bearer token


@pytest.mark.parametrize(
    "status",
    [
        {"authenticated": False, "error": "token audiences are invalid for the target audiences"},
        {"authenticated": True, "audiences": [], "user": ALICE},  # valid for the API server itself only
        {"authenticated": True, "user": ALICE},  # an authenticator that does not know audiences
        {"authenticated": True, "audiences": ["another-service"], "user": ALICE},
        {"authenticated": True, "audiences": [AUD], "user": {"username": ""}},
        {"authenticated": "true", "audiences": [AUD], "user": ALICE},
        {},
    ],
)
async def test_tokens_for_other_audiences_or_not_authenticated_are_refused(status: Json) -> None:
    assert await verifier(Reviewer(status)).verify_token(jwt(NOW + 3600)) is None


async def test_verdicts_are_cached_briefly_by_token_hash() -> None:
    review, clock = Reviewer(OK), Clock()
    v = verifier(review, clock, cache_seconds=30)
    token = jwt(NOW + 3600)
    assert await v.verify_token(token) is not None
    clock.now += 29
    assert await v.verify_token(token) is not None
    assert len(review.calls) == 1
    clock.now += 2
    assert await v.verify_token(token) is not None
    assert len(review.calls) == 2


async def test_a_cached_verdict_never_outlives_the_token() -> None:
    review, clock = Reviewer(OK), Clock()
    v = verifier(review, clock, cache_seconds=300)
    token = jwt(NOW + 10)
    assert await v.verify_token(token) is not None
    clock.now += 11
    review.status = {"authenticated": False, "error": "token has expired"}
    assert await v.verify_token(token) is None
    assert len(review.calls) == 2


async def test_an_expired_token_is_refused_even_if_the_review_said_yes() -> None:
    assert await verifier(Reviewer(OK)).verify_token(jwt(NOW - 1)) is None


async def test_refusals_are_cached_for_seconds_only_and_failures_not_at_all() -> None:
    clock = Clock()
    review = Reviewer({"authenticated": False})
    v = verifier(review, clock)
    await v.verify_token("bad")
    await v.verify_token("bad")
    assert len(review.calls) == 1
    clock.now += 6
    await v.verify_token("bad")
    assert len(review.calls) == 2
    down = Reviewer(ClusterUnavailable("API server down"))
    v = verifier(down, clock)
    assert await v.verify_token("t") is None
    assert await v.verify_token("t") is None
    assert len(down.calls) == 2


async def test_the_cache_is_bounded() -> None:
    review = Reviewer(OK)
    v = verifier(review, max_cached=3)
    for i in range(10):
        await v.verify_token(f"token-{i}")
    assert "cached=3" in repr(v)
    await v.verify_token("token-0")
    assert len(review.calls) == 11


async def test_empty_and_huge_tokens_are_refused_without_a_review() -> None:
    review = Reviewer(OK)
    v = verifier(review)
    assert await v.verify_token("") is None
    assert await v.verify_token("x" * 20000) is None
    assert review.calls == []


@pytest.mark.parametrize(
    ("token", "exp"),
    [
        (jwt(NOW), int(NOW)),
        (jwt(None), None),
        ("opaque-token", None),
        ("a.b.c", None),
        ("a.!!!.c", None),
        (f"a.{base64.urlsafe_b64encode(b'[1]').decode()}.c", None),
        (f"a.{base64.urlsafe_b64encode(json.dumps({'exp': True}).encode()).decode()}.c", None),
    ],
)
def test_jwt_expiry_reads_exp_or_nothing(token: str, exp: int | None) -> None:
    assert jwt_expiry(token) == exp


def test_impersonation_headers_carry_user_uid_groups_and_extra() -> None:
    identity = Identity.from_user_info(ALICE)
    assert identity.headers() == [
        ("Impersonate-User", "system:serviceaccount:team:alice"),
        ("Impersonate-Uid", "u-1"),
        ("Impersonate-Group", "system:serviceaccounts"),
        ("Impersonate-Group", "system:serviceaccounts:team"),
        # system:authenticated is added by the API server itself
        ("Impersonate-Extra-authentication.kubernetes.io%2Fcredential-id", "JTI=abc"),
    ]


def test_identity_from_odd_user_info_is_safe() -> None:
    identity = Identity.from_user_info({"username": "bob", "groups": "not-a-list", "extra": {"k": "v", 1: ["x"]}})
    assert identity == Identity(username="bob")
    assert identity.headers() == [("Impersonate-User", "bob")]


def test_team_mode_serves_protected_resource_metadata_for_its_public_url() -> None:
    s = Settings(http_auth="tokenreview", host="127.0.0.1", port=8123)
    pair = auth_for(s, reviewer=Reviewer(OK))
    assert pair is not None
    auth, v = pair
    assert str(auth.resource_server_url) == "http://127.0.0.1:8123/mcp"
    assert str(auth.issuer_url) == "http://127.0.0.1:8123"
    assert isinstance(v, TokenReviewVerifier)
    s = Settings(http_auth="tokenreview", public_url="https://mcp.example/mcp", auth_issuer_url="https://idp.example")
    pair = auth_for(s, reviewer=Reviewer(OK))
    assert pair is not None
    assert str(pair[0].resource_server_url) == "https://mcp.example/mcp"
    assert str(pair[0].issuer_url) == "https://idp.example"


def test_team_mode_refuses_a_static_token_too_and_allows_a_non_loopback_bind() -> None:
    with pytest.raises(ValueError, match="remove the static http_token"):
        Settings(http_auth="tokenreview", http_token="x" * 20)
    assert Settings(http_auth="tokenreview", host="0.0.0.0").team
    with pytest.raises(ValueError, match="without authentication"):
        Settings(host="0.0.0.0")
    with pytest.raises(ValueError, match="public_url"):
        Settings(http_auth="tokenreview", public_url="ftp://x")


def test_the_plan_ledger_follows_the_mode_unless_set() -> None:
    assert Settings().ledger == "memory"
    assert Settings(http_auth="tokenreview").ledger == "cluster"
    assert Settings(http_auth="tokenreview", plan_ledger="memory").ledger == "memory"


async def test_in_team_mode_a_call_without_a_reviewed_caller_acts_as_anonymous_never_as_the_server(
    tmp_path: Path,
) -> None:
    fake = FakeGateway()
    fake.add(running_pod("web"))
    settings = Settings(
        kubeconfig="/nonexistent",
        audit_log=str(tmp_path / "audit.jsonl"),
        http_auth="tokenreview",
        plan_ledger="memory",
        policy=Policy(confirm=False),
    )
    async with Client(build_server(settings, gateway=fake)) as client:
        me = await client.call_tool("whoami", {"namespace": "ns"})
    assert data(me)["user"] == "system:anonymous"
