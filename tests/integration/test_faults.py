"""Real clusters, real faults: a second test cluster for two contexts in one session, a hung API
server, a dead etcd; unusable kubeconfigs (bad CA, failing exec plugin); a namespace-scoped
identity that uses the context's namespace. Everything against real kube-apiservers."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from mcp import Client

from k8s_debug_mcp.server import build_server
from tests.conftest import CLUSTER, KUBECTL, Kube, Seeded, server_settings, slim_deployment
from tests.mcp.util import data, text

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]

SECOND = "faults"
CACHE = Path(os.environ.get("K8S_DEBUG_MCP_CACHE", str(Path.home() / ".cache" / "k8s-debug-mcp")))


@pytest.fixture(scope="module")
def second_cluster() -> Iterator[str]:
    """A second cluster (KWOK nodes only, its own ports): its kubeconfig path. Removed afterwards."""
    env = {**os.environ, "K8S_DEBUG_MCP_CLUSTER_NAME": SECOND, "K8S_DEBUG_MCP_REAL_NODE": "0"}
    up = subprocess.run([str(CLUSTER), "up"], env=env, capture_output=True, text=True, timeout=900)
    if up.returncode != 0:
        pytest.fail(f"second cluster did not start:\n{up.stderr[-3000:]}", pytrace=False)
    try:
        yield up.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(CLUSTER), "down"], env=env, capture_output=True, text=True, timeout=300)


def component_pid(component: str) -> int:
    path = CACHE / "kwok" / "clusters" / SECOND / "pids" / f"{component}.pid"
    return int(path.read_text().strip())


def merged_kubeconfig(first: str, second: str, out: Path) -> tuple[str, str]:
    """One file with both clusters; (the first's context, the second's)."""
    flat = subprocess.run(
        [KUBECTL, "config", "view", "--flatten"],
        env={**os.environ, "KUBECONFIG": f"{first}:{second}"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    out.write_text(flat)
    config = yaml.safe_load(flat)
    current = config["current-context"]
    other = next(c["name"] for c in config["contexts"] if c["name"] != current)
    return current, other


def edited_kubeconfig(source: str, out: Path, edit: Callable[[dict[str, Any]], None]) -> str:
    """A copy of a kubeconfig with `edit` applied (synchronous file work, outside the event loop)."""
    config = yaml.safe_load(Path(source).read_text())
    edit(config)
    out.write_text(yaml.safe_dump(config))
    return str(out)


def kwok_pod(name: str) -> dict[str, Any]:
    dep = slim_deployment(name)
    spec = dep["spec"]["template"]["spec"]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


async def test_two_contexts_in_one_session_each_reach_their_own_cluster(
    kubeconfig: str, second_cluster: str, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    other = Kube(second_cluster)
    other.run("create", "namespace", namespace)
    kube.apply(namespace, kwok_pod("in-first"))
    other.apply(namespace, kwok_pod("in-second"))
    merged = tmp_path / "kubeconfig"
    first_ctx, second_ctx = merged_kubeconfig(kubeconfig, second_cluster, merged)
    settings = server_settings(str(merged), tmp_path / "audit.jsonl", allowed_contexts=[second_ctx])
    async with Client(build_server(settings)) as client:
        mine = data(await client.call_tool("list_pods", {"namespace": namespace}))
        theirs = data(await client.call_tool("list_pods", {"namespace": namespace, "context": second_ctx}))
        again = data(await client.call_tool("list_pods", {"namespace": namespace, "context": first_ctx}))
        refused = await client.call_tool("list_pods", {"namespace": namespace, "context": "prod-somewhere"})
    assert [p["name"] for p in mine["pods"]] == ["in-first"]
    assert [p["name"] for p in theirs["pods"]] == ["in-second"]
    assert [p["name"] for p in again["pods"]] == ["in-first"]
    assert refused.is_error
    assert "refused by policy setting 'allowed_contexts'" in text(refused)


async def test_a_hung_api_server_is_told_apart_from_a_refused_connection(second_cluster: str, tmp_path: Path) -> None:
    settings = server_settings(second_cluster, tmp_path / "audit.jsonl").model_copy(update={"api_timeout": 2.0})
    pid = component_pid("kube-apiserver")
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        async with Client(build_server(settings)) as client:
            hung = await client.call_tool("pod_status", {"namespace": "default", "pod": "nothing"})
        waited = time.monotonic() - started
    finally:
        os.kill(pid, signal.SIGCONT)
    assert hung.is_error
    assert "accepted the connection but did not answer within 2 s" in text(hung)
    assert waited < 10

    def refuse(config: dict[str, Any]) -> None:
        config["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"

    refused_cfg = edited_kubeconfig(second_cluster, tmp_path / "refused.yaml", refuse)
    async with Client(build_server(server_settings(refused_cfg, tmp_path / "audit.jsonl"))) as client:
        refused = await client.call_tool("pod_status", {"namespace": "default", "pod": "nothing"})
    assert "refused the connection" in text(refused)


async def test_a_dead_etcd_is_reported_as_storage_not_as_an_unreachable_server(
    second_cluster: str, tmp_path: Path
) -> None:
    settings = server_settings(second_cluster, tmp_path / "audit.jsonl").model_copy(update={"api_timeout": 20.0})
    pid = component_pid("etcd")
    os.kill(pid, signal.SIGSTOP)
    try:
        async with Client(build_server(settings)) as client:
            res = await client.call_tool("add_debug_container", {"namespace": "default", "pod": "nothing"})
    finally:
        os.kill(pid, signal.SIGCONT)
    assert res.is_error
    body = text(res)
    assert "storage (etcd) is unavailable" in body or "did not answer within" in body, body
    assert "Cannot reach" not in body


def test_unusable_kubeconfigs_name_the_file_and_the_cause(kubeconfig: str, tmp_path: Path) -> None:
    import anyio

    config = yaml.safe_load(Path(kubeconfig).read_text())
    bad_ca = json.loads(json.dumps(config))
    bad_ca["clusters"][0]["cluster"]["certificate-authority-data"] = base64.b64encode(b"not a certificate").decode()
    bad_ca["clusters"][0]["cluster"].pop("certificate-authority", None)
    (tmp_path / "bad-ca.yaml").write_text(yaml.safe_dump(bad_ca))
    plugin = json.loads(json.dumps(config))
    plugin["users"][0]["user"] = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "/bin/sh",
            "args": ["-c", "echo 'token expired: run sso login' >&2; exit 3"],
            "interactiveMode": "Never",
        }
    }
    (tmp_path / "plugin.yaml").write_text(yaml.safe_dump(plugin))

    async def ask(path: Path) -> str:
        async with Client(build_server(server_settings(str(path), tmp_path / "audit.jsonl"))) as client:
            res = await client.call_tool("whoami", {})
        assert res.is_error
        return text(res)

    ca = anyio.run(ask, tmp_path / "bad-ca.yaml")
    assert "certificate authority that cannot be used" in ca
    assert "bad-ca.yaml" in ca
    failed = anyio.run(ask, tmp_path / "plugin.yaml")
    assert "plugin.yaml" in failed
    assert "token expired: run sso login" in failed or "exit" in failed.lower(), failed


async def test_a_namespace_scoped_identity_works_in_its_context_namespace(
    kube: Kube, seeded: Seeded, tmp_path: Path
) -> None:
    ns = seeded.namespace
    kube.run("create", "serviceaccount", "dev", "-n", ns)
    kube.run("create", "rolebinding", "dev-view", "--clusterrole=view", f"--serviceaccount={ns}:dev", "-n", ns)
    token = kube.run("create", "token", "dev", "-n", ns).strip()

    def as_dev(config: dict[str, Any]) -> None:
        ctx = config["contexts"][0]
        config["users"] = [{"name": "dev", "user": {"token": token}}]
        ctx["context"]["user"] = "dev"
        ctx["context"]["namespace"] = ns
        config["current-context"] = ctx["name"]

    path = edited_kubeconfig(kube.kubeconfig, tmp_path / "dev.yaml", as_dev)
    async with Client(build_server(server_settings(path, tmp_path / "audit.jsonl"))) as client:
        pods = data(await client.call_tool("list_pods", {}))
        status = await client.call_tool("pod_status", {"pod": seeded.slim_pod})
        everywhere = data(await client.call_tool("list_pods", {"all_namespaces": True}))
        who = data(await client.call_tool("whoami", {}))
    assert pods["namespace"] == ns
    assert {p["name"] for p in pods["pods"]} == {seeded.slim_pod, seeded.crash_pod}
    assert not status.is_error, text(status)
    assert everywhere["namespace"] == ns
    assert "may not list pods in all namespaces" in everywhere["note"]
    assert who["namespace"] == ns
    assert {c["permission"] for c in who["checks"] if c["allowed"]} >= {"list pods", "get pods"}
