"""Node debugging on the real node, entirely through the MCP tools: a debugger pod in the host's
namespaces sees the kubelet's process and the node's files at /host, runs host commands with
chroot, reads the kubelet's log, and cleanup removes it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from k8s_debug_mcp.server import Settings, build_server
from tests.conftest import Kube
from tests.mcp.util import data, text
from tests.realnode.conftest import DEBUG_IMAGE

pytestmark = [pytest.mark.anyio, pytest.mark.realnode, pytest.mark.cluster]

EVERY_PROFILE = ["legacy", "general", "baseline", "restricted", "netadmin", "sysadmin"]


@pytest.fixture
async def tools(kubeconfig: str, make_settings: Callable[..., Settings], real_node: str) -> AsyncIterator[Client]:
    settings = make_settings(kubeconfig, profiles=EVERY_PROFILE, node_debugging=True, allowed_nodes=[real_node])
    settings = settings.model_copy(update={"debug_image": DEBUG_IMAGE, "debug_image_pull_policy": "Never"})
    async with Client(build_server(settings)) as client:
        yield client


@pytest.fixture
def host_files() -> dict[str, str]:
    """Files of this machine, which is the real node."""
    return {p: Path(p).read_text() for p in ("/etc/os-release", "/etc/hostname")}


async def call(client: Client, tool: str, **args: Any) -> dict[str, Any]:
    res = await client.call_tool(tool, args)
    assert not res.is_error, text(res)
    return data(res)


async def test_a_node_debugger_sees_the_kubelet_and_the_nodes_files_and_cleanup_removes_it(
    tools: Client, kube: Kube, kubeconfig: str, namespace: str, real_node: str, host_files: dict[str, str]
) -> None:
    made = await call(tools, "debug_node", namespace=namespace, node=real_node, timeout_seconds=120)
    assert made["phase"] == "Running"
    assert made["manifest"]["spec"]["containers"][0]["name"] == "debugger"
    assert made["name"].startswith(f"node-debugger-{real_node}-")
    pod = made["name"]

    # exec and inspect find the node debugger's container by default.
    procs = await call(tools, "inspect", namespace=namespace, pod=pod, max_bytes=262_144)  # every host process
    assert procs["container"] == "debugger"
    assert not procs["truncated"]
    commands = [p["command"] for p in procs["processes"]]
    assert any("kubelet" in c and "--config=" in c for c in commands), commands[:40]
    assert any(c.startswith("containerd ") for c in commands), commands[:40]

    etc = await call(tools, "inspect", namespace=namespace, pod=pod, what="ls", path="/etc")
    assert etc["path"] == "/host/etc"
    assert "os-release" in etc["text"], etc["text"]
    release = await call(tools, "inspect", namespace=namespace, pod=pod, what="cat", path="/etc/os-release")
    assert release["text"] == host_files["/etc/os-release"]  # the node is this machine

    # Host commands through chroot; the kubelet's log where this test node keeps it.
    host = await call(tools, "exec", namespace=namespace, pod=pod, command=["chroot", "/host", "cat", "/etc/hostname"])
    assert host["exit_code"] == 0
    assert host["stdout"] == host_files["/etc/hostname"]
    kubelet_log = Path(kubeconfig).parent / "realnode" / "logs" / "kubelet.log"
    log = await call(tools, "inspect", namespace=namespace, pod=pod, what="cat", path=str(kubelet_log), max_bytes=512)
    assert log["exit_code"] == 0
    assert log["text"]

    listed = await call(tools, "list_pods", namespace=namespace)
    assert f"node debugger of {real_node}" in (listed["pods"][0]["note"] or "")
    done = await call(tools, "cleanup", namespace=namespace)
    assert done["deleted"] == [pod]
    gone = kube.run("get", "pod", "-n", namespace, pod, "-o", "jsonpath={.metadata.deletionTimestamp}", check=False)
    assert gone != "" or not kube.run("get", "pods", "-n", namespace, "-o", "name")


async def test_a_baseline_node_debugger_has_no_host_access(tools: Client, namespace: str, real_node: str) -> None:
    made = await call(tools, "debug_node", namespace=namespace, node=real_node, profile="baseline", timeout_seconds=120)
    assert made["phase"] == "Running"
    spec = made["manifest"]["spec"]
    assert not {"hostPID", "hostNetwork", "hostIPC", "volumes"} & set(spec)
    procs = await call(tools, "inspect", namespace=namespace, pod=made["name"])
    commands = [p["command"] for p in procs["processes"]]
    assert not any("kubelet" in c for c in commands), commands
    assert any(c.startswith("sleep 3600") for c in commands), commands
