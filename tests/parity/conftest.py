"""The parity suite's machinery: the real kubectl v1.36 and our tools on identical pods of the test
cluster, and what the API server stores, normalised the same way for both.

Normalising removes only what the table in docs/parity.md names: our markers (labels, annotations and
env entries of k8s-debug-mcp; kubectl's own `managed-by: kubectl-debug` on node pods), the
service-account volume's random suffix, the scheduler's nodeName of a copy not pinned to its node,
and env order (kubectl builds copy and node pods' env from a Go map: a random order per run).
"""

from __future__ import annotations

import copy
import json
import os
import re
import shlex
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from k8s_debug_mcp.server import Settings, build_server
from tests.conftest import KUBECTL, Kube
from tests.mcp.util import data, text

EVERY_PROFILE = ["legacy", "general", "baseline", "restricted", "netadmin", "sysadmin"]
IMAGE = "busybox:1.37"
KWOK_NODE = "kwok-node-0"
MANAGED_BY = "app.kubernetes.io/managed-by"
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
Obj = dict[str, Any]


def source_pod(name: str) -> Obj:
    """A pod with everything a copy may keep or drop: labels, annotations, an init container, probes of every
    kind, a container securityContext, env, and no shareProcessNamespace (on a KWOK node)."""
    probe = {"httpGet": {"path": "/", "port": 8080}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "web", "tier": "front"}, "annotations": {"team": "web"}},
        "spec": {
            "nodeSelector": {"type": "kwok"},
            "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}],
            "initContainers": [{"name": "init", "image": "slim-app:1", "command": ["true"]}],
            "containers": [
                {
                    "name": "app",
                    "image": "slim-app:1",
                    "args": ["--port=8080"],
                    "env": [{"name": "MODE", "value": "prod"}],
                    "securityContext": {"runAsUser": 1000, "allowPrivilegeEscalation": False},
                    "livenessProbe": probe,
                    "readinessProbe": probe,
                    "startupProbe": probe,
                },
                {"name": "sidecar", "image": "slim-sidecar:1"},
            ],
        },
    }


@dataclass(frozen=True)
class Kubectl:
    """The real kubectl against the test cluster."""

    kubeconfig: str

    def env(self) -> dict[str, str]:
        return {**os.environ, "KUBECONFIG": self.kubeconfig, "PATH": f"{Path(KUBECTL).parent}:{os.environ['PATH']}"}

    def run(self, argv: list[str]) -> str:
        proc = subprocess.run([KUBECTL, *argv], capture_output=True, text=True, timeout=60, env=self.env())
        assert proc.returncode == 0, f"kubectl {shlex.join(argv)} failed: {proc.stderr.strip()}"
        return proc.stdout

    def fails(self, argv: list[str]) -> str:
        """Run a command that must fail; its stderr."""
        proc = subprocess.run([KUBECTL, *argv], capture_output=True, text=True, timeout=60, env=self.env())
        assert proc.returncode != 0, f"kubectl {shlex.join(argv)} succeeded"
        return proc.stderr

    def shell(self, line: str) -> str:
        """A printed command as a user would paste it (bash: our --custom uses process substitution)."""
        proc = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=60, env=self.env())
        assert proc.returncode == 0, f"{line} failed: {proc.stderr.strip()}"
        return proc.stdout


@dataclass(frozen=True)
class Parity:
    kube: Kube
    kubectl: Kubectl
    client: Client
    namespace: str
    tmp: Path

    def create_source(self, name: str) -> Obj:
        self.kube.run("create", "-n", self.namespace, "-f", "-", stdin=json.dumps(source_pod(name)))
        self.kube.wait_until(f"{name} running", lambda: self.get(name).get("status", {}).get("phase") == "Running")
        return self.get(name)

    def get(self, name: str) -> Obj:
        out = self.kube.run("get", "pod", "-n", self.namespace, name, "-o", "json", check=False)
        return json.loads(out) if out else {}

    def exists(self, name: str) -> bool:
        pod = self.get(name)
        return bool(pod) and not pod["metadata"].get("deletionTimestamp")

    async def call(self, tool: str, **args: Any) -> Obj:
        res = await self.client.call_tool(tool, args)
        assert not res.is_error, text(res)
        return data(res)

    def custom_file(self, custom: Obj) -> str:
        path = self.tmp / f"custom-{abs(hash(json.dumps(custom, sort_keys=True)))}.json"
        path.write_text(json.dumps(custom))
        return str(path)


