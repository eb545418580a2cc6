"""An in-memory Gateway for unit tests of the MCP layer (confirmation, plans, errors, the output boundary).

It implements the `tools.deps.Gateway` protocol over a dict of pods, so the registry, the
confirmation gate and the renderers run for real while no cluster is involved. It is a FAKE:
tests using it live in tests/unit/ and never claim to test Kubernetes behaviour; the cluster
tests (tests/mcp, tests/integration, tests/realnode) do that against the real API server.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from k8s_debug_mcp.tools.deps import Gateway, OutputSink
from k8s_debug_mcp.tools.errors import Forbidden, NotFound
from k8s_debug_mcp.tools.gateway import error_from_status
from k8s_debug_mcp.tools.identity import Identity
from k8s_debug_mcp.tools.kube import Json, JsonDict
from k8s_debug_mcp.tools.secrets import note_pod

__all__ = ["FakeGateway", "running_pod"]


def running_pod(name: str, namespace: str = "ns", **extra_spec: object) -> JsonDict:
    return {
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}", "resourceVersion": "1"},
        "spec": {"containers": [{"name": "app", "image": "app:1"}], **extra_spec},
        "status": {
            "phase": "Running",
            "containerStatuses": [{"name": "app", "ready": True, "restartCount": 0, "state": {"running": {}}}],
        },
    }


@dataclass
class FakeGateway:
    pods: dict[tuple[str, str], JsonDict] = field(default_factory=dict)
    secrets: dict[tuple[str, str], JsonDict] = field(default_factory=dict)
    logs: dict[tuple[str, str, str], bytes] = field(default_factory=dict)
    exec_output: tuple[bytes, bytes, int] = (b"", b"", 0)
    denied: set[str] = field(default_factory=set)
    """Permissions (`verb resource[/sub]`) this identity lacks."""
    writes: list[str] = field(default_factory=list)
    namespace: str = "ns"
    """The namespace of the (fake) kubeconfig context."""
    identity: Identity | None = None
    """The caller this view acts for (`impersonating`); the views share every dict and list above."""

    @property
    def host(self) -> str:
        return "https://fake.invalid"

    async def default_namespace(self) -> str:
        return self.namespace

    def impersonating(self, identity: Identity | None) -> FakeGateway:
        return dataclasses.replace(self, identity=identity)

    async def context_name(self) -> str | None:
        return "fake"

    def add(self, pod: JsonDict) -> JsonDict:
        meta = pod["metadata"]
        self.pods[(meta["namespace"], meta["name"])] = pod
        return pod

    def _pod(self, namespace: str, name: str) -> JsonDict:
        try:
            return self.pods[(namespace, name)]
        except KeyError:
            body = {
                "kind": "Status",
                "reason": "NotFound",
                "message": f'pods "{name}" not found',
                "details": {"name": name},
            }
            raise error_from_status(404, json.dumps(body).encode(), action=f"get pod {namespace}/{name}") from None

    async def list_pods(
        self,
        namespace: str | None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> Json:
        items = [p for (ns, _), p in self.pods.items() if namespace in (None, ns)]
        if label_selector and "=" in label_selector:
            key, value = label_selector.split("=", 1)
            items = [p for p in items if (p["metadata"].get("labels") or {}).get(key) == value]
        return {"metadata": {}, "items": copy.deepcopy(items)}

    async def get_pod(self, namespace: str, name: str) -> Json:
        pod = copy.deepcopy(self._pod(namespace, name))
        note_pod(pod)
        return pod

    async def get_namespace(self, name: str) -> Json:
        return {"metadata": {"name": name, "labels": {}}}

    async def get_node(self, name: str) -> Json:
        return {"metadata": {"name": name}, "status": {}}

    async def get_secret(self, namespace: str, name: str) -> Json:
        if "get secrets" in self.denied:
            raise Forbidden("secrets is forbidden", status=403, reason="Forbidden")
        try:
            return self.secrets[(namespace, name)]
        except KeyError:
            raise NotFound(f'secrets "{name}" not found', status=404, reason="NotFound") from None

    async def get_object(self, namespace: str, api_version: str, kind: str, name: str) -> Json | None:
        raise NotFound(f"{kind} {name} not found", status=404, reason="NotFound")

    async def list_objects(
        self, namespace: str, api_version: str, kind: str, *, label_selector: str | None = None, limit: int = 100
    ) -> Json | None:
        return {"items": []}

    async def list_events(self, namespace: str, *, field_selector: str | None = None, limit: int = 200) -> Json:
        return {"items": []}

    async def read_log(
        self,
        namespace: str,
        pod: str,
        *,
        container: str,
        previous: bool,
        tail_lines: int | None,
        since_seconds: int | None,
        timestamps: bool,
        max_bytes: int,
    ) -> tuple[bytes, bool]:
        data = self.logs.get((namespace, pod, container), b"")
        return data[-max_bytes:], len(data) > max_bytes

    async def can_i(
        self, namespace: str, verb: str, resource: str, subresource: str = "", group: str = ""
    ) -> tuple[bool, str]:
        name = f"{verb} {resource}" + (f"/{subresource}" if subresource else "")
        return name not in self.denied, ""

    async def whoami(self) -> Json:
        if self.identity is not None:
            return {"username": self.identity.username, "groups": list(self.identity.groups)}
        return {"username": "fake-user", "groups": ["fakes"]}

    async def patch_ephemeral_containers(self, namespace: str, pod: str, body: JsonDict, *, dry_run: bool) -> Json:
        current = self._pod(namespace, pod)
        if dry_run:
            return copy.deepcopy(current)
        self.writes.append(f"patch {namespace}/{pod}")
        for c in body["spec"]["ephemeralContainers"]:
            current["spec"].setdefault("ephemeralContainers", []).append(c)
            current["status"].setdefault("ephemeralContainerStatuses", []).append(
                {"name": c["name"], "state": {"running": {}}}
            )
        return copy.deepcopy(current)

    async def watch_pod(
        self, namespace: str, name: str, *, resource_version: str, timeout_s: int
    ) -> AsyncIterator[Json]:
        yield copy.deepcopy(self._pod(namespace, name))

    async def create_pod(self, namespace: str, body: JsonDict, *, dry_run: bool) -> Json:
        created = copy.deepcopy(body)
        created["metadata"]["uid"] = "uid-" + created["metadata"]["name"]
        created["status"] = {
            "phase": "Running",
            "containerStatuses": [{"name": c["name"], "state": {"running": {}}} for c in body["spec"]["containers"]],
        }
        if not dry_run:
            self.writes.append(f"create {namespace}/{body['metadata']['name']}")
            self.add(created)
        return created

    async def delete_pod(
        self, namespace: str, name: str, *, uid: str, dry_run: bool, grace_period_seconds: int | None = None
    ) -> Json:
        self._pod(namespace, name)
        if not dry_run:
            self.writes.append(f"delete {namespace}/{name}")
            del self.pods[(namespace, name)]
        return {}

    async def exec_stream(
        self,
        namespace: str,
        pod: str,
        *,
        container: str,
        argv: list[str],
        stdin: bytes | None,
        on_output: OutputSink,
    ) -> Json | None:
        self.writes.append(f"exec {namespace}/{pod}/{container} {argv}")
        out, err, code = self.exec_output
        if out and not on_output(1, out):
            return None
        if err and not on_output(2, err):
            return None
        if code == 0:
            return {"status": "Success"}
        return {"status": "Failure", "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


def as_gateway(fake: FakeGateway) -> Gateway:
    """The fake, typed as the protocol (mypy checks that it implements it)."""
    return fake
