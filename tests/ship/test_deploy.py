"""End to end in the cluster: the image built by scripts/build-image is imported into the real
node's containerd, the chart is installed with `helm install --wait` (playground values: host
network on the real node, the API server's loopback address for the in-cluster config), and
the seed scenario runs through the in-cluster server over streamable HTTP on 127.0.0.1 with
the `mcp` client: tools/list, list_pods, diagnose of a crash-looping Deployment, and a write
that the read-only RBAC preset refuses, naming the missing permission. Then the debugger
preset (a `helm upgrade`) lets the same write through as a server-side dry run.

Probes (/healthz, /readyz) answer without the token; metrics answer on their own port.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest
import yaml
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import Kube, Seeded
from tests.realnode.conftest import real_node  # noqa: F401 - the fixture, for this module
from tests.ship.conftest import BUILD_TIMEOUT_S, CHART, PLAYGROUND_VALUES, REPORT

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.realnode,
    pytest.mark.deploy,
    pytest.mark.image,
    pytest.mark.chart,
    pytest.mark.anyio,
    pytest.mark.timeout(BUILD_TIMEOUT_S),  # may build helm and the image first
]

CACHE = Path.home() / ".cache" / "k8s-debug-mcp"
RELEASE = "mcp"
INSTALL_TIMEOUT = "180s"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ctr(*args: str, timeout: float = 300) -> str:
    """ctr against the real node's containerd (scripts/cluster.d/realnode/lib.sh: its socket)."""
    sock = Path(os.environ.get("K8S_DEBUG_MCP_CACHE") or CACHE) / "realnode" / "containerd.sock"
    for _ in range(3):
        proc = subprocess.run(
            ["ctr", "--address", str(sock), "-n", "k8s.io", *args], capture_output=True, text=True, timeout=timeout
        )
        if proc.returncode >= 0:
            break
        # Killed: `scripts/cluster up` restarting the real node ends every process naming its
        # socket. Wait until containerd answers again, then repeat (the command is idempotent).
        deadline = time.monotonic() + 120
        while subprocess.run(["ctr", "--address", str(sock), "version"], capture_output=True).returncode != 0:
            assert time.monotonic() < deadline, "the real node's containerd did not come back"
            time.sleep(1)
    assert proc.returncode == 0, f"ctr {' '.join(args)} ({proc.returncode}): {proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def node_image(image: str, real_node: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # noqa: F811
    """The image, imported into the real node's containerd (never pulled: pullPolicy Never)."""
    archive = tmp_path_factory.mktemp("image") / "image.tar"
    started = time.monotonic()
    subprocess.run(
        ["podman", "save", "--quiet", "--format", "docker-archive", "--output", str(archive), image],
        check=True,
        timeout=300,
    )
    ctr("images", "import", str(archive))
    assert image in ctr("images", "ls", "-q").split()
    REPORT.append(f"imported {image} into {real_node}'s containerd in {time.monotonic() - started:.1f}s")
    archive.unlink()
    yield image
    # Each build has its own tag: drop it again so the node does not collect images.
    with contextlib.suppress(AssertionError):
        ctr("images", "rm", image)


@dataclass(frozen=True)
class Release:
    namespace: str
    url: str
    token: str
    health: str
    metrics: str


