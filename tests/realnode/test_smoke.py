"""Smoke tests of the real node: real containers from local images, and `kubectl debug` into a
shell-less pod the way the blog does it (ephemeral busybox container targeting `app`)."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import Kube
from tests.realnode.conftest import DEBUG_IMAGE, REAL_NODE, SLIM_PAGE, RealPod, kubectl

pytestmark = [pytest.mark.realnode, pytest.mark.cluster]


def test_the_real_node_is_a_kubelet_not_kwok(kube: Kube, real_node: str) -> None:
    node = json.loads(kube.run("get", "node", real_node, "-o", "json"))
    info = node["status"]["nodeInfo"]
    assert info["kubeletVersion"].startswith("v1.")
    assert info["containerRuntimeVersion"].startswith("containerd://")
    assert node["metadata"]["labels"]["type"] == "real"
    assert {"key": "k8s-debug-mcp/real", "value": "true", "effect": "NoSchedule"} in node["spec"]["taints"]
    assert {"type": "InternalIP", "address": "127.0.0.1"} in node["status"]["addresses"]
    # kwok-controller holds the leases of the nodes it fakes; the kubelet holds its own.
    lease = json.loads(kube.run("get", "lease", real_node, "-n", "kube-node-lease", "-o", "json"))
    assert lease["spec"]["holderIdentity"] == real_node


def test_kubectl_debug_into_the_shellless_slim_pod(kube: Kube, real_slim: RealPod) -> None:
    ns, pod_name = real_slim.namespace, real_slim.name
    pod = kube.get(ns, "pod", pod_name)
    assert pod["spec"]["nodeName"] == REAL_NODE
    assert pod["status"]["hostIP"] == "127.0.0.1"
    assert all(s["containerID"].startswith("containerd://") for s in pod["status"]["containerStatuses"])

    # No shell in the app image: exec fails the way it does on distroless images.
    no_shell = kubectl(kube, "exec", "-n", ns, pod_name, "-c", "app", "--", "sh", "-c", "true")
    assert no_shell.returncode != 0
    assert "executable file not found" in no_shell.stderr

    # The blog's fix: an ephemeral busybox container in the app's process namespace.
    debugger = "debugger-smoke"
    created = kubectl(
        kube,
        "debug",
        "-n",
        ns,
        pod_name,
        "-it=false",
        f"--image={DEBUG_IMAGE}",
        "--image-pull-policy=Never",
        "--target=app",
        "--profile=general",
        "-c",
        debugger,
        "--",
        "sleep",
        "300",
    )
    assert created.returncode == 0, created.stderr

    def debugger_running() -> bool:
        statuses = kube.get(ns, "pod", pod_name)["status"].get("ephemeralContainerStatuses") or []
        return any(s["name"] == debugger and "running" in (s.get("state") or {}) for s in statuses)

    kube.wait_until(f"ephemeral container {debugger} running", debugger_running, 60)

    def in_debugger(*cmd: str) -> str:
        return kube.run("exec", "-n", ns, pod_name, "-c", debugger, "--", *cmd)

    ps = in_debugger("ps", "-o", "pid,args")
    match = re.search(r"^\s*(\d+)\s+/app/httpd -f -p 8080", ps, re.MULTILINE)
    assert match, f"the app's httpd is not visible from the debugger:\n{ps}"
    app_pid = match.group(1)

    assert SLIM_PAGE in in_debugger("wget", "-qO-", "http://localhost:8080/")

    config = in_debugger("cat", f"/proc/{app_pid}/root/etc/slim/config.yaml")
    assert f"greeting: {SLIM_PAGE}" in config
