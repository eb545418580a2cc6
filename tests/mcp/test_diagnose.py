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
    assert (top["severity"], top["container"]) == ("critical", "app")
    assert top["title"].startswith("crash loop: container app exits 1")
    assert "exit 1" in top["evidence"]
    assert "panic: simulated crash" in top["excerpt"]
    # app is not running between crashes: a debugger cannot join it, a copy that sleeps can.
    assert any(f["next_step"].startswith("copy_pod replace_command={'app'") for f in sc["findings"])
    assert not any("add_debug_container target=app" in f["next_step"] for f in sc["findings"])
    assert len(body.encode()) < 1000


async def test_a_healthy_workload_says_so_and_points_at_what_is_failing_beside_it(
    client: Client, seeded: Seeded
) -> None:
    sc, _ = await diagnose(client, seeded.namespace, "slim")
    assert [f["title"] for f in sc["findings"]] == [
        "Deployment/slim is healthy (1/1 pods ready); failing beside it: slim-crash"
    ]
    assert sc["findings"][0]["next_step"] == "diagnose slim-crash"


async def test_a_pod_name_works_too(client: Client, seeded: Seeded) -> None:
    sc, _ = await diagnose(client, seeded.namespace, seeded.crash_pod)
    assert sc["target"] == f"Pod/{seeded.crash_pod}"
    assert sc["findings"][0]["title"].startswith("crash loop")


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


def single_pod(kube: Kube, namespace: str, name: str, *, crashloop: bool = True, **spec: Any) -> None:
    container = {"name": "app", "image": "k8s-debug-mcp.local/slim-app:1", **spec}
    annotations = {"k8s-debug-mcp.test/simulate": "crashloop"} if crashloop else {}
    kube.apply(
        namespace,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "annotations": annotations},
            "spec": {
                "nodeSelector": {"type": "kwok"},
                "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}],
                "containers": [container],
            },
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
            "OOMKilled: container app exceeded its memory limit 64Mi",
            "resources.limits.memory=64Mi",
        ),
        (
            {"waiting": {"reason": "CrashLoopBackOff"}},
            {"exitCode": 127, "reason": "Error"},
            {},
            "crash loop: container app exits 127, restarted 3x",
            "the command was not found",
        ),
        (
            {"waiting": {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "nope:1"'}},
            None,
            {},
            "image cannot be pulled (ImagePullBackOff): k8s-debug-mcp.local/slim-app:1",
            'Back-off pulling image "nope:1"',
        ),
        (
            {"waiting": {"reason": "CreateContainerConfigError", "message": 'configmap "app-config" not found'}},
            None,
            {},
            'container app cannot be created (CreateContainerConfigError): ConfigMap "app-config" is missing',
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
    single_pod(kube, namespace, "probed", crashloop=False)
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
    probe = next(f for f in sc["findings"] if f["title"] == "readiness probe failing")
    assert "statuscode: 503" in probe["excerpt"]
    assert "x7" in probe["evidence"]


async def test_restricted_namespaces_suggest_the_profile_they_admit(client: Client, kube: Kube, namespace: str) -> None:
    kube.run("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=baseline")
    single_pod(kube, namespace, "probed", crashloop=False)  # running, so a debugger can join it
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
            "message": "Readiness probe failed: HTTP probe failed with statuscode: 503",
        },
    )
    sc, _ = await diagnose(client, namespace, "probed")
    assert sc["pod_security"] == "baseline"
    look = next(f for f in sc["findings"] if f["title"] == "look inside")
    assert "add_debug_container target=app profile=baseline, run_as_target=true" in look["next_step"]


async def test_an_unknown_name_is_a_clear_error(client: Client, namespace: str) -> None:
    res = await client.call_tool("diagnose", {"namespace": namespace, "name": "ghost"})
    assert res.is_error
    assert "No pod or workload named ghost" in text(res)