def helm_run(helm: str, kube: Kube, *args: str, timeout: float = 300) -> str:
    proc = subprocess.run(
        [helm, "--kubeconfig", kube.kubeconfig, *args], capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, f"helm {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def api_server_port(kubeconfig: str) -> str:
    config = yaml.safe_load(Path(kubeconfig).read_text())
    server = config["clusters"][0]["cluster"]["server"]
    parts = urlsplit(server)
    assert parts.hostname == "127.0.0.1", server
    return str(parts.port)


def pod_diagnostics(kube: Kube, namespace: str) -> str:
    return "\n".join(
        [
            kube.run("get", "pods", "-n", namespace, "-o", "wide", check=False),
            kube.run("get", "events", "-n", namespace, "--sort-by=.lastTimestamp", check=False),
            kube.run("logs", "-n", namespace, f"deploy/{RELEASE}-k8s-debug-mcp", "--tail=40", check=False),
        ]
    )


def install_chart(
    helm: str, kube: Kube, name: str, namespace: str, image: str, port: int, metrics_port: int, *values: str
) -> None:
    """helm install --wait of the chart with the playground values, our image and host ports, plus `values`
    (each a --set); a failure carries the namespace's pods, events and server log."""
    repository, tag = image.rsplit(":", 1)
    sets = [
        f"image.repository={repository}",
        f"image.tag={tag}",
        f"apiServerOverride.port={api_server_port(kube.kubeconfig)}",
        f"server.port={port}",
        f"metrics.port={metrics_port}",
        *values,
    ]
    args = [arg for value in sets for arg in ("--set", value)]
    try:
        helm_run(helm, kube, "install", name, str(CHART), "--namespace", namespace, "--values",
                 str(PLAYGROUND_VALUES), *args, "--wait", "--timeout", INSTALL_TIMEOUT)  # fmt: skip
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{pod_diagnostics(kube, namespace)}") from None


@pytest.fixture
def release(helm: str, kube: Kube, seeded: Seeded, node_image: str) -> Iterator[Release]:
    """The chart installed (read-only preset) in the seeded namespace, ready."""
    namespace = seeded.namespace
    port, metrics_port = free_port(), free_port()  # the pod shares the host's network: no clashes
    started = time.monotonic()
    install_chart(helm, kube, RELEASE, namespace, node_image, port, metrics_port, "rbac.preset=read-only")
    REPORT.append(f"helm install --wait (read-only preset) ready in {time.monotonic() - started:.1f}s")
    secret = kube.get(namespace, "secret", f"{RELEASE}-k8s-debug-mcp-token")
    token = base64.b64decode(secret["data"]["token"]).decode()
    try:
        yield Release(
            namespace=namespace,
            url=f"http://127.0.0.1:{port}/mcp",
            token=token,
            health=f"http://127.0.0.1:{port}",
            metrics=f"http://127.0.0.1:{metrics_port}/metrics",
        )
    finally:
        helm_run(helm, kube, "uninstall", RELEASE, "--namespace", namespace, "--wait", "--timeout", "120s")


def get(url: str, token: str | None = None) -> tuple[int, str]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return int(resp.status), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode()


@contextlib.asynccontextmanager
async def connect(rel: Release) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {rel.token}"}
    timeout = httpx2.Timeout(30.0, read=120.0)
    async with (
        httpx2.AsyncClient(headers=headers, timeout=timeout) as http,
        Client(streamable_http_client(rel.url, http_client=http)) as client,
    ):
        yield client


def text_of(result: Any) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


async def test_the_chart_runs_the_seed_scenario_in_the_cluster(
    release: Release, seeded: Seeded, kube: Kube, helm: str
) -> None:
    ns = release.namespace
    # Probes without the token; everything else needs it.
    assert get(f"{release.health}/healthz") == (200, '{"status": "ok"}')
    assert get(f"{release.health}/readyz") == (200, '{"status": "ready"}')
    assert get(release.url)[0] == 401

    async with connect(release) as client:
        assert client.server_info is not None
        assert client.server_info.name == "k8s-debug-mcp"
        tools = {t.name for t in (await client.list_tools()).tools}
        assert {"list_pods", "diagnose", "add_debug_container", "copy_pod"} <= tools  # not --read-only

        pods = await client.call_tool("list_pods", {"namespace": ns})
        assert not pods.is_error, text_of(pods)
        assert pods.structured_content is not None
        names = {p["name"] for p in pods.structured_content["pods"]}
        assert {seeded.slim_pod, seeded.crash_pod} <= names

        diag = await client.call_tool("diagnose", {"namespace": ns, "name": "slim-crash"})
        assert not diag.is_error, text_of(diag)
        assert diag.structured_content is not None
        assert diag.structured_content["target"] == "Deployment/slim-crash"
        assert diag.structured_content["findings"][0]["title"].startswith("crash loop")

        # The read-only preset: the write is refused, naming the permission RBAC lacks (the server
        # asks the API server first; a server-side dry run would need the same RBAC anyway).
        refused = await client.call_tool(
            "add_debug_container", {"namespace": ns, "pod": seeded.slim_pod, "target": "app", "dry_run": True}
        )
        assert refused.is_error
        message = text_of(refused)
        assert f"may not patch pods/ephemeralcontainers in namespace {ns}" in message, message

    # The debugger preset: only the Role changes (no new pod); the same write now passes.
    helm_run(helm, kube, "upgrade", RELEASE, str(CHART), "--namespace", ns, "--reuse-values", "--set",
             "rbac.preset=debugger", "--wait", "--timeout", INSTALL_TIMEOUT)  # fmt: skip
    async with connect(release) as client:
        allowed = await client.call_tool(
            "add_debug_container", {"namespace": ns, "pod": seeded.slim_pod, "target": "app", "dry_run": True}
        )
        assert not allowed.is_error, text_of(allowed)

    status, metrics = get(release.metrics)
    assert status == 200
    assert "k8s_debug_mcp_ready 1.0" in metrics
    for family in ("tool_calls_total", "tool_call_duration_seconds", "refusals_total", "kube_api_errors_total"):
        assert f"# TYPE k8s_debug_mcp_{family} " in metrics
    role = kube.get(ns, "role", f"{RELEASE}-k8s-debug-mcp")
    REPORT.append(f"in-cluster seed scenario ok; debugger Role rules: {json.dumps(role['rules'])}")


# -- team mode: two servers from the chart, callers with their own tokens -------------------------

AUDIENCE = "k8s-debug-mcp"
CALLER_READ = [{"apiGroups": [""], "resources": ["pods", "pods/log", "events"], "verbs": ["get", "list", "watch"]}]
CALLER_DEBUG = [
    *CALLER_READ,
    {"apiGroups": [""], "resources": ["pods/ephemeralcontainers"], "verbs": ["patch"]},
    {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create", "get"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "delete"]},
]


def caller(kube: Kube, namespace: str, name: str, rules: list[dict[str, Any]]) -> str:
    """A ServiceAccount with a Role of these rules; a token for the server's audience."""
    kube.run("create", "serviceaccount", name, "-n", namespace)
    kube.grant(namespace, name, rules, {"kind": "ServiceAccount", "name": name, "namespace": namespace})
    return kube.run("create", "token", name, "-n", namespace, "--audience", AUDIENCE, "--duration", "1h").strip()


@contextlib.contextmanager
def team_releases(helm: str, kube: Kube, namespace: str, image: str) -> Iterator[list[Release]]:
    """The chart installed twice with the team preset (one replica each), the second using the first's owner-key
    Secret: two servers that share exactly what a Deployment's replicas share (the cluster, the key)."""
    names = ["team-a", "team-b"]
    releases: list[Release] = []
    try:
        for name in names:
            port, metrics_port = free_port(), free_port()
            extra = [f"ownerKey.existingSecret={names[0]}-k8s-debug-mcp-owner-key"] if releases else []
            started = time.monotonic()
            install_chart(
                helm, kube, name, namespace, image, port, metrics_port,
                "rbac.preset=team", f"team.publicUrl=http://127.0.0.1:{port}/mcp", *extra,
            )  # fmt: skip
            REPORT.append(f"helm install --wait ({name}, team preset) ready in {time.monotonic() - started:.1f}s")
            base = f"http://127.0.0.1:{port}"
            releases.append(Release(namespace, f"{base}/mcp", "", base, f"http://127.0.0.1:{metrics_port}/metrics"))
        yield releases
    finally:
        for name in reversed(names[: len(releases) + 1]):
            subprocess.run(
                [
                    helm,
                    "--kubeconfig",
                    kube.kubeconfig,
                    "uninstall",
                    name,
                    "-n",
                    namespace,
                    "--wait",
                    "--timeout",
                    "120s",
                ],
                capture_output=True,
                timeout=180,
            )


def post_initialize(url: str, token: str | None) -> tuple[int, str]:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
    }
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=15) as resp:
            return int(resp.status), resp.headers.get("WWW-Authenticate") or ""
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.headers.get("WWW-Authenticate") or ""


