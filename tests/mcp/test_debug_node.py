"""debug_node through MCP against the real API server (KWOK nodes): policy, previews, dry runs, errors.
The real node's tests (tests/realnode/test_node_debug.py) run commands in one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from k8s_debug_mcp.server import Settings, build_server
from tests.conftest import Kube
from tests.mcp.util import data, text

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]
NODE = "kwok-node-0"


@pytest.fixture
def nodes_everywhere(kubeconfig: str, make_settings: Callable[..., Settings]) -> Settings:
    settings: Settings = make_settings(kubeconfig, node_debugging=True)
    return settings


@pytest.fixture
async def nodes(kubeconfig: str, make_settings: Callable[..., Settings]) -> AsyncIterator[Client]:
    settings = make_settings(kubeconfig, node_debugging=True, allowed_nodes=["kwok-node-0"])
    async with Client(build_server(settings)) as c:
        yield c


async def test_node_debugging_is_not_even_offered_unless_the_policy_allows_it(client: Client, namespace: str) -> None:
    assert "debug_node" not in {t.name for t in (await client.list_tools()).tools}
    with pytest.raises(MCPError) as exc:
        await client.call_tool("debug_node", {"namespace": namespace, "node": NODE})
    assert exc.value.error.code == -32602


async def test_only_allowed_and_valid_node_names_and_existing_nodes(
    nodes: Client, namespace: str, nodes_everywhere: Settings
) -> None:
    other = await nodes.call_tool("debug_node", {"namespace": namespace, "node": "kwok-node-1"})
    assert other.is_error
    assert "allowed_nodes" in text(other)
    bad = await nodes.call_tool("debug_node", {"namespace": namespace, "node": "Not_A_Node"})
    assert bad.is_error
    assert "Invalid arguments for debug_node: node:" in text(bad)
    assert "Traceback" not in text(bad)
    async with Client(build_server(nodes_everywhere)) as c:
        ghost = await c.call_tool("debug_node", {"namespace": namespace, "node": "ghost-node"})
    assert ghost.is_error
    assert "There is no node named ghost-node" in text(ghost)


async def test_a_dry_run_shows_the_pod_and_the_servers_verdict_and_creates_nothing(
    nodes: Client, namespace: str, kube: Kube
) -> None:
    res = await nodes.call_tool("debug_node", {"namespace": namespace, "node": NODE, "dry_run": True})
    assert not res.is_error, text(res)
    sc = data(res)
    assert sc["phase"] == "dry-run"
    assert sc["server_dry_run"].startswith("accepted")
    assert sc["manifest"]["spec"]["hostPID"] is True
    assert (
        sc["kubectl"]
        == f"kubectl debug node/{NODE} -n {namespace} --image=busybox:1.37 --profile=general -- sleep 3600"
    )
    assert "DRY RUN" in text(res)
    assert kube.get(namespace, "pods")["items"] == []


async def test_pod_security_baseline_refuses_host_access_and_the_preview_says_so(
    kubeconfig: str, make_settings: Callable[..., Settings], namespace: str, kube: Kube
) -> None:
    kube.run("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=baseline")
    settings = make_settings(kubeconfig, confirm=True, node_debugging=True)
    async with Client(build_server(settings)) as c:
        preview = await c.call_tool("debug_node", {"namespace": namespace, "node": NODE})
        dry = data(await c.call_tool("debug_node", {"namespace": namespace, "node": NODE, "dry_run": True}))
        fine = data(
            await c.call_tool(
                "debug_node", {"namespace": namespace, "node": NODE, "profile": "baseline", "dry_run": True}
            )
        )
    assert "host's PID, network and IPC namespaces and the node's / at /host" in text(preview)
    assert f"namespace {namespace} enforces Pod Security baseline" in text(preview)
    assert dry["server_dry_run"].startswith("rejected (HTTP 403)")
    assert 'violates PodSecurity "baseline:latest"' in dry["server_dry_run"]
    assert fine["server_dry_run"].startswith("accepted")


async def test_a_node_debugger_runs_and_cleanup_deletes_it(nodes: Client, namespace: str, kube: Kube) -> None:
    made = data(await nodes.call_tool("debug_node", {"namespace": namespace, "node": NODE}))
    assert made["phase"] == "Running"
    pod = kube.get(namespace, "pod", made["name"])
    assert pod["spec"]["nodeName"] == NODE
    assert pod["metadata"]["annotations"]["k8s-debug-mcp/debugger"] == "debugger"
    status = data(await nodes.call_tool("pod_status", {"namespace": namespace, "pod": made["name"]}))
    assert status["note"].startswith(f"node debugger of {NODE}, expires in")
    done = data(await nodes.call_tool("cleanup", {"namespace": namespace}))
    assert done["deleted"] == [made["name"]]
