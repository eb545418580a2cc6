"""What this server created, proved with a key only it holds.

Labels and env vars can be written by anyone who can create pods or patch ephemeral
containers, so they only say what a thing claims to be. Proof is an HMAC-SHA256 with the
server's owner key:

- an ephemeral debugger carries `K8S_DEBUG_MCP_OWNER = HMAC(key, "container/<pod uid>/<name>")`:
  names are unique within a pod and uids across pods, so the mark cannot be moved;
- a pod this server creates (a copy, a node debugger) carries the annotation
  `k8s-debug-mcp/owner = HMAC(key, "pod/<namespace>/<name>/<created-at stamp>")` (its uid is not
  known before it exists): a mark copied onto another pod names the wrong pod.

Every decision that trusts "ours" (exec's default container and target rule, cleanup,
the `ours` column) goes through `Ownership`.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Final

from k8s_debug_mcp.tools.kube import ANN_CREATED, ANN_OWNER, ENV_OWNER, MANAGED_BY, MANAGED_BY_LABEL, Container, Pod

__all__ = ["MIN_KEY_BYTES", "Ownership"]

MIN_KEY_BYTES: Final = 32


@dataclass(frozen=True, slots=True)
class Ownership:
    key: bytes

    def __post_init__(self) -> None:
        if len(self.key) < MIN_KEY_BYTES:
            raise ValueError(f"the owner key must have at least {MIN_KEY_BYTES} bytes")

    def __repr__(self) -> str:  # never print the key
        return "Ownership(key=<hidden>)"

    def _mac(self, message: str) -> str:
        return hmac.new(self.key, message.encode(), hashlib.sha256).hexdigest()[:40]

    # -- marks ---------------------------------------------------------------------------

    def container_mark(self, pod_uid: str, name: str) -> str:
        return self._mac(f"container/{pod_uid}/{name}")

    def pod_mark(self, namespace: str, name: str, created_at: str) -> str:
        return self._mac(f"pod/{namespace}/{name}/{created_at}")

    # -- proofs --------------------------------------------------------------------------

    def owns_pod(self, pod: Pod) -> bool:
        """A pod this server created (copy or node debugger): label, and a mark for this very pod."""
        if pod.labels.get(MANAGED_BY_LABEL) != MANAGED_BY:
            return False
        mark, created = pod.annotations.get(ANN_OWNER), pod.annotations.get(ANN_CREATED)
        if not isinstance(mark, str) or not isinstance(created, str):
            return False
        return hmac.compare_digest(mark, self.pod_mark(pod.namespace, pod.name, created))

    def owns_container(self, pod: Pod, container: Container) -> bool:
        """A debugger this server added to this pod, or any container of a pod this server created."""
        if self.owns_pod(pod):
            return True
        if container.kind != "ephemeral" or not pod.uid:
            return False
        mark = container.env(ENV_OWNER)
        return mark is not None and hmac.compare_digest(mark, self.container_mark(pod.uid, container.name))

    def debuggers(self, pod: Pod) -> list[Container]:
        """Our ephemeral debuggers in the pod, oldest first."""
        return [c for c in pod.containers("ephemeral") if self.owns_container(pod, c)]
