"""Fixtures for tests on the real node: a kubelet + containerd that `scripts/cluster up` runs
next to the KWOK nodes (see scripts/cluster.d/realnode/lib.sh), with images built locally by
scripts/images/build.py and imported into containerd (never pulled).

Pods land there only when they ask for it: nodeSelector type=real plus a toleration of the
taint k8s-debug-mcp/real=true:NoSchedule. The images are k8s-debug-mcp.local/*:1 and need
imagePullPolicy: Never.

Without the real node (not root, or K8S_DEBUG_MCP_REAL_NODE=0) these tests are skipped, except
in CI (CI=true), where a missing node fails them.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import KUBECTL, Kube, slim_deployment

REAL_NODE = "real-node-0"
DEBUG_IMAGE = "k8s-debug-mcp.local/busybox:1"
SLIM_APP_IMAGE = "k8s-debug-mcp.local/slim-app:1"
SLIM_PAGE = "hello from slim-app"
REAL_NODE_READY_WAIT_S = 60
POD_WAIT_S = 90


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _node_problem(kube: Kube) -> str | None:
    """Why the real node cannot take pods now, or None."""
    out = kube.run("get", "node", REAL_NODE, "-o", "json", check=False)
    if not out:
        return (
            f"node {REAL_NODE} does not exist: `scripts/cluster up` starts it only as root "
            "and unless K8S_DEBUG_MCP_REAL_NODE=0"
        )
    node = json.loads(out)
    ready = [c for c in node.get("status", {}).get("conditions", []) if c.get("type") == "Ready"]
    if not ready or ready[0].get("status") != "True":
        detail = f"{ready[0].get('reason')}: {ready[0].get('message')}" if ready else "no Ready condition"
        return f"node {REAL_NODE} is not Ready ({detail}); see scripts/cluster logs"
    return None


@pytest.fixture(scope="session")
def real_node(kube: Kube) -> str:
    """The real node's name, once it is Ready (a kubelet restarted by `up` may need a moment)."""
    problem = _node_problem(kube)
    deadline = time.monotonic() + REAL_NODE_READY_WAIT_S
    while problem is not None and "does not exist" not in problem and time.monotonic() < deadline:
        time.sleep(0.5)
        problem = _node_problem(kube)
    if problem is not None:
        if in_ci():
            pytest.fail(f"real node required in CI: {problem}", pytrace=False)
        pytest.skip(problem)
    return REAL_NODE


@dataclass(frozen=True)
class RealPod:
    namespace: str
    name: str


def running_and_ready(pod: dict[str, Any] | None) -> bool:
    if not pod or pod.get("status", {}).get("phase") != "Running":
        return False
    statuses = pod["status"].get("containerStatuses") or []
    return bool(statuses) and all(s.get("ready") for s in statuses)


def pod_of(kube: Kube, namespace: str, app: str) -> dict[str, Any] | None:
    items = kube.get(namespace, "pods", "-l", f"app={app}")["items"]
    return items[0] if items else None


@pytest.fixture
def real_slim(kube: Kube, namespace: str, real_node: str) -> RealPod:
    """`slim` Running and Ready on the real node, in a fresh namespace."""
    kube.apply(namespace, slim_deployment("slim", real=True))
    try:
        kube.wait_until(
            "slim Running and Ready on the real node",
            lambda: running_and_ready(pod_of(kube, namespace, "slim")),
            POD_WAIT_S,
        )
    except AssertionError:
        events = kube.run("get", "events", "-n", namespace, "--sort-by=.lastTimestamp", check=False)
        raise AssertionError(f"slim did not become Ready on {real_node}; events:\n{events}") from None
    pod = pod_of(kube, namespace, "slim")
    assert pod is not None
    return RealPod(namespace, pod["metadata"]["name"])


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def kubectl(kube: Kube, *args: str, timeout: float = 60) -> Result:
    """kubectl with exit code and stderr (Kube.run only gives stdout)."""
    proc = subprocess.run(
        [KUBECTL, "--kubeconfig", kube.kubeconfig, *args], capture_output=True, text=True, timeout=timeout
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)
