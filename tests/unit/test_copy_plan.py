from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from k8s_debug_mcp.tools.copy_plan import plan_pod_copy
from k8s_debug_mcp.tools.errors import InvalidTarget
from k8s_debug_mcp.tools.kube import Pod
from k8s_debug_mcp.tools.models import CopyPodRequest

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def source() -> dict[str, Any]:
    probe = {"httpGet": {"path": "/", "port": 8080}}
    return {
        "metadata": {
            "name": "slim-7d9-abcde",
            "namespace": "ns",
            "uid": "u-1",
            "resourceVersion": "42",
            "labels": {"app": "slim", "pod-template-hash": "7d9"},
            "annotations": {"team": "web"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": "slim-7d9", "controller": True}],
            "finalizers": ["x/y"],
            "creationTimestamp": "2026-11-27T11:00:00Z",
        },
        "spec": {
            "nodeName": "node-1",
            "initContainers": [{"name": "init", "image": "init:1"}],
            "containers": [
                {
                    "name": "app",
                    "image": "slim-app:1",
                    "args": ["--port=8080"],
                    "livenessProbe": probe,
                    "readinessProbe": probe,
                    "startupProbe": probe,
                },
                {"name": "sidecar", "image": "slim-sidecar:1"},
            ],
            "ephemeralContainers": [{"name": "debugger-old11", "image": "busybox"}],
            "volumes": [{"name": "v", "emptyDir": {}}],
        },
        "status": {"phase": "Running"},
    }


def plan(**kw: Any) -> Any:
    req = CopyPodRequest(namespace="ns", pod="slim-7d9-abcde", **kw)
    return plan_pod_copy(Pod(source()), req, image="busybox:1.37", now=NOW, owner=None, suffix=lambda: "x2b4z")


def test_default_copy_manifest_snapshot() -> None:
    p = plan()
    assert p.name == "slim-7d9-abcde-debug-x2b4z"
    assert p.debugger is not None
    assert p.debugger["name"] == "debugger-x2b4z"
    assert p.manifest == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "slim-7d9-abcde-debug-x2b4z",
            "namespace": "ns",
            "labels": {"app.kubernetes.io/managed-by": "k8s-debug-mcp"},
            "annotations": {
                "k8s-debug-mcp/source-pod": "slim-7d9-abcde",
                "k8s-debug-mcp/created-at": "2026-11-27T12:00:00Z",
                "k8s-debug-mcp/expires-at": "2026-11-27T13:00:00Z",
                "k8s-debug-mcp/debugger": "debugger-x2b4z",
            },
        },
        "spec": {
            "initContainers": [{"name": "init", "image": "init:1"}],
            "containers": [
                {"name": "app", "image": "slim-app:1", "args": ["--port=8080"]},
                {"name": "sidecar", "image": "slim-sidecar:1"},
                {
                    "name": "debugger-x2b4z",
                    "image": "busybox:1.37",
                    "command": ["sleep", "3600"],
                    "terminationMessagePolicy": "File",
                    "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}},
                },
            ],
            "volumes": [{"name": "v", "emptyDir": {}}],
            "shareProcessNamespace": True,
        },
    }
    assert p.warnings == []
    assert "nodeName cleared (the scheduler places the copy)" in p.changes
    assert "app: livenessProbe removed" in p.changes


def test_owner_references_uid_finalizers_and_status_never_reach_the_copy() -> None:
    meta = plan(keep=["labels", "annotations"]).manifest["metadata"]
    assert set(meta) == {"name", "namespace", "labels", "annotations"}
    assert meta["labels"]["app"] == "slim"
    assert meta["annotations"]["team"] == "web"
    assert "status" not in plan().manifest


def test_keeping_labels_warns_about_services_and_replicasets() -> None:
    assert any("ReplicaSet" in w for w in plan(keep=["labels"]).warnings)


def test_set_image_replace_command_keep_flags_and_same_node() -> None:
    p = plan(
        set_image={"*": "tools:1", "sidecar": "side:2"},
        replace_command={"app": ["sleep", "3600"]},
        keep=["liveness"],
        same_node=True,
        share_processes=False,
        add_debugger=False,
    )
    spec = p.manifest["spec"]
    assert spec["nodeName"] == "node-1"
    assert "initContainers" not in spec
    assert spec["shareProcessNamespace"] is False  # asked explicitly: stored, as kubectl --share-processes=false
    app, sidecar = spec["containers"]
    assert app == {
        "name": "app",
        "image": "tools:1",
        "command": ["sleep", "3600"],
        "livenessProbe": {"httpGet": {"path": "/", "port": 8080}},
    }
    assert sidecar["image"] == "side:2"
    assert p.debugger is None
    assert "'--set-image=*=tools:1' --set-image=sidecar=side:2" in p.kubectl
    assert "--same-node" in p.kubectl


@pytest.mark.parametrize("profile", ["sysadmin", "netadmin", "restricted"])
def test_the_profile_applies_to_the_debug_container_only(profile: str) -> None:
    containers = plan(profile=profile).manifest["spec"]["containers"]
    assert "securityContext" not in containers[0]
    assert containers[-1]["securityContext"]


def test_unknown_container_names_are_refused() -> None:
    with pytest.raises(InvalidTarget, match="no regular container named 'db'"):
        plan(set_image={"db": "x:1"})


def pod_state(phase: str, waiting: str | None = None, unschedulable: bool = False) -> dict[str, Any]:
    state = {"waiting": {"reason": waiting, "message": "m"}} if waiting else {"running": {}}
    conds = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/2 nodes"}]
    return {
        "metadata": {"name": "c"},
        "spec": {"containers": [{"name": "app"}]},
        "status": {
            "phase": phase,
            "containerStatuses": [{"name": "app", "state": state}],
            "conditions": conds if unschedulable else [],
        },
    }


def test_waiting_for_a_copy_ends_when_it_runs_and_fails_fast_on_what_will_not_heal() -> None:
    from k8s_debug_mcp.tools.copies import _running_or_failing
    from k8s_debug_mcp.tools.errors import StartFailed

    assert _running_or_failing(pod_state("Running")) == "Running"
    assert _running_or_failing(pod_state("Pending", "ContainerCreating")) is None
    with pytest.raises(StartFailed, match="cannot start: ErrImagePull: m"):
        _running_or_failing(pod_state("Pending", "ErrImagePull"))
    with pytest.raises(StartFailed, match="cannot be scheduled: 0/2 nodes"):
        _running_or_failing(pod_state("Pending", unschedulable=True))