@pytest.fixture
async def parity(
    kube: Kube, kubeconfig: str, namespace: str, make_settings: Callable[..., Settings], tmp_path: Path
) -> AsyncIterator[Parity]:
    settings = make_settings(
        kubeconfig,
        profiles=EVERY_PROFILE,
        node_debugging=True,
        allowed_nodes=["kwok-node-*"],
        allow_replace=True,
    )
    async with Client(build_server(settings.model_copy(update={"debug_image": IMAGE}))) as client:
        yield Parity(kube, Kubectl(kubeconfig), client, namespace, tmp_path)


# -- what the API server stores, normalised ------------------------------------------------------------

_SA_VOLUME = re.compile(r"^kube-api-access-[a-z0-9]{5}$")


def _container(c: Obj) -> Obj:
    out = copy.deepcopy(c)
    env = sorted(
        (e for e in out.get("env") or [] if not e["name"].startswith("K8S_DEBUG_MCP_")), key=lambda e: e["name"]
    )
    if env:
        out["env"] = env
    else:
        out.pop("env", None)
    for m in out.get("volumeMounts") or []:
        if _SA_VOLUME.match(m["name"]):
            m["name"] = "kube-api-access"
    return out


def normalized_pod(pod: Obj, *, keep_node: bool) -> Obj:
    meta = pod["metadata"]
    spec = copy.deepcopy(pod["spec"])
    if not keep_node:
        spec.pop("nodeName", None)
    for v in spec.get("volumes") or []:
        if _SA_VOLUME.match(v["name"]):
            v["name"] = "kube-api-access"
    for key in CONTAINER_LISTS:
        if key in spec:
            spec[key] = [_container(c) for c in spec[key]]
    return {
        "labels": {k: v for k, v in (meta.get("labels") or {}).items() if k != MANAGED_BY},
        "annotations": {k: v for k, v in (meta.get("annotations") or {}).items() if not k.startswith("k8s-debug-mcp/")},
        "spec": spec,
    }


def ephemeral(pod: Obj, name: str) -> Obj:
    found = [c for c in pod["spec"].get("ephemeralContainers") or [] if c["name"] == name]
    assert found, f"no ephemeral container {name} in {pod['metadata']['name']}"
    return _container(found[0])


def differences(ours: Obj, theirs: Obj) -> set[str]:
    """Where two normalised pods differ: `labels`, `annotations`, `spec.<field>`, `<list>/<name>[/<field>]`."""
    out = {key for key in ("labels", "annotations") if ours.get(key) != theirs.get(key)}
    a, b = ours.get("spec", {}), theirs.get("spec", {})
    for key in sorted({*a, *b}):
        if key in CONTAINER_LISTS:
            left = {c["name"]: c for c in a.get(key) or []}
            right = {c["name"]: c for c in b.get(key) or []}
            for name in sorted({*left, *right}):
                if name not in left or name not in right:
                    out.add(f"{key}/{name}")
                    continue
                for field in sorted({*left[name], *right[name]}):
                    if left[name].get(field) != right[name].get(field):
                        out.add(f"{key}/{name}/{field}")
        elif a.get(key) != b.get(key):
            out.add(f"spec.{key}")
    return out


def container_differences(ours: Obj, theirs: Obj) -> set[str]:
    return {f for f in sorted({*ours, *theirs}) if ours.get(f) != theirs.get(f)}


def swap_tokens(line: str, swaps: dict[str, str]) -> str:
    """A printed command aimed at another pod: exact shell words replaced, nothing else touched."""
    words = line.split(" ")
    return " ".join(swaps.get(w, w) for w in words)
