"""Team mode on the real API server: two replicas, callers with their own tokens and RBAC.

Two server processes ("replicas" A and B) on two loopback ports share nothing but the cluster and
the owner key (as the chart's Secret gives every replica). They run with `--http-auth tokenreview
--http-stateless` and a kubeconfig of their own ServiceAccount, which holds exactly what the chart's
team preset grants: create tokenreviews, impersonate users/groups/serviceaccounts/uids/userextras,
and ConfigMaps (the plan ledger) in its own namespace — nothing on pods. Every pod operation below
therefore works only because the caller's impersonated identity is allowed to do it.

Callers are ServiceAccounts with tokens minted for the server's audience
(`kubectl create token SA --audience k8s-debug-mcp`): a viewer (read pods, logs, events) and two
debuggers (also ephemeral containers, exec, pod copies). Attacks: tokens for other audiences, garbage,
a deleted caller; plans confirmed on the other replica, replayed, raced on both replicas at once,
redeemed by another caller, altered.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult

from k8s_debug_mcp.tools.errors import Forbidden
from k8s_debug_mcp.tools.gateway import KubeGateway, KubeSettings
from k8s_debug_mcp.tools.identity import Identity
from tests.conftest import Kube, Seeded
from tests.mcp.test_transports import serving_http
from tests.mcp.util import data, post_initialize, text

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]

AUDIENCE = "k8s-debug-mcp"
READ = [
    {"apiGroups": [""], "resources": ["pods", "pods/log", "events"], "verbs": ["get", "list", "watch"]},
]
DEBUG = [
    *READ,
    {"apiGroups": [""], "resources": ["pods/ephemeralcontainers"], "verbs": ["patch"]},
    {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create", "get"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "delete"]},
]
SA_TOKEN_EXTRAS = ("credential-id", "node-name", "node-uid", "pod-name", "pod-uid")
# What the chart's team preset grants the server's ServiceAccount (deploy/helm: rbac.preset=team).
SERVER_CLUSTER_RULES = [
    {"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]},
    {"apiGroups": [""], "resources": ["users", "groups", "serviceaccounts"], "verbs": ["impersonate"]},
    {
        "apiGroups": ["authentication.k8s.io"],
        # RBAC has no "userextras/*" wildcard: each extra key a caller's token carries is listed
        "resources": ["uids", *(f"userextras/authentication.kubernetes.io/{key}" for key in SA_TOKEN_EXTRAS)],
        "verbs": ["impersonate"],
    },
]
SERVER_LEDGER_RULES = [
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create", "get", "list", "patch", "delete"]},
]


@dataclass(frozen=True)
class Replica:
    url: str
    log: Path
    audit: Path

    def log_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.startswith("{")]

    def audit_lines(self) -> list[dict[str, Any]]:
        if not self.audit.exists():
            return []
        return [json.loads(line) for line in self.audit.read_text().splitlines()]


@dataclass(frozen=True)
class Team:
    namespace: str
    """The seeded namespace the callers work in (their ServiceAccounts live there too)."""
    server_namespace: str
    server_kubeconfig: str
    a: Replica
    b: Replica
    tokens: dict[str, str]
    """viewer, debugger, debugger2 (same rights, another person), default-audience (debugger's, for the API)."""

    def user(self, who: str) -> str:
        return f"system:serviceaccount:{self.namespace}:{who}"


def sa_kubeconfig(kube: Kube, namespace: str, sa: str, path: Path) -> str:
    """A kubeconfig for a ServiceAccount's token (the API server's default audience), context namespace = its own."""
    admin = json.loads(kube.run("config", "view", "--raw", "--minify", "--flatten", "-o", "json"))
    cluster = admin["clusters"][0]["cluster"]
    token = kube.run("create", "token", sa, "-n", namespace, "--duration", "2h").strip()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": cluster}],
        "users": [{"name": sa, "user": {"token": token}}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": sa, "namespace": namespace}}],
        "current-context": "ctx",
    }
    path.write_text(json.dumps(config))
    path.chmod(0o600)
    return str(path)


@pytest.fixture
def team(kube: Kube, seeded: Seeded, tmp_path: Path) -> Iterator[Team]:
    ns = seeded.namespace
    server_ns = f"{ns[:50]}-srv"
    cluster_role = f"{server_ns}-team"
    kube.run("create", "namespace", server_ns)
    try:
        kube.run("create", "serviceaccount", "mcp-server", "-n", server_ns)
        kube.apply(
            server_ns,
            [
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "ClusterRole",
                    "metadata": {"name": cluster_role},
                    "rules": SERVER_CLUSTER_RULES,
                },
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "ClusterRoleBinding",
                    "metadata": {"name": cluster_role},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_role},
                    "subjects": [{"kind": "ServiceAccount", "name": "mcp-server", "namespace": server_ns}],
                },
            ],
        )
        kube.grant(
            server_ns,
            "plan-ledger",
            SERVER_LEDGER_RULES,
            {"kind": "ServiceAccount", "name": "mcp-server", "namespace": server_ns},
        )
        for who, rules in (("viewer", READ), ("debugger", DEBUG), ("debugger2", DEBUG)):
            kube.run("create", "serviceaccount", who, "-n", ns)
            kube.grant(ns, who, rules, {"kind": "ServiceAccount", "name": who, "namespace": ns})
        tokens = {
            who: kube.run("create", "token", who, "-n", ns, "--audience", AUDIENCE, "--duration", "1h").strip()
            for who in ("viewer", "debugger", "debugger2")
        }
        tokens["default-audience"] = kube.run("create", "token", "debugger", "-n", ns, "--duration", "1h").strip()
        kubeconfig = sa_kubeconfig(kube, server_ns, "mcp-server", tmp_path / "server.kubeconfig")
        owner_key = tmp_path / "owner.key"
        owner_key.write_text(secrets.token_hex(32))
        env = {
            "K8S_DEBUG_MCP_HTTP_AUTH": "tokenreview",
            "K8S_DEBUG_MCP_HTTP_STATELESS": "true",
            "K8S_DEBUG_MCP_OWNER_KEY_FILE": str(owner_key),
            "K8S_DEBUG_MCP_TOKEN_CACHE_SECONDS": "1",
        }
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        with (
            serving_http(kubeconfig, tmp_path / "a", log_to=tmp_path / "a.log", **env) as url_a,
            serving_http(kubeconfig, tmp_path / "b", log_to=tmp_path / "b.log", **env) as url_b,
        ):
            yield Team(
                namespace=ns,
                server_namespace=server_ns,
                server_kubeconfig=kubeconfig,
                a=Replica(url_a, tmp_path / "a.log", tmp_path / "a" / "audit.jsonl"),
                b=Replica(url_b, tmp_path / "b.log", tmp_path / "b" / "audit.jsonl"),
                tokens=tokens,
            )
    finally:
        kube.run("delete", "clusterrolebinding,clusterrole", cluster_role, "--wait=false", check=False)
        kube.run("delete", "namespace", server_ns, "--wait=false", check=False)


