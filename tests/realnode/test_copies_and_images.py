"""On the real node, through the MCP tools: exec and inspect find a copy's debugger by default and
name the container of every process; and a debugger whose image the node lacks is flagged in the
preview, before anything is written (image present / absent / pull policy Never)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from mcp import Client

from k8s_debug_mcp.server import Settings, build_server
from tests.conftest import Kube
from tests.mcp.util import data, text
from tests.realnode.conftest import DEBUG_IMAGE, RealPod

pytestmark = [pytest.mark.anyio, pytest.mark.realnode, pytest.mark.cluster]

ABSENT = "k8s-debug-mcp.local/absent:1"


@pytest.fixture
async def tools(kubeconfig: str, make_settings: Callable[..., Settings]) -> AsyncIterator[Client]:
    settings = make_settings(kubeconfig).model_copy(update={"debug_image": DEBUG_IMAGE})
    async with Client(build_server(settings)) as client:
        yield client


@pytest.fixture
def confirming(kubeconfig: str, make_settings: Callable[..., Settings], real_node: str) -> Callable[..., Client]:
    """A server that asks before every write (this client cannot be asked: the preview comes back with a plan)."""

    def make(**server: Any) -> Client:
        settings = make_settings(kubeconfig, confirm=True, node_debugging=True, allowed_nodes=[real_node])
        return Client(build_server(settings.model_copy(update={"debug_image": DEBUG_IMAGE, **server})))

    return make


async def call(client: Client, tool: str, **args: Any) -> dict[str, Any]:
    res = await client.call_tool(tool, args)
    assert not res.is_error, text(res)
    return data(res)


async def preview(client: Client, tool: str, **args: Any) -> str:
    res = await client.call_tool(tool, args)
    assert res.is_error, "a confirming server must answer a write with its preview"
    assert 'plan_id="' in text(res), text(res)
    return text(res)


async def test_inspect_finds_the_copys_debugger_and_names_the_container_of_each_process(
    tools: Client, real_slim: RealPod
) -> None:
    ns = real_slim.namespace
    copy = await call(
        tools,
        "copy_pod",
        namespace=ns,
        pod=real_slim.name,
        set_image={"sidecar": DEBUG_IMAGE},
        replace_command={"sidecar": ["sleep", "3600"]},  # two `sleep 3600`: the sidecar's and the debugger's
        timeout_seconds=120,
    )
    procs = await call(tools, "inspect", namespace=ns, pod=copy["name"])
    assert procs["container"] == copy["debugger"]
    rows = [(p["command"], p["container"]) for p in procs["processes"]]
    assert sorted(c for cmd, c in rows if cmd == "sleep 3600") == sorted(["sidecar", copy["debugger"]]), rows
    assert ("/app/httpd -f -p 8080 -h /www", "app") in rows
    assert procs["processes"][0]["pid"] == 1
    assert procs["processes"][0]["container"] == "(sandbox)"
    assert any(cmd.startswith("ps -o") and c == copy["debugger"] for cmd, c in rows), rows
    who = await call(tools, "exec", namespace=ns, pod=copy["name"], command=["id", "-u"])
    assert who["container"] == copy["debugger"]


async def test_a_targeted_debugger_names_its_targets_processes(tools: Client, real_slim: RealPod) -> None:
    ns, pod = real_slim.namespace, real_slim.name
    added = await call(tools, "add_debug_container", namespace=ns, pod=pod, target="app", image_pull_policy="Never")
    procs = await call(tools, "inspect", namespace=ns, pod=pod)
    rows = {p["command"]: p["container"] for p in procs["processes"]}
    assert rows["/app/httpd -f -p 8080 -h /www"] == "app"
    assert rows["sleep 3600"] == added["container"]


async def test_an_image_the_node_lacks_is_flagged_before_anything_is_written(
    confirming: Callable[..., Client], kube: Kube, real_slim: RealPod, real_node: str
) -> None:
    ns, pod = real_slim.namespace, real_slim.name
    async with confirming() as client:
        present = await preview(client, "add_debug_container", namespace=ns, pod=pod, image_pull_policy="Never")
        assert "does not have" not in present
        assert "warning" not in present

        never = await preview(
            client, "add_debug_container", namespace=ns, pod=pod, image=ABSENT, image_pull_policy="Never"
        )
        assert f"node {real_node} does not have image {ABSENT} and imagePullPolicy is Never" in never
        assert "ErrImageNeverPull" in never
        assert "stays in the pod for good" in never
        assert f"Images there the policy allows: {DEBUG_IMAGE}" in never

        pulled = await preview(
            client, "add_debug_container", namespace=ns, pod=pod, image=ABSENT, image_pull_policy="IfNotPresent"
        )
        assert f"does not have image {ABSENT}: the kubelet must pull it from k8s-debug-mcp.local" in pulled

        copy = await preview(
            client, "copy_pod", namespace=ns, pod=pod, image=ABSENT, same_node=True,
            options={"image_pull_policy": "Never"},
        )  # fmt: skip
        assert f"node {real_node} does not have image {ABSENT} and imagePullPolicy is Never" in copy

        node = await preview(
            client, "debug_node", namespace=ns, node=real_node, image=ABSENT, options={"image_pull_policy": "Never"}
        )
        assert f"node {real_node} does not have image {ABSENT} and imagePullPolicy is Never" in node

    # The server's default pull policy applies when a request names none.
    async with confirming(debug_image_pull_policy="Never") as client:
        default = await preview(client, "add_debug_container", namespace=ns, pod=pod, image=ABSENT)
        assert f"does not have image {ABSENT} and imagePullPolicy is Never" in default

    written = kube.get(ns, "pods")["items"]
    assert [p["metadata"]["name"] for p in written] == [pod]  # no copy, no node debugger
    assert not written[0]["spec"].get("ephemeralContainers")  # no debugger either
