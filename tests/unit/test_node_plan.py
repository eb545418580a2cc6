"""debug_node's plan against kubectl's generateNodeDebugPod + profiles.go (v1.36), and its policy."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from k8s_debug_mcp.tools.errors import PolicyDenied
from k8s_debug_mcp.tools.models import DebugNodeRequest
from k8s_debug_mcp.tools.node_plan import node_pod_name, plan_node_debugger
from k8s_debug_mcp.tools.ownership import Ownership
from k8s_debug_mcp.tools.policy import Policy

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
OWNER = Ownership(b"k" * 32)
HOST = {"hostNetwork": True, "hostPID": True, "hostIPC": True}
ROOT = {"volumes": [{"name": "host-root", "hostPath": {"path": "/"}}]}
MOUNT = {"volumeMounts": [{"mountPath": "/host", "name": "host-root"}]}
RESTRICTED_SC = {
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
    "allowPrivilegeEscalation": False,
    "seccompProfile": {"type": "RuntimeDefault"},
}
# kubectl's node pod per profile: (pod-level fields, container fields) beyond the common ones.
KUBECTL_NODE: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "legacy": ({**HOST, **ROOT}, MOUNT),
    "general": ({**HOST, **ROOT}, MOUNT),
    "baseline": ({}, {}),
    "restricted": ({}, {"securityContext": RESTRICTED_SC}),
    "netadmin": (HOST, {"securityContext": {"capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}}}),
    "sysadmin": ({**HOST, **ROOT}, {**MOUNT, "securityContext": {"privileged": True}}),
}


def plan(**kw: Any) -> Any:
    req = DebugNodeRequest(namespace="dbg", node="node-1", **kw)
    return plan_node_debugger(req, image="busybox:1.37", now=NOW, owner=OWNER, suffix=lambda: "x2b4z")


@pytest.mark.parametrize(("profile", "expected"), list(KUBECTL_NODE.items()))
def test_each_profile_builds_kubectls_node_pod(profile: str, expected: tuple[dict[str, Any], dict[str, Any]]) -> None:
    pod_fields, container_fields = expected
    p = plan(profile=profile)
    assert p.manifest["spec"] == {
        "containers": [
            {
                "name": "debugger",
                "image": "busybox:1.37",
                "command": ["sleep", "3600"],
                "terminationMessagePolicy": "File",
                **container_fields,
            }
        ],
        "nodeName": "node-1",
        "restartPolicy": "Never",
        "tolerations": [{"operator": "Exists"}],
        **pod_fields,
    }
    assert p.kubectl == f"kubectl debug node/node-1 -n dbg --image=busybox:1.37 --profile={profile} -- sleep 3600"


def test_the_pod_is_named_like_kubectls_and_marked_as_ours() -> None:
    p = plan()
    meta = p.manifest["metadata"]
    assert p.name == meta["name"] == "node-debugger-node-1-x2b4z"
    assert meta["labels"] == {"app.kubernetes.io/managed-by": "k8s-debug-mcp"}
    assert meta["annotations"] == {
        "k8s-debug-mcp/node": "node-1",
        "k8s-debug-mcp/debugger": "debugger",
        "k8s-debug-mcp/created-at": "2026-11-27T12:00:00Z",
        "k8s-debug-mcp/expires-at": "2026-11-27T13:00:00Z",
        "k8s-debug-mcp/owner": OWNER.pod_mark("dbg", "node-debugger-node-1-x2b4z", "2026-11-27T12:00:00Z"),
    }


def test_a_long_node_name_is_cut_to_fit_a_pod_name() -> None:
    name = node_pod_name("n" * 250, lambda: "x2b4z")
    assert len(name) == 253
    assert name.endswith("n-x2b4z")


def test_options_are_kubectls_flags_and_custom_merges_last() -> None:
    p = plan(options={"args": ["sleep", "5"], "image_pull_policy": "Never", "custom": {"workingDir": "/host"}})
    c = p.manifest["spec"]["containers"][0]
    assert c["args"] == ["sleep", "5"]
    assert "command" not in c
    assert c["imagePullPolicy"] == "Never"
    assert c["workingDir"] == "/host"
    assert '--image-pull-policy=Never --custom=<(echo \'{"workingDir":"/host"}\')' in p.kubectl
    assert p.kubectl.endswith("--arguments-only -- sleep 5")
    assert not p.sleeper


def test_node_debugging_is_off_unless_the_policy_allows_it_and_only_on_allowed_nodes() -> None:
    with pytest.raises(PolicyDenied, match="node_debugging"):
        Policy().check_node("node-1")
    Policy(node_debugging=True).check_node("node-1")
    with pytest.raises(PolicyDenied, match="allowed_nodes"):
        Policy(node_debugging=True, allowed_nodes=("pool-a-*",)).check_node("node-1")


def test_the_node_rule_allows_host_access_only_as_far_as_an_allowed_profile_grants_it() -> None:
    general = plan(profile="general")
    Policy().check_node_profile("general", general.container, general.manifest["spec"])
    with pytest.raises(PolicyDenied, match="hostPID: true is not allowed"):
        Policy(profiles=("baseline", "restricted")).check_node_profile(
            "baseline", general.container, general.manifest["spec"]
        )
    with pytest.raises(PolicyDenied, match="Profile general is not allowed"):
        Policy(profiles=("baseline",)).check_node_profile("general", general.container, general.manifest["spec"])
    netadmin = plan(profile="netadmin", options={"custom": {"ports": [{"containerPort": 80, "hostPort": 80}]}})
    Policy(profiles=("netadmin",)).check_node_profile("netadmin", netadmin.container, netadmin.manifest["spec"])
    with pytest.raises(PolicyDenied, match="hostPath / is not allowed"):
        Policy(profiles=("netadmin",)).check_node_profile("netadmin", general.container, general.manifest["spec"])
    baseline = plan(profile="baseline", options={"custom": {"ports": [{"containerPort": 80, "hostPort": 80}]}})
    Policy().check_node_profile("baseline", baseline.container, baseline.manifest["spec"])  # legacy would allow it
    with pytest.raises(PolicyDenied, match="hostPort is not allowed"):
        Policy(profiles=("baseline", "restricted")).check_node_profile(
            "baseline", baseline.container, baseline.manifest["spec"]
        )
    privileged = plan(profile="general", options={"custom": {"securityContext": {"privileged": True}}})
    with pytest.raises(PolicyDenied, match="privileged: true is not allowed"):
        Policy().check_node_profile("general", privileged.container, privileged.manifest["spec"])