@contextlib.asynccontextmanager
async def connect(url: str, token: str, *, mode: str = "auto") -> AsyncIterator[Client]:
    timeout = httpx2.Timeout(30.0, read=120.0)
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=timeout) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,
    ):
        yield client


async def call(url: str, token: str, tool: str, args: dict[str, Any], *, mode: str = "auto") -> CallToolResult:
    async with connect(url, token, mode=mode) as client:
        return await client.call_tool(tool, args)


def http(url: str, token: str | None = None) -> tuple[int, dict[str, str], str]:
    return post_initialize(url, token)


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


def ephemeral(kube: Kube, namespace: str, pod: str) -> list[str]:
    spec = kube.get(namespace, "pod", pod)["spec"]
    return [c["name"] for c in spec.get("ephemeralContainers") or []]


def copies(kube: Kube, namespace: str) -> list[str]:
    pods = kube.get(namespace, "pods", "-l", "app.kubernetes.io/managed-by=k8s-debug-mcp")["items"]
    return sorted(p["metadata"]["name"] for p in pods)


# -- who is calling ------------------------------------------------------------------------------


async def test_two_callers_get_their_own_rights_from_either_replica(team: Team, seeded: Seeded) -> None:
    ns = team.namespace
    dry = {"namespace": ns, "pod": seeded.slim_pod, "target": "app", "dry_run": True}
    for replica in (team.a, team.b):
        for who in ("viewer", "debugger"):
            listed = await call(replica.url, team.tokens[who], "list_pods", {"namespace": ns})
            assert not listed.is_error, text(listed)
            assert {seeded.slim_pod, seeded.crash_pod} <= {p["name"] for p in data(listed)["pods"]}
        viewer = await call(replica.url, team.tokens["viewer"], "add_debug_container", dry)
        assert viewer.is_error
        assert f"may not patch pods/ephemeralcontainers in namespace {ns}" in text(viewer)
        debugger = await call(replica.url, team.tokens["debugger"], "add_debug_container", dry)
        assert not debugger.is_error, text(debugger)
        assert data(debugger)["server_dry_run"].startswith("accepted")
    # the server's own identity may not even read pods: every answer above was the caller's
    own = KubeGateway(KubeSettings(kubeconfig=team.server_kubeconfig))
    try:
        with pytest.raises(Forbidden, match=f"system:serviceaccount:{team.server_namespace}:mcp-server"):
            await own.list_pods(ns)
    finally:
        await own.close()


