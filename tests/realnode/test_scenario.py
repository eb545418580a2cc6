"""The blog's scenario on real containers, entirely through the MCP tools (no kubectl in the
steps under test): a shell-less `slim`, a debugger targeting `app`, a copy with shared processes,
fail-fast on a bad image, Pod Security, and a sleeper that expires."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from mcp import Client

from k8s_debug_mcp.server import Settings, build_server
from tests.conftest import Kube, restricted_pod
from tests.mcp.util import data, text
from tests.realnode.conftest import DEBUG_IMAGE, SLIM_PAGE, RealPod, running_and_ready

pytestmark = [pytest.mark.anyio, pytest.mark.realnode, pytest.mark.cluster]

EVERY_PROFILE = ["legacy", "general", "baseline", "restricted", "netadmin", "sysadmin"]


@pytest.fixture
async def tools(kubeconfig: str, make_settings: Callable[..., Settings]) -> AsyncIterator[Client]:
    settings = make_settings(kubeconfig, exec_any_container_in=["t-*"], profiles=EVERY_PROFILE)
    settings = settings.model_copy(update={"debug_image": DEBUG_IMAGE})
    async with Client(build_server(settings)) as client:
        yield client


async def call(client: Client, tool: str, **args: Any) -> dict[str, Any]:
    res = await client.call_tool(tool, args)
    assert not res.is_error, text(res)
    return data(res)


async def test_exec_sh_into_the_shellless_app_fails_as_in_the_blog(tools: Client, real_slim: RealPod) -> None:
    res = await call(
        tools, "exec", namespace=real_slim.namespace, pod=real_slim.name, container="app", command=["sh", "-c", "true"]
    )
    assert res.get("exit_code") is None
    assert "executable file not found" in res["error"]
    assert "add_debug_container with target=<container>" in res["hint"]


async def test_a_debugger_targeting_app_sees_its_process_its_files_and_its_port(
    tools: Client, real_slim: RealPod
) -> None:
    ns, pod = real_slim.namespace, real_slim.name
    added = await call(tools, "add_debug_container", namespace=ns, pod=pod, target="app", image_pull_policy="Never")
    assert added["state"] == "running"

    procs = await call(tools, "inspect", namespace=ns, pod=pod)
    commands = {p["pid"]: p["command"] for p in procs["processes"]}
    assert commands[1].startswith("/app/httpd -f -p 8080")
    assert any(c.startswith("sleep 3600") for c in commands.values())

    config = await call(tools, "inspect", namespace=ns, pod=pod, what="cat", path="/etc/slim/config.yaml")
    assert config["path"] == "/proc/1/root/etc/slim/config.yaml"
    assert f"greeting: {SLIM_PAGE.strip()}" in config["text"]
    listing = await call(tools, "inspect", namespace=ns, pod=pod, what="ls", path="/www")
    assert "index.html" in listing["text"]

    page = await call(tools, "exec", namespace=ns, pod=pod, command=["wget", "-qO-", "http://localhost:8080/"])
    assert page["exit_code"] == 0
    assert SLIM_PAGE in page["stdout"]


async def test_a_copy_with_shared_processes_sees_pause_app_sidecar_and_itself(
    tools: Client, real_slim: RealPod, kube: Kube
) -> None:
    ns = real_slim.namespace
    copy = await call(tools, "copy_pod", namespace=ns, pod=real_slim.name, timeout_seconds=120)
    assert copy["phase"] == "Running"
    assert copy["node"] == "real-node-0"
    procs = await call(tools, "inspect", namespace=ns, pod=copy["name"], container=copy["debugger"])
    commands = [p["command"] for p in procs["processes"]]
    assert any("sleep 2147483647" in c for c in commands), commands  # the pause container
    assert any(c.startswith("/app/httpd -f -p 8080") for c in commands), commands
    assert any(c.startswith("/app/sleep") for c in commands), commands  # the sidecar
    assert any(c.startswith("ps -o pid,user,args") for c in commands), commands  # the debugger itself
    done = await call(tools, "cleanup", namespace=ns)
    assert done["deleted"] == [copy["name"]]


async def test_an_image_that_is_not_there_fails_fast_with_the_kubelet_reason(tools: Client, real_slim: RealPod) -> None:
    res = await tools.call_tool(
        "add_debug_container",
        {
            "namespace": real_slim.namespace,
            "pod": real_slim.name,
            "image": "k8s-debug-mcp.local/does-not-exist:1",
            "image_pull_policy": "Never",
            "timeout_seconds": 120,
        },
    )
    assert res.is_error
    assert "cannot start: ErrImageNeverPull" in text(res)


async def test_restricted_pod_security_admits_the_restricted_profile_and_refuses_sysadmin(
    tools: Client, kube: Kube, namespace: str, real_node: str
) -> None:
    kube.run("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted")
    kube.apply(namespace, restricted_pod("locked", real=True))
    kube.wait_until("locked ready", lambda: running_and_ready(kube.get(namespace, "pod", "locked")), 90)
    ok = await call(
        tools,
        "add_debug_container",
        namespace=namespace,
        pod="locked",
        target="app",
        profile="restricted",
        run_as_target=True,
        image_pull_policy="Never",
    )
    assert ok["state"] == "running"
    whoami_in_debugger = await call(tools, "exec", namespace=namespace, pod="locked", command=["id", "-u"])
    assert whoami_in_debugger["stdout"].strip() == "1000"
    refused = await tools.call_tool(
        "add_debug_container",
        {"namespace": namespace, "pod": "locked", "target": "app", "profile": "sysadmin", "image_pull_policy": "Never"},
    )
    assert refused.is_error
    assert 'violates PodSecurity "restricted:latest"' in text(refused)


async def test_the_sleeper_expires_and_the_debugger_shows_terminated(
    tools: Client, real_slim: RealPod, kube: Kube
) -> None:
    ns, pod = real_slim.namespace, real_slim.name
    added = await call(tools, "add_debug_container", namespace=ns, pod=pod, ttl_seconds=60, image_pull_policy="Never")

    def terminated() -> bool:
        statuses = kube.get(ns, "pod", pod)["status"].get("ephemeralContainerStatuses") or []
        return any(s["name"] == added["container"] and "terminated" in s.get("state", {}) for s in statuses)

    kube.wait_until("the sleeper to expire", terminated, 100)
    status = await call(tools, "pod_status", namespace=ns, pod=pod)
    dbg = next(c for c in status["containers"] if c["name"] == added["container"])
    assert dbg["state"] == "terminated"
    assert dbg["exit_code"] == 0
    assert dbg["ours"] is True
    after = await tools.call_tool("exec", {"namespace": ns, "pod": pod, "command": ["true"]})
    assert after.is_error
    assert "No running debugger added by this server" in text(after)
