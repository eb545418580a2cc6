"""RBAC pre-checks (SelfSubjectAccessReview) and the whoami view."""

from __future__ import annotations

import asyncio
from typing import Final

from k8s_debug_mcp.tools.errors import Forbidden
from k8s_debug_mcp.tools.gateway import KubeGateway
from k8s_debug_mcp.tools.models import AccessCheck, WhoamiRequest, WhoamiResult
from k8s_debug_mcp.tools.policy import Policy

__all__ = ["WORKFLOW", "require", "whoami"]

# (tool, verb, resource, subresource): what each step of the workflow needs.
WORKFLOW: Final = (
    ("list_pods", "list", "pods", ""),
    ("pod_status", "get", "pods", ""),
    ("pod_status", "list", "events", ""),
    ("pod_logs", "get", "pods", "log"),
    ("add_debug_container", "patch", "pods", "ephemeralcontainers"),
    ("exec", "create", "pods", "exec"),
    ("exec", "get", "pods", "exec"),
    ("copy_pod", "create", "pods", ""),
    ("cleanup", "delete", "pods", ""),
)


async def require(gateway: KubeGateway, namespace: str, *needs: tuple[str, str, str]) -> None:
    """Refuse before anything is attempted when RBAC lacks any (verb, resource, subresource)."""
    answers = await asyncio.gather(*(gateway.can_i(namespace, v, r, s) for v, r, s in needs))
    missing = [f"{v} {r}{'/' + s if s else ''}" for (v, r, s), (ok, _) in zip(needs, answers, strict=True) if not ok]
    if missing:
        raise Forbidden(
            f"This identity may not {', '.join(missing)} in namespace {namespace} "
            "(checked with a SelfSubjectAccessReview; nothing was attempted).",
            status=403,
            reason="Forbidden",
            hint="ask a cluster admin for a Role granting it, or use another context (whoami lists what is allowed).",
        )


async def whoami(req: WhoamiRequest, *, gateway: KubeGateway, policy: Policy) -> WhoamiResult:
    policy.check_namespace(req.namespace)
    user = await gateway.whoami()
    answers = await asyncio.gather(*(gateway.can_i(req.namespace, v, r, s) for _, v, r, s in WORKFLOW))
    checks = [
        AccessCheck(tool=tool, permission=f"{v} {r}{'/' + s if s else ''}", allowed=ok)
        for (tool, v, r, s), (ok, _) in zip(WORKFLOW, answers, strict=True)
    ]
    return WhoamiResult(
        server=gateway.host,
        namespace=req.namespace,
        user=str(user.get("username") or "?"),
        groups=[str(g) for g in user.get("groups") or []][:20],
        checks=checks,
        read_only=policy.read_only,
        preview_only=policy.preview_only,
        confirm=policy.confirm,
        profiles=list(policy.profiles),
        debug_images=list(policy.debug_images),
    )