async def test_whoami_names_the_caller_the_api_server_sees(team: Team) -> None:
    for who, replica in (("viewer", team.a), ("debugger", team.b)):
        res = await call(replica.url, team.tokens[who], "whoami", {"namespace": team.namespace})
        assert not res.is_error, text(res)
        me = data(res)
        assert me["user"] == team.user(who)  # the API server's SelfSubjectReview, made through the gateway
        assert f"system:serviceaccounts:{team.namespace}" in me["groups"]
        allowed = {c["permission"]: c["allowed"] for c in me["checks"]}
        assert allowed["patch pods/ephemeralcontainers"] is (who == "debugger")
        assert allowed["list pods"] is True
        assert me["secret_masking"].startswith("inactive")  # neither may get secrets: shapes only


async def test_the_impersonating_gateway_is_seen_as_the_caller_and_refused_as_the_caller(team: Team) -> None:
    """A SelfSubjectReview through the impersonating gateway returns the caller, and the API server's own
    refusal (no SSAR pre-check at this level) names the caller, not the server."""
    gw = KubeGateway(KubeSettings(kubeconfig=team.server_kubeconfig))
    try:
        review = await gw.review_token(team.tokens["viewer"], [AUDIENCE])
        assert review["authenticated"] is True
        identity = Identity.from_user_info(review["user"])
        viewer = gw.impersonating(identity)
        seen = await viewer.whoami()
        assert seen["username"] == team.user("viewer")
        assert seen["uid"] == identity.uid
        assert sorted(seen["groups"]) == sorted(identity.groups)
        assert seen["extra"] == {k: list(v) for k, v in identity.extra}
        assert (await gw.whoami())["username"] == f"system:serviceaccount:{team.server_namespace}:mcp-server"
        with pytest.raises(Forbidden, match=f'User "{team.user("viewer")}" cannot create resource "pods"'):
            await viewer.create_pod(
                team.namespace,
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": {"containers": []}},
                dry_run=True,
            )
        # an extra field the server may not impersonate: the API server refuses, and we say why
        odd = gw.impersonating(Identity(username=identity.username, extra=(("example.com/team", ("x",)),)))
        with pytest.raises(Forbidden, match="may not act as you") as exc:
            await odd.list_pods(team.namespace)
        assert "cannot impersonate" in str(exc.value)
    finally:
        await gw.close()


