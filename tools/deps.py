"""What a tool function receives besides its request: `Deps`, one typed value.

Every tool is `async def tool(req: XRequest, deps: Deps) -> XResult`. The registry builds
one `Deps` per call (the per-call parts: the name seed, progress reporting), so the
catalog is type-checked against each tool function and tests can pass a fake `Gateway`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from k8s_debug_mcp.tools.debug_plan import random_suffix, seeded_suffix
from k8s_debug_mcp.tools.identity import Identity
from k8s_debug_mcp.tools.kube import Json, JsonDict, utc_now
from k8s_debug_mcp.tools.ownership import Ownership
from k8s_debug_mcp.tools.policy import Policy

if TYPE_CHECKING:
    from k8s_debug_mcp.tools.access import Need
    from k8s_debug_mcp.tools.secrets import SecretValues

__all__ = ["Deps", "Gateway", "OutputSink", "Progress"]

OutputSink = Callable[[int, bytes], bool]
"""exec output: (channel 1 stdout / 2 stderr, bytes) -> keep reading?"""
Progress = Callable[[str], Awaitable[None]]
"""Report a phase of long work ("waiting for Running"); a no-op when the client did not ask."""


class Gateway(Protocol):
    """Every Kubernetes API call a tool makes (implemented by tools.gateway.KubeGateway)."""

    @property
    def host(self) -> str: ...

    def impersonating(self, identity: Identity | None) -> Gateway:
        """The same gateway acting for a caller (impersonation headers on every request); None: the server."""
        ...

    async def default_namespace(self) -> str: ...

    async def context_name(self) -> str | None: ...

    async def list_pods(
        self,
        namespace: str | None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> Json: ...

    async def get_pod(self, namespace: str, name: str) -> Json: ...

    async def get_namespace(self, name: str) -> Json: ...

    async def get_node(self, name: str) -> Json: ...

    async def get_secret(self, namespace: str, name: str) -> Json: ...

    async def get_object(self, namespace: str, api_version: str, kind: str, name: str) -> Json | None: ...

    async def list_objects(
        self, namespace: str, api_version: str, kind: str, *, label_selector: str | None = None, limit: int = 100
    ) -> Json | None: ...

    async def list_events(self, namespace: str, *, field_selector: str | None = None, limit: int = 200) -> Json: ...

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
    ) -> tuple[bytes, bool]: ...

    async def can_i(
        self, namespace: str, verb: str, resource: str, subresource: str = "", group: str = ""
    ) -> tuple[bool, str]: ...

    async def whoami(self) -> Json: ...

    async def patch_ephemeral_containers(self, namespace: str, pod: str, body: JsonDict, *, dry_run: bool) -> Json: ...

    def watch_pod(self, namespace: str, name: str, *, resource_version: str, timeout_s: int) -> AsyncIterator[Json]: ...

    async def create_pod(self, namespace: str, body: JsonDict, *, dry_run: bool) -> Json: ...

    async def delete_pod(
        self, namespace: str, name: str, *, uid: str, dry_run: bool, grace_period_seconds: int | None = None
    ) -> Json: ...

    async def exec_stream(
        self,
        namespace: str,
        pod: str,
        *,
        container: str,
        argv: list[str],
        stdin: bytes | None,
        on_output: OutputSink,
    ) -> Json | None: ...


async def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Deps:
    gateway: Gateway
    policy: Policy
    owner: Ownership
    debug_image: str = "busybox:1.37"
    debug_pull_policy: str | None = None
    """imagePullPolicy of debuggers when the request names none (None: the API server's default)."""
    secrets: SecretValues | None = None
    """Exact values of the Secrets a pod references, for masking (None: protection off)."""
    name_seed: str | None = None
    """Seed of generated names, set per request: a preview, its dry run and its apply pick the same names."""
    clock: Callable[[], datetime] = utc_now
    progress: Progress = _quiet
    workflow: tuple[tuple[str, Need], ...] = field(default=())
    """(tool, RBAC need) for every registered tool: what whoami checks."""

    def suffixes(self) -> Callable[[], str]:
        """A fresh draw of name suffixes (kubectl's alphabet): seeded by the request, else random."""
        return seeded_suffix(self.name_seed) if self.name_seed else random_suffix
