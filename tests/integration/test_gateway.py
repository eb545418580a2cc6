"""KubeGateway against the real API server: reads, paging, error mapping, RBAC refusals."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from k8s_debug_mcp.tools.errors import Forbidden, Gone, Invalid, KubeApiError, NotFound
from k8s_debug_mcp.tools.gateway import KubeGateway, KubeSettings
from tests.conftest import Kube, Seeded

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]


@pytest.fixture
async def gateway(kubeconfig: str) -> AsyncIterator[KubeGateway]:
    gw = KubeGateway(KubeSettings(kubeconfig=kubeconfig))
    try:
        yield gw
    finally:
        await gw.close()


async def test_list_pods_pages_with_a_continue_token(gateway: KubeGateway, seeded: Seeded) -> None:
    first = await gateway.list_pods(seeded.namespace, limit=1)
    assert len(first["items"]) == 1
    token = first["metadata"]["continue"]
    second = await gateway.list_pods(seeded.namespace, limit=1, continue_token=token)
    assert len(second["items"]) == 1
    assert first["items"][0]["metadata"]["name"] != second["items"][0]["metadata"]["name"]


async def test_a_garbage_continue_token_is_a_clear_error(gateway: KubeGateway, seeded: Seeded) -> None:
    with pytest.raises((Gone, Invalid, KubeApiError)) as exc:
        await gateway.list_pods(seeded.namespace, limit=1, continue_token="bm90LWEtdG9rZW4=")
    assert exc.value.status in (400, 410)
    assert "continue" in str(exc.value).lower()


async def test_missing_pod_is_not_found_with_the_api_message(gateway: KubeGateway, namespace: str) -> None:
    with pytest.raises(NotFound) as exc:
        await gateway.get_pod(namespace, "nope")
    assert 'pods "nope" not found' in str(exc.value)


async def test_owner_chain_objects_are_readable(gateway: KubeGateway, seeded: Seeded) -> None:
    pod = await gateway.get_pod(seeded.namespace, seeded.slim_pod)
    ref = pod["metadata"]["ownerReferences"][0]
    rs = await gateway.get_object(seeded.namespace, ref["apiVersion"], ref["kind"], ref["name"])
    assert rs is not None
    assert rs["metadata"]["ownerReferences"][0]["kind"] == "Deployment"
    assert await gateway.get_object(seeded.namespace, "example.com/v1", "Widget", "x") is None


async def test_a_bad_field_selector_is_reported_by_the_server(gateway: KubeGateway, namespace: str) -> None:
    with pytest.raises(KubeApiError) as exc:
        await gateway.list_pods(namespace, field_selector="spec.nope=1")
    assert exc.value.status == 400
    assert "spec.nope" in str(exc.value)


def restricted_kubeconfig(kube: Kube, namespace: str, tmp_path: Path) -> str:
    """A ServiceAccount that may only get/list pods in `namespace` (RBAC is on in the test cluster)."""
    kube.run("create", "serviceaccount", "reader", "-n", namespace)
    kube.run("create", "role", "pod-reader", "-n", namespace, "--verb=get,list,watch", "--resource=pods")
    kube.run(
        "create",
        "rolebinding",
        "pod-reader",
        "-n",
        namespace,
        "--role=pod-reader",
        f"--serviceaccount={namespace}:reader",
    )
    token = kube.run("create", "token", "reader", "-n", namespace, "--duration=10m").strip()
    admin = yaml.safe_load(Path(kube.kubeconfig).read_text())
    cluster = admin["clusters"][0]
    cfg = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [cluster],
        "users": [{"name": "reader", "user": {"token": token}}],
        "contexts": [{"name": "reader", "context": {"cluster": cluster["name"], "user": "reader"}}],
        "current-context": "reader",
    }
    path = tmp_path / "reader.kubeconfig"
    path.write_text(json.dumps(cfg))
    return str(path)


async def test_restricted_identity_gets_forbidden_naming_the_verb_and_resource(
    kube: Kube, seeded: Seeded, tmp_path: Path
) -> None:
    gw = KubeGateway(KubeSettings(kubeconfig=restricted_kubeconfig(kube, seeded.namespace, tmp_path)))
    try:
        assert (await gw.get_pod(seeded.namespace, seeded.slim_pod))["metadata"]["name"] == seeded.slim_pod
        with pytest.raises(Forbidden) as exc:
            await gw.list_pods("default")
        assert 'cannot list resource "pods"' in str(exc.value)
        assert 'in the namespace "default"' in str(exc.value)
        with pytest.raises(Forbidden) as exc2:
            await gw.list_events(seeded.namespace, field_selector="involvedObject.kind=Pod")
        assert 'cannot list resource "events"' in str(exc2.value)
    finally:
        await gw.close()


async def test_a_wait_from_a_compacted_resource_version_recovers(gateway: KubeGateway, seeded: Seeded) -> None:
    from k8s_debug_mcp.tools.waiting import wait_for_pod

    stale = {"metadata": {"name": seeded.slim_pod, "resourceVersion": "1"}}
    seen: list[str] = []

    def decide(pod: Any) -> str | None:
        seen.append(str(pod["metadata"].get("uid", "")))
        phase = (pod.get("status") or {}).get("phase")
        return phase if phase == "Running" else None  # a young etcd replays history instead of a 410

    assert (
        await wait_for_pod(gateway, seeded.namespace, seeded.slim_pod, stale, timeout_s=20, decide=decide) == "Running"
    )
    assert seen[0] == ""
