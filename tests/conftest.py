"""Shared fixtures: the real test cluster (started once per session), a namespace per test,
and the seeded `slim` scenario.

The cluster is the one `scripts/cluster up` starts: a real kube-apiserver + etcd built from
Go modules, with KWOK simulating the nodes. Nothing here fakes the API server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLUSTER = ROOT / "scripts" / "cluster"
BIN_DIR = Path(
    subprocess.run(
        [str(ROOT / "scripts" / "build-cluster-bins"), "--print-dir"], check=True, capture_output=True, text=True
    ).stdout.strip()
)
KUBECTL = str(BIN_DIR / "kubectl") if (BIN_DIR / "kubectl").exists() else shutil.which("kubectl") or "kubectl"
WAIT_S = 60


@pytest.fixture(scope="session")
def audit_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audit")


def server_settings(kubeconfig: str, audit_log: Path | str, **policy: Any) -> Any:
    """Settings for an in-process server: confirmation off unless a test turns it on."""
    from k8s_debug_mcp.server import Settings
    from k8s_debug_mcp.tools.policy import Policy

    return Settings(kubeconfig=kubeconfig, audit_log=str(audit_log), policy=Policy(**{"confirm": False, **policy}))


@pytest.fixture
def make_settings(audit_dir: Path) -> Callable[..., Any]:
    def make(kubeconfig: str, **policy: Any) -> Any:
        return server_settings(kubeconfig, audit_dir / "audit.jsonl", **policy)

    return make


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"  # kubernetes_asyncio is asyncio-only


@dataclass(frozen=True)
class Kube:
    """kubectl against the test cluster, for seeding and checking (never for the code under test)."""

    kubeconfig: str

    def run(self, *args: str, stdin: str | None = None, check: bool = True, timeout: float = WAIT_S) -> str:
        proc = subprocess.run(
            [KUBECTL, "--kubeconfig", self.kubeconfig, *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc.stdout

    def apply(self, namespace: str, manifest: dict[str, Any] | list[dict[str, Any]]) -> None:
        items = manifest if isinstance(manifest, list) else [manifest]
        self.run(
            "apply", "-n", namespace, "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": items})
        )

    def get(self, namespace: str, *what: str) -> Any:
        return json.loads(self.run("get", "-n", namespace, *what, "-o", "json"))

    def grant(self, namespace: str, name: str, rules: list[dict[str, Any]], subject: dict[str, str]) -> None:
        """A Role `name` with these rules, bound to the subject."""
        rbac = "rbac.authorization.k8s.io"
        self.apply(
            namespace,
            [
                {"apiVersion": f"{rbac}/v1", "kind": "Role", "metadata": {"name": name}, "rules": rules},
                {
                    "apiVersion": f"{rbac}/v1",
                    "kind": "RoleBinding",
                    "metadata": {"name": name},
                    "roleRef": {"apiGroup": rbac, "kind": "Role", "name": name},
                    "subjects": [subject],
                },
            ],
        )

    def wait_until(self, what: str, predicate: Callable[[], bool], timeout: float = WAIT_S) -> None:
        """Poll a cheap condition with a deadline (the API offers no watch for 'this predicate')."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            time.sleep(0.25)


@pytest.fixture(scope="session")
def kubeconfig() -> str:
    """Start (or reuse) the real test cluster; its kubeconfig path."""
    proc = subprocess.run([str(CLUSTER), "up"], capture_output=True, text=True, timeout=45 * 60)
    if proc.returncode != 0:
        pytest.fail(f"scripts/cluster up failed ({proc.returncode}):\n{proc.stderr[-4000:]}", pytrace=False)
    path = proc.stdout.strip().splitlines()[-1]
    assert os.path.isfile(path), path
    return path


@pytest.fixture(scope="session")
def kube(kubeconfig: str) -> Kube:
    return Kube(kubeconfig)


