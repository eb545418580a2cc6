"""diagnose against the real API server. Crash loops come from the KWOK stage and scheduling
failures from the real scheduler; kubelet-only states (OOMKilled, image pulls, config errors,
probe events) are written into pod status and events the way a kubelet would."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client

from tests.conftest import Kube, Seeded, slim_deployment
from tests.mcp.util import data, text

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]


async def diagnose(client: Client, namespace: str, name: str) -> tuple[dict[str, Any], str]:
    res = await client.call_tool("diagnose", {"namespace": namespace, "name": name})
    assert not res.is_error, text(res)
    return data(res), text(res)


async def test_the_crash_looping_slim_gets_the_right_top_finding_in_a_few_hundred_bytes(
    client: Client, seeded: Seeded
) -> None:
    sc, body = await diagnose(client, seeded.namespace, "slim-crash")
    assert sc["target"] == "Deployment/slim-crash"
    top = sc["findings"][0]
    assert (top["severity"], top["title"], top["container"]) == ("critical", "crash loop", "app")
    assert "exited with code 1" in top["evidence"]
    assert "panic: simulated crash" in top["excerpt"]
    assert any(f["next_step"].startswith("add_debug_container target=app profile=general") for f in sc["findings"])
    assert len(body.encode()) < 1000


async def test_a_healthy_workload_says_so(client: Client, seeded: Seeded) -> None:
    sc, _ = await diagnose(client, seeded.namespace, "slim")
    assert [f["title"] for f in sc["findings"]] == ["nothing wrong found"]


async def test_a_pod_name_works_too(client: Client, seeded: Seeded) -> None:
    sc, _ = await diagnose(client, seeded.namespace, seeded.crash_pod)
    assert sc["target"] == f"Pod/{seeded.crash_pod}"
    assert sc["findings"][0]["title"] == "crash loop"


async def test_an_unschedulable_pod_shows_the_scheduler_message(client: Client, kube: Kube, namespace: str) -> None:
    dep = slim_deployment("nowhere")
    dep["spec"]["template"]["spec"]["nodeSelector"] = {"type": "gpu-that-does-not-exist"}
    kube.apply(namespace, dep)
    kube.wait_until(
        "unschedulable",
        lambda: any(
            c.get("reason") == "Unschedulable"
            for p in kube.get(namespace, "pods", "-l", "app=nowhere")["items"]
            for c in p.get("status", {}).get("conditions") or []
        ),
    )
    sc, _ = await diagnose(client, namespace, "nowhere")
    top = sc["findings"][0]
    assert top["title"] == "cannot be scheduled"
    assert "node(s) didn't match Pod's node affinity/selector" in top["excerpt"]


def kubelet_status(kube: Kube, namespace: str, name: str, state: dict[str, Any], last: dict[str, Any] | None) -> None:
    """Write a container status as the kubelet would (the KWOK stages leave running pods alone)."""
    pod = kube.get(namespace, "pod", name)
    statuses = pod["status"]["containerStatuses"]
    statuses[0]["state"] = state
    statuses[0]["restartCount"] = 3 if last else 0
    if last:
        statuses[0]["lastState"] = {"terminated": last}
    kube.run(
        "patch",
        "pod",
        name,
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": {"containerStatuses": statuses}}),
    )


def single_pod(kube: Kube, namespace: str, name: str, **spec: Any) -> None:
    container = {"name": "app", "image": "k8s-debug-mcp.local/slim-app:1", **spec}
    kube.apply(
        namespace,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "annotations": {"k8s-debug-mcp.test/simulate": "crashloop"}},
            "spec": {"nodeSelector": {"type": "kwok"}, "containers": [container]},
        },
    )
    kube.wait_until(f"{name} running", lambda: kube.get(namespace, "pod", name)["status"].get("phase") == "Running")


@pytest.mark.parametrize(
    ("state", "last", "spec", "title", "evidence"),
    [
        (
            {"waiting": {"reason": "CrashLoopBackOff"}},
            {"exitCode": 137, "reason": "OOMKilled"},
            {"resources": {"limits": {"memory": "64Mi"}}},
            "crash loop",
            "memory limit (64Mi)",
        ),
        (
            {"waiting": {"reason": "CrashLoopBackOff"}},
            {"exitCode": 127, "reason": "Error"},
            {},
            "crash loop",
            "command was not found",
        ),
        (
            {"waiting": {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "nope:1"'}},
            None,
            {},
            "image cannot be pulled (ImagePullBackOff)",
            'Back-off pulling image "nope:1"',
        ),
        (
            {"waiting": {"reason": "CreateContainerConfigError", "message": 'configmap "app-config" not found'}},
            None,
            {},
            "container cannot be created (CreateContainerConfigError)",
            'configmap "app-config" not found',
        ),
    ],
    ids=["oomkilled", "exit-127", "image-pull", "missing-configmap"],
)
async def test_kubelet_failure_states_are_explained(
    client: Client,
    kube: Kube,
    namespace: str,
    state: dict[str, Any],
    last: dict[str, Any] | None,
    spec: dict[str, Any],
    title: str,
    evidence: str,
) -> None:
    single_pod(kube, namespace, "sick", **spec)
    kubelet_status(kube, namespace, "sick", state, last)
    sc, _ = await diagnose(client, namespace, "sick")
    top = sc["findings"][0]
    assert top["title"] == title
    assert evidence in f"{top['evidence']} {top['excerpt']}"


async def test_failing_probes_come_from_events(client: Client, kube: Kube, namespace: str) -> None:
    single_pod(kube, namespace, "probed")
    pod = kube.get(namespace, "pod", "probed")
    kube.apply(
        namespace,
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "probed.unhealthy"},
            "involvedObject": {"kind": "Pod", "name": "probed", "namespace": namespace, "uid": pod["metadata"]["uid"]},
            "reason": "Unhealthy",
            "type": "Warning",
            "count": 7,
            "message": "Readiness probe failed: HTTP probe failed with statuscode: 503",
            "source": {"component": "kubelet"},
        },
    )
    sc, _ = await diagnose(client, namespace, "probed")
    probe = next(f for f in sc["findings"] if f["title"] == "probe failing")
    assert "statuscode: 503" in probe["excerpt"]
    assert "x7" in probe["evidence"]


async def test_restricted_namespaces_suggest_the_restricted_profile(client: Client, kube: Kube, namespace: str) -> None:
    kube.run("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=baseline")
    kube.apply(namespace, slim_deployment("slim-crash", crashloop=True))
    kube.wait_until("crash", lambda: bool(kube.get(namespace, "pods", "-l", "app=slim-crash")["items"]))
    kube.wait_until(
        "crash loop",
        lambda: any(
            (s.get("state", {}).get("waiting") or {}).get("reason") == "CrashLoopBackOff"
            for p in kube.get(namespace, "pods", "-l", "app=slim-crash")["items"]
            for s in p.get("status", {}).get("containerStatuses") or []
        ),
    )
    sc, _ = await diagnose(client, namespace, "slim-crash")
    assert sc["pod_security"] == "baseline"
    look = next(f for f in sc["findings"] if f["title"] == "look inside")
    assert "profile=baseline, run_as_target=true" in look["next_step"]


async def test_an_unknown_name_is_a_clear_error(client: Client, namespace: str) -> None:
    res = await client.call_tool("diagnose", {"namespace": namespace, "name": "ghost"})
    assert res.is_error
    assert "No pod or workload named ghost" in text(res)
