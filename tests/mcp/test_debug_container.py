"""add_debug_container through MCP against the real API server (KWOK reports the status)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import CallToolResult

from k8s_debug_mcp.server import Settings, build_server
from k8s_debug_mcp.server.app import owner_key
from k8s_debug_mcp.tools.debug_plan import plan_debug_container
from k8s_debug_mcp.tools.errors import Invalid
from k8s_debug_mcp.tools.gateway import KubeGateway, KubeSettings
from k8s_debug_mcp.tools.kube import Pod
from k8s_debug_mcp.tools.models import AddDebugContainerRequest
from k8s_debug_mcp.tools.ownership import Ownership
from tests.conftest import Kube, Seeded, restricted_pod
from tests.integration.test_gateway import restricted_kubeconfig
from tests.mcp.util import data, text

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]


def ephemeral(kube: Kube, namespace: str, pod: str) -> list[dict[str, Any]]:
    return list(kube.get(namespace, "pod", pod)["spec"].get("ephemeralContainers") or [])


async def add(client: Client, **args: Any) -> CallToolResult:
    return await client.call_tool("add_debug_container", args)


async def test_dry_run_shows_the_patch_and_the_server_verdict_and_changes_nothing(
    client: Client, seeded: Seeded, kube: Kube
) -> None:
    res = await add(client, namespace=seeded.namespace, pod=seeded.slim_pod, target="app", dry_run=True)
    assert not res.is_error, text(res)
    sc = data(res)
    assert sc["dry_run"] is True
    assert sc["server_dry_run"].startswith("accepted")
    (container,) = sc["patch"]["spec"]["ephemeralContainers"]
    assert re.fullmatch(r"debugger-[bcdfghjklmnpqrstvwxz2456789]{5}", container["name"])
    assert container["targetContainerName"] == "app"
    assert container["securityContext"] == {"capabilities": {"add": ["SYS_PTRACE"]}}
    assert sc["api_request"].startswith(
        f"PATCH /api/v1/namespaces/{seeded.namespace}/pods/{seeded.slim_pod}/ephemeralcontainers"
    )
    assert sc["kubectl"].startswith(f"kubectl debug -n {seeded.namespace} {seeded.slim_pod} --image=busybox:1.37")
    assert "DRY RUN" in text(res)
    assert ephemeral(kube, seeded.namespace, seeded.slim_pod) == []


async def test_a_real_call_adds_a_running_debugger_and_a_second_identical_call_reuses_it(
    client: Client, seeded: Seeded, kube: Kube
) -> None:
    first = await add(client, namespace=seeded.namespace, pod=seeded.slim_pod, target="app")
    assert not first.is_error, text(first)
    a = data(first)
    assert a["state"] == "running"
    assert a["reused"] is False
    assert re.fullmatch(r"debugger-\w{5}", a["container"])
    assert datetime.fromisoformat(a["expires_at"].replace("Z", "+00:00")) > datetime.now(UTC)
    assert f"added debug container {a['container']}" in text(first)

    second = await add(client, namespace=seeded.namespace, pod=seeded.slim_pod, target="app")
    b = data(second)
    assert b["reused"] is True
    assert b["container"] == a["container"]
    assert "reusing existing" in text(second)
    spec = ephemeral(kube, seeded.namespace, seeded.slim_pod)
    assert [c["name"] for c in spec] == [a["container"]]
    assert spec[0]["targetContainerName"] == "app"
    assert spec[0]["command"] == ["sleep", "3600"]

    status = data(await client.call_tool("pod_status", {"namespace": seeded.namespace, "pod": seeded.slim_pod}))
    dbg = next(c for c in status["containers"] if c["kind"] == "ephemeral")
    assert dbg["name"] == a["container"]
    assert dbg["state"] == "running"
    assert dbg["target"] == "app"
    assert dbg["ours"] is True
    assert dbg["expires_at"] == a["expires_at"]

    other = data(await add(client, namespace=seeded.namespace, pod=seeded.slim_pod, target="sidecar"))
    assert other["reused"] is False
    assert other["container"] != a["container"]


async def test_a_retry_after_a_lost_response_does_not_duplicate(
    kubeconfig: str, seeded: Seeded, kube: Kube, make_settings: Callable[..., Settings]
) -> None:
    """The first attempt's PATCH reached the server but its answer never came back."""
    req = AddDebugContainerRequest(namespace=seeded.namespace, pod=seeded.slim_pod, target="app")
    settings = make_settings(kubeconfig)
    gw = KubeGateway(KubeSettings(kubeconfig=kubeconfig))
    try:
        pod = Pod(await gw.get_pod(seeded.namespace, seeded.slim_pod))
        owner = Ownership(owner_key(settings))
        plan = plan_debug_container(pod, req, image="busybox:1.37", now=datetime.now(UTC), owner=owner)
        await gw.patch_ephemeral_containers(seeded.namespace, seeded.slim_pod, plan.patch, dry_run=False)
    finally:
        await gw.close()
    async with Client(build_server(settings)) as client:
        res = data(await add(client, namespace=seeded.namespace, pod=seeded.slim_pod, target="app"))
    assert res["reused"] is True
    assert res["container"] == plan.name
    assert len(ephemeral(kube, seeded.namespace, seeded.slim_pod)) == 1