async def test_the_team_chart_gives_each_caller_their_own_rights_across_two_servers(
    helm: str, kube: Kube, seeded: Seeded, node_image: str
) -> None:
    ns = seeded.namespace
    viewer = caller(kube, ns, "viewer", CALLER_READ)
    debugger = caller(kube, ns, "debugger", CALLER_DEBUG)
    api_token = kube.run("create", "token", "debugger", "-n", ns, "--duration", "1h").strip()
    with team_releases(helm, kube, ns, node_image) as (a, b):
        for rel in (a, b):
            assert get(f"{rel.health}/readyz") == (200, '{"status": "ready"}')
            for token in (None, api_token, "garbage"):
                status, hint = post_initialize(rel.url, token)
                assert status == 401
                assert f'resource_metadata="{rel.health}/.well-known/oauth-protected-resource/mcp"' in hint
            assert json.loads(get(f"{rel.health}/.well-known/oauth-protected-resource")[1])["resource"] == rel.url

        async def call(rel: Release, token: str, tool: str, args: dict[str, Any]) -> Any:
            async with connect(Release(rel.namespace, rel.url, token, rel.health, rel.metrics)) as client:
                return await client.call_tool(tool, args)

        dry = {"namespace": ns, "pod": seeded.slim_pod, "target": "app", "dry_run": True}
        for rel in (a, b):
            listed = await call(rel, viewer, "list_pods", {"namespace": ns})
            assert not listed.is_error, text_of(listed)
            refused = await call(rel, viewer, "add_debug_container", dry)
            assert f"may not patch pods/ephemeralcontainers in namespace {ns}" in text_of(refused)
            allowed = await call(rel, debugger, "add_debug_container", dry)
            assert not allowed.is_error, text_of(allowed)
        for token, who in ((viewer, "viewer"), (debugger, "debugger")):
            me = await call(b, token, "whoami", {"namespace": ns})
            assert me.structured_content is not None
            assert me.structured_content["user"] == f"system:serviceaccount:{ns}:{who}"

        # a plan made by one server is confirmed by the other, once
        args = {"namespace": ns, "pod": seeded.slim_pod, "target": "app"}
        question = await call(a, debugger, "add_debug_container", args)
        assert question.structured_content is not None, text_of(question)
        plan_id = question.structured_content["plan_id"]
        stolen = await call(b, viewer, "add_debug_container", {**args, "plan_id": plan_id})
        assert stolen.is_error
        applied = await call(b, debugger, "add_debug_container", {**args, "plan_id": plan_id})
        assert not applied.is_error, text_of(applied)
        replay = await call(a, debugger, "add_debug_container", {**args, "plan_id": plan_id})
        assert "already used" in text_of(replay)
        pod = kube.get(ns, "pod", seeded.slim_pod)
        assert len(pod["spec"].get("ephemeralContainers") or []) == 1

        # the audit of each server names the callers
        audits = [
            kube.run(
                "exec", "-n", ns, f"deploy/{name}-k8s-debug-mcp", "--", "cat", "/var/lib/k8s-debug-mcp/audit.jsonl"
            )
            for name in ("team-a", "team-b")
        ]
        lines = [json.loads(line) for audit in audits for line in audit.splitlines()]
        callers = {line["caller"] for line in lines if line["phase"] == "intent"}
        assert callers == {f"user:system:serviceaccount:{ns}:viewer", f"user:system:serviceaccount:{ns}:debugger"}
        applied_lines = [line for line in lines if line["phase"] == "outcome" and line["applied"] is True]
        assert [line["caller"] for line in applied_lines] == [f"user:system:serviceaccount:{ns}:debugger"]
        ledger = kube.get(ns, "configmaps", "-l", "k8s-debug-mcp/plan-ledger=1")["items"]
        assert [cm["data"]["outcome"] for cm in ledger] == ["ok"]
        REPORT.append(
            f"team chart: two servers, viewer and debugger, plan {plan_id[:12]}... confirmed across them once"
        )
