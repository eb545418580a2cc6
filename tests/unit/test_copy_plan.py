from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from k8s_debug_mcp.tools.copy_plan import plan_pod_copy
from k8s_debug_mcp.tools.errors import InvalidRequest, InvalidTarget
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


# -- kubectl's semantics, mode by mode (the parity suite checks the same against the real kubectl) ----------


def test_legacy_keeps_annotations_probes_and_init_containers_and_shares_processes_only_when_asked() -> None:
    p = plan(profile="legacy")
    meta, spec = p.manifest["metadata"], p.manifest["spec"]
    assert meta["labels"] == {"app.kubernetes.io/managed-by": "k8s-debug-mcp"}
    assert meta["annotations"]["team"] == "web"
    assert "livenessProbe" in spec["containers"][0]
    assert spec["initContainers"] == [{"name": "init", "image": "init:1"}]
    assert "shareProcessNamespace" not in spec
    assert "securityContext" not in spec["containers"][-1]
    assert "--profile=legacy" in p.kubectl
    assert "--keep" not in p.kubectl  # kubectl's legacy ignores them
    assert p.differs == []


def test_legacy_with_an_explicit_keep_says_what_kubectl_would_do_instead() -> None:
    p = plan(profile="legacy", keep=["labels"])
    assert p.manifest["metadata"]["labels"]["app"] == "slim"
    assert "initContainers" not in p.manifest["spec"]
    assert any(d.startswith("labels: kubectl drops them") for d in p.differs)
    assert any(d.startswith("initContainers: kubectl keeps them") for d in p.differs)


def test_a_copy_without_a_debugger_gets_no_profile_and_drops_only_labels_and_probes() -> None:
    p = plan(set_image={"*": "busybox:1.37"}, add_debugger=False)
    meta, spec = p.manifest["metadata"], p.manifest["spec"]
    assert "app" not in meta["labels"]
    assert meta["annotations"]["team"] == "web"  # kept, as kubectl does
    assert spec["initContainers"]
    assert "shareProcessNamespace" not in spec
    assert not any(k.endswith("Probe") for c in spec["containers"] for k in c)
    assert [c["image"] for c in spec["containers"]] == ["busybox:1.37", "busybox:1.37"]
    assert (
        p.kubectl
        == "kubectl debug -n ns slim-7d9-abcde --copy-to=slim-7d9-abcde-debug-x2b4z '--set-image=*=busybox:1.37'"
    )
    assert any(d.startswith("labels: kubectl keeps them") and "Service" in d for d in p.differs)
    assert any(d.startswith("livenessProbe: kubectl keeps it") for d in p.differs)
    assert p.debugger is None


def test_c_naming_a_container_makes_it_the_debugger_with_the_profile() -> None:
    p = plan(image="busybox:1.37", options={"name": "app"}, env={"X": "1"})
    app = p.manifest["spec"]["containers"][0]
    assert app == {
        "name": "app",
        "image": "busybox:1.37",
        "command": ["sleep", "3600"],
        "env": [{"name": "X", "value": "1"}],
        "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}},
    }
    assert len(p.manifest["spec"]["containers"]) == 2  # nothing added
    assert p.manifest["metadata"]["annotations"]["k8s-debug-mcp/debugger"] == "app"
    assert p.debugger_image == "busybox:1.37"
    assert p.kubectl.endswith("--image=busybox:1.37 -c app --env=X=1 -- sleep 3600")


def test_c_naming_a_container_without_image_keeps_its_image() -> None:
    p = plan(options={"name": "app", "args": ["--debug"]})
    app = p.manifest["spec"]["containers"][0]
    assert app["image"] == "slim-app:1"
    assert app["args"] == ["--debug"]
    assert p.debugger_image is None
    assert "--image=" not in p.kubectl
    assert p.kubectl.endswith("-c app --arguments-only -- --debug")


def test_the_debugger_options_are_kubectls_flags() -> None:
    p = plan(
        options={
            "name": "dbg",
            "command": ["sh", "-c"],
            "args": ["sleep 1d"],
            "image_pull_policy": "Never",
            "stdin": True,
            "tty": True,
            "custom": {"resources": {"limits": {"memory": "64Mi"}}},
            "replace": True,
        }
    )
    assert p.debugger == {
        "name": "dbg",
        "terminationMessagePolicy": "File",
        "command": ["sh", "-c", "sleep 1d"],
        "image": "busybox:1.37",
        "imagePullPolicy": "Never",
        "stdin": True,
        "tty": True,
        "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}},
        "resources": {"limits": {"memory": "64Mi"}},
    }
    assert "-i --attach=false -t" in p.kubectl
    assert "--replace" in p.kubectl
    assert "--custom=<(echo" in p.kubectl
    assert any("source pod slim-7d9-abcde is deleted" in c for c in p.changes)
    assert any("ReplicaSet slim-7d9 manages" in w for w in p.warnings)


def test_an_explicit_share_processes_wins_over_the_profile_and_an_unset_one_keeps_the_sources() -> None:
    assert plan(share_processes=False).manifest["spec"]["shareProcessNamespace"] is False
    src = source()
    src["spec"]["shareProcessNamespace"] = False
    req = CopyPodRequest(namespace="ns", pod="slim-7d9-abcde")
    p = plan_pod_copy(Pod(src), req, image="busybox:1.37", now=NOW, owner=None, suffix=lambda: "x2b4z")
    assert p.manifest["spec"]["shareProcessNamespace"] is False  # kubectl sets it only when unset


def test_replace_command_is_beyond_kubectl_and_says_so() -> None:
    p = plan(replace_command={"app": ["sleep", "1000"]})
    assert p.manifest["spec"]["containers"][0]["command"] == ["sleep", "1000"]
    assert "args" not in p.manifest["spec"]["containers"][0]
    assert any(d.startswith("app: command replaced (args removed) here") for d in p.differs)
    assert p.kubectl is not None


def test_a_copy_kubectl_cannot_make_has_no_kubectl_command_and_says_why() -> None:
    p = plan(add_debugger=False)
    assert p.kubectl is None
    assert p.differs[0].startswith("no kubectl debug command makes this copy")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"options": {"name": "init"}}, InvalidTarget, "init is an init container"),
        ({"set_image": {"init": "x:1"}}, InvalidTarget, "an init container: kubectl --set-image"),
        ({"add_debugger": False, "env": {"A": "1"}}, InvalidRequest, "env configure a debugger"),
        ({"add_debugger": False, "options": {"name": "nope"}}, InvalidRequest, "options.name nope names no container"),
        ({"options": {"name": "app"}, "replace_command": {"app": ["x"]}}, InvalidRequest, "both in replace_command"),
    ],
)
def test_requests_kubectl_would_refuse_or_that_contradict_themselves_are_refused(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        plan(**kwargs)


def test_tty_without_stdin_is_refused_by_the_request_model() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="tty requires stdin"):
        CopyPodRequest(namespace="ns", pod="p", options={"tty": True})