@pytest.mark.parametrize(
    ("custom", "expected"),
    [
        ({"volumeMounts": [{"name": "nope", "mountPath": "/x"}]}, "volumeMounts[0].name: Not found"),
        ({"ports": [{"containerPort": 80}]}, "Forbidden: cannot be set for an Ephemeral Container"),
        ({"resources": {"limits": {"cpu": "1"}}}, "Forbidden: cannot be set for an Ephemeral Container"),
    ],
)
async def test_the_server_dry_run_reports_what_the_api_refuses(
    client: Client, seeded: Seeded, kube: Kube, custom: dict[str, Any], expected: str
) -> None:
    res = await add(client, namespace=seeded.namespace, pod=seeded.slim_pod, custom=custom, dry_run=True)
    assert not res.is_error, text(res)
    verdict = data(res)["server_dry_run"]
    assert verdict.startswith("rejected (HTTP 422)")
    assert expected in verdict
    assert ephemeral(kube, seeded.namespace, seeded.slim_pod) == []


async def test_a_real_call_the_api_refuses_is_a_clear_error(client: Client, seeded: Seeded) -> None:
    res = await add(client, namespace=seeded.namespace, pod=seeded.slim_pod, custom={"ports": [{"containerPort": 80}]})
    assert res.is_error
    assert "Forbidden: cannot be set for an Ephemeral Container" in text(res)
    assert "Next: fix the arguments" in text(res)


async def test_the_api_server_refuses_duplicate_names(kubeconfig: str, seeded: Seeded) -> None:
    gw = KubeGateway(KubeSettings(kubeconfig=kubeconfig))
    body = {"spec": {"ephemeralContainers": [{"name": "app", "image": "busybox:1.37"}]}}
    try:
        with pytest.raises(Invalid) as exc:
            await gw.patch_ephemeral_containers(seeded.namespace, seeded.slim_pod, body, dry_run=True)
    finally:
        await gw.close()
    assert "Duplicate value" in str(exc.value)


async def test_our_own_checks_refuse_a_clash_or_an_unknown_target(client: Client, seeded: Seeded) -> None:
    clash = await add(client, namespace=seeded.namespace, pod=seeded.slim_pod, name="sidecar")
    unknown = await add(client, namespace=seeded.namespace, pod=seeded.slim_pod, target="db")
    assert clash.is_error
    assert "already has a container named 'sidecar'" in text(clash)
    assert unknown.is_error
    assert "Containers: app, sidecar" in text(unknown)


async def test_pod_security_restricted_admits_the_restricted_profile_and_refuses_sysadmin(
    kubeconfig: str, kube: Kube, namespace: str, make_settings: Callable[..., Settings]
) -> None:
    kube.run("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted")
    kube.apply(namespace, restricted_pod("locked"))
    kube.wait_until("locked running", lambda: kube.get(namespace, "pod", "locked")["status"].get("phase") == "Running")
    every_profile = ["legacy", "general", "baseline", "restricted", "netadmin", "sysadmin"]
    async with Client(build_server(make_settings(kubeconfig, profiles=every_profile))) as client:
        ok = await add(
            client,
            namespace=namespace,
            pod="locked",
            target="app",
            profile="restricted",
            run_as_target=True,
            dry_run=True,
        )
        refused = await add(client, namespace=namespace, pod="locked", target="app", profile="sysadmin", dry_run=True)
    assert data(ok)["server_dry_run"].startswith("accepted"), data(ok)["server_dry_run"]
    verdict = data(refused)["server_dry_run"]
    assert verdict.startswith("rejected (HTTP 403)")
    assert 'violates PodSecurity "restricted:latest"' in verdict
    assert "privileged" in verdict


async def test_a_read_only_identity_is_refused_naming_the_subresource(
    kube: Kube, seeded: Seeded, tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    cfg = restricted_kubeconfig(kube, seeded.namespace, tmp_path)
    async with Client(build_server(make_settings(cfg))) as client:
        res = await add(client, namespace=seeded.namespace, pod=seeded.slim_pod)
    assert res.is_error
    assert "may not patch pods/ephemeralcontainers in namespace" in text(res)
    assert "nothing was attempted" in text(res)


async def test_missing_pod_and_bad_image_are_clear_errors(client: Client, namespace: str) -> None:
    missing = await add(client, namespace=namespace, pod="nope")
    bad = await add(client, namespace=namespace, pod="nope", image="Bad Image!")
    assert 'pods "nope" not found' in text(missing)
    assert "image: must be an image reference" in text(bad)
    assert missing.is_error
    assert bad.is_error


async def test_an_image_that_cannot_be_pulled_fails_fast_with_the_waiting_reason(
    client: Client, seeded: Seeded
) -> None:
    res = await add(
        client,
        namespace=seeded.namespace,
        pod=seeded.slim_pod,
        image="k8s-debug-mcp.local/does-not-exist:1",
        timeout_seconds=120,
    )
    assert res.is_error
    body = text(res)
    assert "cannot start: ErrImagePull" in body
    assert "not found" in body
    assert "cannot be removed" in body


async def test_subpath_mounts_are_refused_by_the_api_server(client: Client, seeded: Seeded, kube: Kube) -> None:
    volumes = kube.get(seeded.namespace, "pod", seeded.slim_pod)["spec"]["volumes"]
    custom = {"volumeMounts": [{"name": volumes[0]["name"], "mountPath": "/sa/token", "subPath": "token"}]}
    res = await add(client, namespace=seeded.namespace, pod=seeded.slim_pod, custom=custom, dry_run=True)
    verdict = data(res)["server_dry_run"]
    assert verdict.startswith("rejected (HTTP 422)")
    assert "subPath: Forbidden" in verdict