# -- who may call ----------------------------------------------------------------------------------


async def test_tokens_for_other_audiences_garbage_and_none_are_refused_with_a_hint(team: Team) -> None:
    for token in (None, team.tokens["default-audience"], "garbage", team.tokens["viewer"] + "x"):
        status, headers, _ = http(team.a.url, token)
        assert status == 401, token
        hint = headers.get("www-authenticate") or headers.get("WWW-Authenticate") or ""
        assert hint.startswith("Bearer ")
        assert 'error="invalid_token"' in hint
        assert f'resource_metadata="{team.a.url.removesuffix("/mcp")}/.well-known/oauth-protected-resource/mcp"' in hint
    status, _, _ = http(team.b.url, team.tokens["viewer"])
    assert status == 200
    base = team.a.url.removesuffix("/mcp")
    for path in ("/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"):
        metadata = get_json(base + path)
        assert metadata["resource"] == team.a.url
        assert metadata["bearer_methods_supported"] == ["header"]
        assert metadata["authorization_servers"]
    lines = team.a.log_lines()
    assert any(e.get("event") == "token_refused" and e.get("reason") == "not_authenticated" for e in lines)
    raw = team.tokens["default-audience"]
    assert raw not in team.a.log.read_text()  # tokens are never logged


async def test_a_deleted_caller_is_refused_once_the_short_cache_expires(team: Team, kube: Kube) -> None:
    token = kube.run(
        "create", "token", "debugger2", "-n", team.namespace, "--audience", AUDIENCE, "--duration", "1h"
    ).strip()
    assert http(team.a.url, token)[0] == 200
    kube.run("delete", "serviceaccount", "debugger2", "-n", team.namespace)
    kube.wait_until("the token refused", lambda: http(team.a.url, token)[0] == 401, timeout=20)


# -- plans across replicas -----------------------------------------------------------------------


async def test_a_plan_made_on_one_replica_is_confirmed_on_the_other_once(
    team: Team, seeded: Seeded, kube: Kube
) -> None:
    ns, debugger = team.namespace, team.tokens["debugger"]
    args = {"namespace": ns, "pod": seeded.slim_pod, "target": "app"}
    question = await call(team.a.url, debugger, "add_debug_container", args, mode="legacy")
    assert not question.is_error, text(question)
    plan_id = data(question)["plan_id"]
    assert ephemeral(kube, ns, seeded.slim_pod) == []

    applied = await call(team.b.url, debugger, "add_debug_container", {**args, "plan_id": plan_id})
    assert not applied.is_error, text(applied)
    name = data(applied)["container"]
    assert name in data(question)["summary"]
    assert ephemeral(kube, ns, seeded.slim_pod) == [name]

    for replica in (team.a, team.b):
        again = await call(replica.url, debugger, "add_debug_container", {**args, "plan_id": plan_id})
        assert again.is_error
        assert "already used" in text(again)
        assert "it succeeded: the change was applied" in text(again)
        assert "Nothing was changed now" in text(again)
    assert ephemeral(kube, ns, seeded.slim_pod) == [name]

    # the ledger: one ConfigMap in the server's namespace, written with the server's own identity
    ledger = kube.get(team.server_namespace, "configmaps", "-l", "k8s-debug-mcp/plan-ledger=1")["items"]
    assert len(ledger) == 1
    assert ledger[0]["data"]["caller"] == f"user:{team.user('debugger')}"
    assert ledger[0]["data"]["outcome"] == "ok"
    assert ledger[0]["data"]["target"] == f"{ns}/{seeded.slim_pod}"

    # the audit on each replica names the caller: A asked (confirmation_needed), B applied, both refused replays
    caller = f"user:{team.user('debugger')}"
    a_lines, b_lines = team.a.audit_lines(), team.b.audit_lines()
    assert a_lines
    assert b_lines
    assert {line["caller"] for line in a_lines + b_lines} == {caller}
    assert [line["outcome"] for line in a_lines if line["phase"] == "outcome"] == ["confirmation_needed", "refused"]
    b_outcomes = [(line["outcome"], line["applied"]) for line in b_lines if line["phase"] == "outcome"]
    assert b_outcomes == [("ok", True), ("refused", None)]
    assert [line["action"] for line in b_lines if line["phase"] == "request" and not line["dry_run"]] == [
        f"add ephemeral container to pod {ns}/{seeded.slim_pod}"
    ]
    calls = [e for e in team.b.log_lines() if e.get("event") == "tool_call"]
    assert {e["caller"] for e in calls} == {caller}