@pytest.fixture
def namespace(kube: Kube, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace per test, deleted afterwards (without waiting)."""
    base = request.node.name.lower().replace("_", "-")
    name = f"t-{''.join(ch for ch in base if ch.isalnum() or ch == '-')[:40].strip('-')}-{uuid.uuid4().hex[:5]}"
    kube.run("create", "namespace", name)
    kube.wait_until(
        f"default ServiceAccount in {name}",
        lambda: kube.run("get", "serviceaccount", "default", "-n", name, check=False) != "",
    )
    yield name
    kube.run("delete", "namespace", name, "--wait=false", check=False)


def slim_deployment(name: str, *, crashloop: bool = False, real: bool = False) -> dict[str, Any]:
    """The blog's `slim`: two containers whose images have no shell (app + sidecar).

    On a KWOK node by default; `real=True` puts it on the real node (kubelet + containerd),
    whose images are imported locally and never pulled. busybox httpd as PID 1 ignores
    SIGTERM there, so a short grace period keeps namespace deletion quick.
    """
    annotations = (
        {"k8s-debug-mcp.test/simulate": "crashloop", "k8s-debug-mcp.test/crashloop-containers": "app"}
        if crashloop
        else {}
    )
    pull: dict[str, Any] = {"imagePullPolicy": "Never"} if real else {}
    spec: dict[str, Any] = {
        "nodeSelector": {"type": "real" if real else "kwok"},
        "tolerations": [
            {"key": "k8s-debug-mcp/real", "operator": "Exists", "effect": "NoSchedule"}
            if real
            else {"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}
        ],
        "containers": [
            {"name": "app", "image": "k8s-debug-mcp.local/slim-app:1", "ports": [{"containerPort": 8080}], **pull},
            {"name": "sidecar", "image": "k8s-debug-mcp.local/slim-sidecar:1", **pull},
        ],
    }
    if real:
        spec["terminationGracePeriodSeconds"] = 2
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}, "annotations": annotations}, "spec": spec},
        },
    }


def restricted_pod(name: str, *, real: bool = False) -> dict[str, Any]:
    """A pod that Pod Security "restricted" admits: non-root, no capabilities, RuntimeDefault seccomp."""
    sc = {
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "runAsGroup": 1000,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    template = slim_deployment(name, real=real)["spec"]["template"]["spec"]
    app = {**template["containers"][0], "securityContext": sc}
    app.pop("ports", None)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {**template, "containers": [app]},
    }


@dataclass(frozen=True)
class Seeded:
    namespace: str
    slim_pod: str
    crash_pod: str


def _pod_of(kube: Kube, namespace: str, app: str) -> dict[str, Any] | None:
    items = kube.get(namespace, "pods", "-l", f"app={app}")["items"]
    return items[0] if items else None


@pytest.fixture
def seeded(kube: Kube, namespace: str) -> Seeded:
    """`slim` running, and `slim-crash` crash-looping, in a fresh namespace."""
    kube.apply(namespace, [slim_deployment("slim"), slim_deployment("slim-crash", crashloop=True)])

    def running(app: str) -> bool:
        pod = _pod_of(kube, namespace, app)
        return bool(pod and pod.get("status", {}).get("phase") == "Running")

    def crashing() -> bool:
        pod = _pod_of(kube, namespace, "slim-crash")
        statuses = (pod or {}).get("status", {}).get("containerStatuses") or []
        return any((s.get("state", {}).get("waiting") or {}).get("reason") == "CrashLoopBackOff" for s in statuses)

    kube.wait_until("slim running", lambda: running("slim"))
    kube.wait_until("slim-crash in CrashLoopBackOff", crashing)
    slim, crash = _pod_of(kube, namespace, "slim"), _pod_of(kube, namespace, "slim-crash")
    assert slim is not None
    assert crash is not None
    return Seeded(namespace, slim["metadata"]["name"], crash["metadata"]["name"])
