"""The read tools through an in-memory MCP client against the real test cluster."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp.types import CallToolResult

from tests.conftest import Kube, Seeded, slim_deployment
from tests.mcp.util import data, text

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]


async def call(client: Client, tool: str, **args: Any) -> CallToolResult:
    return await client.call_tool(tool, args)


async def test_list_pods_shows_the_crash_looping_pod_with_its_reason(client: Client, seeded: Seeded) -> None:
    res = await call(client, "list_pods", namespace=seeded.namespace)
    assert not res.is_error, text(res)
    rows = {p["name"]: p for p in data(res)["pods"]}
    assert rows[seeded.crash_pod]["status"] == "CrashLoopBackOff"
    assert rows[seeded.crash_pod]["restarts"] > 0
    assert rows[seeded.crash_pod]["problem"] == "container app waiting: CrashLoopBackOff"
    assert rows[seeded.slim_pod]["status"] == "Running"
    assert rows[seeded.slim_pod]["ready"] == "2/2"
    line = next(ln for ln in text(res).splitlines() if ln.startswith(seeded.crash_pod))
    assert "CrashLoopBackOff" in line
    assert "kwok-node-" in line


async def test_problems_only_hides_the_healthy_pod(client: Client, seeded: Seeded) -> None:
    res = await call(client, "list_pods", namespace=seeded.namespace, problems_only=True)
    names = [p["name"] for p in data(res)["pods"]]
    assert names == [seeded.crash_pod]
    assert data(res)["scanned"] == 2


async def test_label_selector_and_pagination_with_continue_token(client: Client, seeded: Seeded) -> None:
    by_label = await call(client, "list_pods", namespace=seeded.namespace, label_selector="app=slim")
    assert [p["name"] for p in data(by_label)["pods"]] == [seeded.slim_pod]

    first = await call(client, "list_pods", namespace=seeded.namespace, limit=1)
    token = data(first)["continue_token"]
    assert token
    assert "continue_token=" in text(first)
    second = await call(client, "list_pods", namespace=seeded.namespace, limit=1, continue_token=token)
    names = {data(first)["pods"][0]["name"], data(second)["pods"][0]["name"]}
    assert names == {seeded.slim_pod, seeded.crash_pod}
    assert data(second).get("continue_token") is None


async def test_all_namespaces_listing_includes_the_namespace_column(client: Client, seeded: Seeded) -> None:
    res = await call(client, "list_pods", label_selector="app=slim-crash", problems_only=True, all_namespaces=True)
    assert not res.is_error, text(res)
    assert text(res).splitlines()[1].startswith("NAMESPACE")
    assert seeded.namespace in {p["namespace"] for p in data(res)["pods"]}


async def test_pod_status_shows_last_termination_owner_chain_and_events(client: Client, seeded: Seeded) -> None:
    res = await call(client, "pod_status", namespace=seeded.namespace, pod=seeded.crash_pod)
    assert not res.is_error, text(res)
    sc = data(res)
    app = next(c for c in sc["containers"] if c["name"] == "app")
    assert app["state"] == "waiting"
    assert app["reason"] == "CrashLoopBackOff"
    assert app["last_termination"]["exit_code"] == 1
    assert app["restart_count"] > 0
    assert [o["kind"] for o in sc["owners"]] == ["ReplicaSet", "Deployment"]
    assert sc["owners"][1]["name"] == "slim-crash"
    assert any(e["reason"] == "Scheduled" for e in sc["events"])
    body = text(res)
    assert "last: Error exit=1" in body
    assert "ReplicaSet" in body
    assert "-> Deployment slim-crash" in body
    assert "<untrusted-output" in body


async def test_pod_logs_of_a_missing_container_names_the_containers(client: Client, seeded: Seeded) -> None:
    res = await call(client, "pod_logs", namespace=seeded.namespace, pod=seeded.slim_pod, container="nope")
    assert res.is_error
    assert "no container named 'nope'" in text(res)
    assert "app (regular)" in text(res)
    assert "sidecar (regular)" in text(res)


async def test_pod_logs_returns_delimited_capped_text(client: Client, seeded: Seeded) -> None:
    res = await call(
        client, "pod_logs", namespace=seeded.namespace, pod=seeded.slim_pod, container="app", limit_bytes=256
    )
    assert not res.is_error, text(res)
    sc = data(res)
    assert sc["container"] == "app"
    assert len(sc["text"].encode()) <= 256
    assert "<untrusted-output" in text(res)


async def test_missing_pod_is_a_clear_not_found_error(client: Client, namespace: str) -> None:
    res = await call(client, "pod_status", namespace=namespace, pod="nope")
    assert res.is_error
    assert text(res).endswith(
        f'get pod {namespace}/nope failed: pods "nope" not found. Next: check the name and namespace (list_pods).'
    )


async def test_bad_arguments_are_clear_errors_without_echoing_input(client: Client) -> None:
    res = await call(client, "list_pods", namespace="../etc/passwd", label_selector="a=$(id)")
    assert res.is_error
    body = text(res)
    assert "namespace: must be a DNS-1123 label" in body
    assert "label_selector: invalid label selector term" in body
    assert "pydantic" not in body
    assert "input_value" not in body


async def test_wrong_type_and_unknown_enum_values_are_clear_errors(client: Client) -> None:
    res = await call(client, "pod_logs", namespace="x", pod="y", tail_lines="lots")
    assert res.is_error
    assert "tail_lines:" in text(res)


async def test_default_container_choice_is_explained(client: Client, seeded: Seeded) -> None:
    res = await call(client, "pod_logs", namespace=seeded.namespace, pod=seeded.slim_pod)
    assert not res.is_error, text(res)
    assert data(res)["container"] == "app"
    assert "defaulted to container app out of: app (regular), sidecar (regular)" in text(res)


async def test_problems_only_scans_every_page_server_side(client: Client, kube: Kube, namespace: str) -> None:
    """100 healthy web pods sort before 3 broken ones: one default call still finds all three."""
    web = slim_deployment("web")
    web["spec"]["replicas"] = 120
    kube.apply(namespace, [web, *(slim_deployment(f"zz-broken-{i}", crashloop=True) for i in range(3))])

    def settled() -> bool:
        pods = kube.get(namespace, "pods")["items"]
        crashing = [
            p
            for p in pods
            if any(
                (s.get("state", {}).get("waiting") or {}).get("reason") == "CrashLoopBackOff"
                for s in p.get("status", {}).get("containerStatuses") or []
            )
        ]
        running = [
            p for p in pods if p["metadata"]["name"].startswith("web-") and p["status"].get("phase") == "Running"
        ]
        return len(crashing) == 3 and len(running) == 120

    kube.wait_until("120 web pods running and 3 crash loops", settled, 120)
    res = await call(client, "list_pods", namespace=namespace, problems_only=True, limit=10)
    sc = data(res)
    assert sorted(p["name"].rsplit("-", 2)[0] for p in sc["pods"]) == ["zz-broken-0", "zz-broken-1", "zz-broken-2"]
    assert sc["scanned"] == 123
    assert sc.get("continue_token") is None
    assert "(123 pods scanned)" in text(res)


async def test_pod_status_leaves_out_the_events_of_an_earlier_pod_of_the_same_name(
    client: Client, kube: Kube, namespace: str
) -> None:
    """Events are listed by name alongside the pod (one round trip) and kept by uid."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "again"},
        "spec": {"nodeName": "nowhere", "containers": [{"name": "app", "image": "busybox:1.37"}]},
    }

    def event(reason: str, uid: str) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"again.{reason.lower()}"},
            "involvedObject": {"kind": "Pod", "name": "again", "namespace": namespace, "uid": uid},
            "reason": reason,
            "message": f"{reason} happened",
            "type": "Warning",
            "count": 1,
            "firstTimestamp": "2026-11-29T10:00:00Z",
            "lastTimestamp": "2026-11-29T10:00:00Z",
            "source": {"component": "test"},
        }

    kube.apply(namespace, pod)
    kube.apply(namespace, event("EarlierPod", kube.get(namespace, "pod", "again")["metadata"]["uid"]))
    kube.run("delete", "pod", "again", "-n", namespace, "--grace-period=0", "--force")
    kube.apply(namespace, pod)
    kube.apply(namespace, event("ThisPod", kube.get(namespace, "pod", "again")["metadata"]["uid"]))
    res = await call(client, "pod_status", namespace=namespace, pod="again")
    assert [e["reason"] for e in data(res)["events"]] == ["ThisPod"], text(res)
    assert "EarlierPod" not in text(res)
    missing = await call(client, "pod_status", namespace=namespace, pod="never-was")
    assert missing.is_error
    assert "not found" in text(missing).lower()
