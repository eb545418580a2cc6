"""Previews of mutations: what the user is asked to approve, and the exact change it binds to.

Each preview runs the same policy checks and pure builders as the real call, performs
no change, and is deterministic for the same request and cluster state (a confirmation
question must read the same on every round, and a plan id binds to the body).
"""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from k8s_debug_mcp.tools import copies, debug
from k8s_debug_mcp.tools import exec as exec_tool
from k8s_debug_mcp.tools.gateway import KubeGateway
from k8s_debug_mcp.tools.models import AddDebugContainerRequest, CleanupRequest, CopyPodRequest, ExecRequest
from k8s_debug_mcp.tools.patches import plan_debug_container, plan_pod_copy, timeless
from k8s_debug_mcp.tools.policy import Policy

__all__ = [
    "Preview",
    "digest",
    "preview_add_debug_container",
    "preview_cleanup",
    "preview_copy_pod",
    "preview_exec",
    "request_seed",
]


@dataclass(frozen=True, slots=True)
class Preview:
    summary: str
    body: Any

    @property
    def digest(self) -> str:
        return digest(self.body)


def request_seed(req: BaseModel) -> str:
    """Seed for generated names: a preview, its dry run and its confirmed apply pick the same ones."""
    return digest(req.model_dump(mode="json", exclude={"plan_id", "dry_run"}))


def digest(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _sc(container: dict[str, Any]) -> str:
    sc = container.get("securityContext")
    return json.dumps(sc, separators=(",", ":"), sort_keys=True) if sc else "none"


async def preview_add_debug_container(
    req: AddDebugContainerRequest,
    *,
    gateway: KubeGateway,
    policy: Policy,
    default_image: str,
    suffix: Callable[[], str],
) -> Preview | None:
    """None when nothing would change (a running identical debugger would be reused)."""
    image = req.image or default_image
    pod = await debug.checked_pod(req, gateway=gateway, policy=policy, image=image)
    now = datetime.now(UTC)
    plan = plan_debug_container(pod, req, image=image, now=now, suffix=suffix)
    policy.check_profile(req.profile, plan.container)
    if req.reuse and debug.reusable(pod, plan.key, now) is not None:
        return None
    c = plan.container
    command = shlex.join([*c.get("command", []), *c.get("args", [])]) or "(image default)"
    lines = [
        f"Add ephemeral container {plan.name} to pod {req.namespace}/{req.pod}.",
        f"image: {image}; profile: {req.profile}; securityContext: {_sc(c)}",
        f"target: {req.target or '(none)'}; command: {command}",
        "Ephemeral containers can never be removed from a pod; this one stops when its command exits.",
    ]
    lines += [f"warning: {w}" for w in plan.warnings]
    return Preview("\n".join(lines), timeless(plan.patch))


async def preview_copy_pod(
    req: CopyPodRequest, *, gateway: KubeGateway, policy: Policy, default_image: str, suffix: Callable[[], str]
) -> Preview:
    image = req.image or default_image
    source = await copies.checked_source(req, gateway=gateway, policy=policy, image=image)
    req = await copies.named(req, gateway=gateway, suffix=suffix)
    plan = plan_pod_copy(source, req, image=image, now=datetime.now(UTC), suffix=suffix)
    copies.check_debugger_profile(req, plan, policy=policy)
    lines = [f"Create pod {req.namespace}/{plan.name}, a debugging copy of {req.pod} (the source is not touched)."]
    lines += [f"- {c}" for c in plan.changes]
    lines += [f"warning: {w}" for w in plan.warnings]
    return Preview("\n".join(lines), timeless(plan.manifest))


async def preview_exec(req: ExecRequest, *, gateway: KubeGateway, policy: Policy) -> Preview:
    container = await exec_tool.checked_container(req, gateway=gateway, policy=policy)
    stdin = f" with {len(req.stdin.encode())} bytes on stdin" if req.stdin is not None else ""
    summary = f"Run {shlex.join(req.command)} in container {container} of pod {req.namespace}/{req.pod}{stdin}."
    body = {"container": container, "command": list(req.command), "stdin": digest(req.stdin) if req.stdin else None}
    return Preview(summary, body)


async def preview_cleanup(req: CleanupRequest, *, gateway: KubeGateway, policy: Policy) -> Preview | None:
    """None when nothing would be deleted."""
    res = await copies.cleanup(req.model_copy(update={"dry_run": True}), gateway=gateway, policy=policy)
    if not res.deleted:
        return None
    summary = f"Delete {len(res.deleted)} debug cop{'y' if len(res.deleted) == 1 else 'ies'} in {req.namespace}: "
    return Preview(summary + ", ".join(res.deleted) + ".", {"namespace": req.namespace, "pods": sorted(res.deleted)})