async def test_a_plan_works_only_for_its_own_caller_and_unaltered(team: Team, seeded: Seeded, kube: Kube) -> None:
    ns = team.namespace
    args = {"namespace": ns, "pod": seeded.slim_pod}
    question = await call(team.a.url, team.tokens["debugger"], "copy_pod", args)
    plan_id = data(question)["plan_id"]
    # another person with the same rights, the viewer, and altered plan ids: all refused, nothing made
    for token, tampered in (
        (team.tokens["debugger2"], plan_id),
        (team.tokens["viewer"], plan_id),
        (team.tokens["debugger"], plan_id[:-1] + ("A" if plan_id[-1] != "A" else "B")),
        (team.tokens["debugger"], plan_id.replace("p1.", "p1.f", 1)),
        (team.tokens["debugger"], "plan-" + "x" * 20),
    ):
        res = await call(team.b.url, token, "copy_pod", {**args, "plan_id": tampered})
        assert res.is_error
        assert "othing was" in text(res), text(res)  # "Nothing was changed", or RBAC: "nothing was attempted"
    other_pod = await call(
        team.b.url, team.tokens["debugger"], "copy_pod", {**args, "pod": seeded.crash_pod, "plan_id": plan_id}
    )
    assert "not issued for this call" in text(other_pod)
    assert copies(kube, ns) == []
    # the rightful caller still can (none of the attempts used the plan up)
    res = await call(team.b.url, team.tokens["debugger"], "copy_pod", {**args, "plan_id": plan_id})
    assert not res.is_error, text(res)
    assert copies(kube, ns) == [data(res)["name"]]


async def test_a_replay_racing_on_both_replicas_changes_the_cluster_once(
    team: Team, seeded: Seeded, kube: Kube
) -> None:
    ns, debugger = team.namespace, team.tokens["debugger"]
    args = {"namespace": ns, "pod": seeded.slim_pod}
    plan_id = data(await call(team.a.url, debugger, "copy_pod", args))["plan_id"]
    results = await asyncio.gather(
        *(call(url, debugger, "copy_pod", {**args, "plan_id": plan_id}) for url in (team.a.url, team.b.url) * 2)
    )
    ok = [r for r in results if not r.is_error]
    refused = [r for r in results if r.is_error]
    assert len(ok) == 1, [text(r) for r in results]
    assert len(refused) == 3
    assert all("already used" in text(r) for r in refused), [text(r) for r in refused]
    assert copies(kube, ns) == [data(ok[0])["name"]]
    creates = [
        line
        for line in team.a.audit_lines() + team.b.audit_lines()
        if line["phase"] == "request" and not line["dry_run"] and line["action"].startswith("create pod")
    ]
    assert len(creates) == 1  # the one request that was sent; the others never reached the API server


