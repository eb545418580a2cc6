"""Forged ownership, broken connections and a killed server, against the real API server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from k8s_debug_mcp.server import Settings, build_server
from k8s_debug_mcp.tools.errors import ConnectionLost
from k8s_debug_mcp.tools.gateway import KubeGateway
from k8s_debug_mcp.tools.kube import ANN_OWNER, MANAGED_BY, MANAGED_BY_LABEL, JsonDict
from tests.conftest import Kube, Seeded
from tests.mcp.util import INITIALIZED, data, initialize, text

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]

ROOT = Path(__file__).resolve().parents[2]


def ephemeral(kube: Kube, namespace: str, pod: str) -> list[str]:
    return [c["name"] for c in kube.get(namespace, "pod", pod)["spec"].get("ephemeralContainers") or []]


async def test_a_debugger_made_elsewhere_with_our_env_markers_is_not_ours(
    kube: Kube, seeded: Seeded, kubeconfig: str, make_settings: Callable[..., Settings]
) -> None:
    ns, pod = seeded.namespace, seeded.slim_pod
    kube.run(
        "debug", "-n", ns, pod, "--image=busybox:1.37", "-c", "debugger-forged", "--profile=general",
        "--env=K8S_DEBUG_MCP_KEY=forged", "--env=K8S_DEBUG_MCP_OWNER=" + "0" * 40, "--", "sleep", "3600",
    )  # fmt: skip

    def running() -> bool:
        statuses = kube.get(ns, "pod", pod)["status"].get("ephemeralContainerStatuses") or []
        return any(s["name"] == "debugger-forged" and "running" in s.get("state", {}) for s in statuses)

    kube.wait_until("the forged debugger to run", running)
    async with Client(build_server(make_settings(kubeconfig))) as client:
        default = await client.call_tool("exec", {"namespace": ns, "pod": pod, "command": ["id"]})
        named = await client.call_tool(
            "exec", {"namespace": ns, "pod": pod, "command": ["id"], "container": "debugger-forged"}
        )
        status = data(await client.call_tool("pod_status", {"namespace": ns, "pod": pod}))
    assert "No running debugger added by this server" in text(default)
    assert "refused by policy setting 'exec_any_container_in'" in text(named)
    assert [c["ours"] for c in status["containers"] if c["name"] == "debugger-forged"] == [False]


async def test_a_label_or_a_copied_owner_mark_never_gets_a_pod_exec_or_deleted(
    kube: Kube, seeded: Seeded, kubeconfig: str, make_settings: Callable[..., Settings]
) -> None:
    ns = seeded.namespace
    async with Client(build_server(make_settings(kubeconfig))) as client:
        made = data(await client.call_tool("copy_pod", {"namespace": ns, "pod": seeded.slim_pod}))
        real_copy = kube.get(ns, "pod", made["name"])
        impostor: JsonDict = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "impostor",
                "labels": {MANAGED_BY_LABEL: MANAGED_BY},
                "annotations": real_copy["metadata"]["annotations"],  # a valid mark, for another pod
            },
            "spec": {
                "nodeSelector": {"type": "kwok"},
                "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}],
                "containers": [{"name": "app", "image": "k8s-debug-mcp.local/slim-app:1"}],
            },
        }
        assert impostor["metadata"]["annotations"][ANN_OWNER]
        kube.apply(ns, impostor)
        kube.wait_until("impostor running", lambda: kube.get(ns, "pod", "impostor")["status"].get("phase") == "Running")
        exec_in = await client.call_tool(
            "exec", {"namespace": ns, "pod": "impostor", "container": "app", "command": ["id"]}
        )
        cleaned = data(await client.call_tool("cleanup", {"namespace": ns}))
    assert "refused by policy setting 'exec_any_container_in'" in text(exec_in)
    assert cleaned["deleted"] == [made["name"]]
    assert any(r.startswith("impostor: not created by k8s-debug-mcp") for r in cleaned["refused"])
    assert kube.get(ns, "pod", "impostor")["metadata"].get("deletionTimestamp") is None


class LosesTheAnswer(KubeGateway):
    """The API server applies the write, then the connection breaks before its answer arrives."""

    async def patch_ephemeral_containers(self, namespace: str, pod: str, body: Any, *, dry_run: bool) -> Any:
        answer = await super().patch_ephemeral_containers(namespace, pod, body, dry_run=dry_run)
        if dry_run:
            return answer
        raise ConnectionLost("The connection to the Kubernetes API server broke: Server disconnected")

    async def create_pod(self, namespace: str, body: Any, *, dry_run: bool) -> Any:
        answer = await super().create_pod(namespace, body, dry_run=dry_run)
        if dry_run:
            return answer
        raise ConnectionLost("The connection to the Kubernetes API server broke: Server disconnected")


class LosesTheRequest(KubeGateway):
    """The connection breaks before the API server sees the write."""

    async def patch_ephemeral_containers(self, namespace: str, pod: str, body: Any, *, dry_run: bool) -> Any:
        if dry_run:
            return await super().patch_ephemeral_containers(namespace, pod, body, dry_run=dry_run)
        raise ConnectionLost("The connection to the Kubernetes API server broke: Server disconnected")


def outcomes(log: Path) -> list[dict[str, Any]]:
    return [e for e in (json.loads(x) for x in log.read_text().splitlines()) if e["phase"] == "outcome"]


async def test_a_write_whose_answer_is_lost_is_reported_and_audited_as_applied(
    kube: Kube, seeded: Seeded, kubeconfig: str, tmp_path: Path
) -> None:
    from tests.conftest import server_settings

    log = tmp_path / "audit.jsonl"
    settings = server_settings(kubeconfig, log)
    gateway = LosesTheAnswer(settings.kube, policy=settings.policy)
    try:
        async with Client(build_server(settings, gateway=gateway)) as client:
            added = await client.call_tool(
                "add_debug_container", {"namespace": seeded.namespace, "pod": seeded.slim_pod}
            )
            copied = await client.call_tool("copy_pod", {"namespace": seeded.namespace, "pod": seeded.slim_pod})
    finally:
        await gateway.close()
    assert not added.is_error, text(added)
    assert any("connection broke after the API server applied" in w for w in data(added)["warnings"])
    assert ephemeral(kube, seeded.namespace, seeded.slim_pod) == [data(added)["container"]]
    assert not copied.is_error, text(copied)
    assert any("connection broke after the API server created" in w for w in data(copied)["warnings"])
    assert [(e["tool"], e["outcome"], e["applied"]) for e in outcomes(log)] == [
        ("add_debug_container", "ok", True),
        ("copy_pod", "ok", True),
    ]


async def test_a_write_lost_before_the_api_server_is_reported_as_not_applied(
    kube: Kube, seeded: Seeded, kubeconfig: str, tmp_path: Path
) -> None:
    from tests.conftest import server_settings

    log = tmp_path / "audit.jsonl"
    settings = server_settings(kubeconfig, log)
    gateway = LosesTheRequest(settings.kube, policy=settings.policy)
    try:
        async with Client(build_server(settings, gateway=gateway)) as client:
            res = await client.call_tool("add_debug_container", {"namespace": seeded.namespace, "pod": seeded.slim_pod})
    finally:
        await gateway.close()
    assert res.is_error
    assert "The change was not applied (checked by re-reading the target)" in text(res)
    assert ephemeral(kube, seeded.namespace, seeded.slim_pod) == []
    assert [(e["outcome"], e["applied"]) for e in outcomes(log)] == [("ClusterUnavailable", False)]


def _rpc(proc: subprocess.Popen[bytes], message: dict[str, Any]) -> None:
    assert proc.stdin is not None
    proc.stdin.write((json.dumps(message) + "\n").encode())
    proc.stdin.flush()


def test_a_server_killed_mid_call_leaves_its_intent_line(kubeconfig: str, seeded: Seeded, tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    env = {**os.environ, "K8S_DEBUG_MCP_NO_CONFIRM": "true", "K8S_DEBUG_MCP_AUDIT_LOG": str(log)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "k8s_debug_mcp", "--kubeconfig", kubeconfig],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
    )
    try:
        _rpc(proc, initialize("killer"))
        assert proc.stdout is not None
        proc.stdout.readline()
        _rpc(proc, INITIALIZED)
        args = {"namespace": seeded.namespace, "pod": seeded.slim_pod, "timeout_seconds": 60}
        _rpc(
            proc,
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": "add_debug_container", "arguments": args},
            },
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (log.exists() and '"phase":"intent"' in log.read_text()):
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = [json.loads(x) for x in log.read_text().splitlines()]  # every line is whole
    assert lines[0]["phase"] == "intent"
    assert lines[0]["tool"] == "add_debug_container"
    assert lines[0]["caller"] == "local:killer"
    assert not any(e["phase"] == "outcome" for e in lines)