async def test_exec_confirmed_by_plan_runs_once_even_when_replayed(team: Team, seeded: Seeded, kube: Kube) -> None:
    """exec leaves no trace in the cluster, so the ledger is its only one-time guarantee."""
    ns, debugger = team.namespace, team.tokens["debugger"]
    added = await call(team.a.url, debugger, "add_debug_container", {"namespace": ns, "pod": seeded.slim_pod})
    plan = data(added)["plan_id"]
    confirmed = await call(
        team.b.url, debugger, "add_debug_container", {"namespace": ns, "pod": seeded.slim_pod, "plan_id": plan}
    )
    assert data(confirmed)["state"] == "running", text(confirmed)
    args = {"namespace": ns, "pod": seeded.slim_pod, "command": ["sh", "-c", "echo ran"]}
    question = await call(team.b.url, debugger, "exec", args)
    plan_id = data(question)["plan_id"]
    results = await asyncio.gather(
        call(team.a.url, debugger, "exec", {**args, "plan_id": plan_id}),
        call(team.b.url, debugger, "exec", {**args, "plan_id": plan_id}),
    )
    assert sorted(r.is_error for r in results) == [False, True], [text(r) for r in results]
    assert "already used" in text(next(r for r in results if r.is_error))
    ran = next(r for r in results if not r.is_error)
    assert "ran" in data(ran)["stdout"]
    execs = [
        line
        for line in team.a.audit_lines() + team.b.audit_lines()
        if line["phase"] == "request" and line["action"].startswith("exec in")
    ]
    assert len(execs) == 1


async def test_elicitation_round_trips_across_replicas_in_the_stateless_protocol(
    team: Team, seeded: Seeded, kube: Kube
) -> None:
    """2026-07-28 clients answer a confirmation in a second request; behind a load balancer it may reach the
    other replica, whose sealed-state key is derived from the same owner key."""
    urls = [team.a.url, team.b.url]
    hops: list[str] = []

    class Alternate(httpx2.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx2.AsyncHTTPTransport()

        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            target = urls[len(hops) % 2]
            hops.append(target)
            request.url = request.url.copy_with(port=httpx2.URL(target).port)
            return await self.inner.handle_async_request(request)

        async def aclose(self) -> None:
            await self.inner.aclose()

    asked: list[str] = []

    async def approve(context: Any, params: Any) -> Any:
        from mcp.types import ElicitResult

        asked.append(params.message)
        return ElicitResult(action="accept", content={"approve": True})

    headers = {"Authorization": f"Bearer {team.tokens['debugger']}"}
    async with (
        httpx2.AsyncClient(headers=headers, transport=Alternate(), timeout=httpx2.Timeout(30.0, read=120.0)) as h,
        Client(streamable_http_client(team.a.url, http_client=h), elicitation_callback=approve) as client,
    ):
        res = await client.call_tool("add_debug_container", {"namespace": team.namespace, "pod": seeded.slim_pod})
    assert not res.is_error, text(res)
    assert asked
    assert len(set(hops)) == 2
    assert ephemeral(kube, team.namespace, seeded.slim_pod) == [data(res)["container"]]


async def test_a_2025_client_on_the_stateless_server_gets_a_plan_and_progress_not_a_crash(
    team: Team, seeded: Seeded, kube: Kube
) -> None:
    """A stateless server has no back-channel for a 2025-era client's elicitation: even a client that offers
    it gets the plan-id fallback; progress notifications still flow on the request's own stream."""
    ns, token = team.namespace, team.tokens["debugger"]
    args = {"namespace": ns, "pod": seeded.slim_pod}
    asked: list[str] = []

    async def approve(context: Any, params: Any) -> Any:
        from mcp.types import ElicitResult

        asked.append(params.message)
        return ElicitResult(action="accept", content={"approve": True})

    timeout = httpx2.Timeout(30.0, read=120.0)
    seen: list[str] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(message or "")

    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=timeout) as h,
        Client(streamable_http_client(team.a.url, http_client=h), mode="legacy", elicitation_callback=approve) as c,
    ):
        question = await c.call_tool("add_debug_container", args)
        assert not question.is_error, text(question)
        plan_id = data(question)["plan_id"]
        applied = await c.call_tool("add_debug_container", {**args, "plan_id": plan_id}, progress_callback=on_progress)
    assert not applied.is_error, text(applied)
    assert asked == []
    assert any("waiting for the debugger" in p for p in seen), seen
    assert ephemeral(kube, ns, seeded.slim_pod) == [data(applied)["container"]]
