"""RBAC as data: what each tool needs, the pre-check before a write, and the whoami view."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from k8s_debug_mcp.tools.deps import Deps, Gateway
from k8s_debug_mcp.tools.errors import Forbidden
from k8s_debug_mcp.tools.models import AccessCheck, WhoamiRequest, WhoamiResult

__all__ = ["Need", "require", "whoami"]


@dataclass(frozen=True, slots=True)
class Need:
    """One RBAC permission: verb on (group) resource/subresource."""

    verb: str
    resource: str
    subresource: str = ""
    group: str = ""

    def __str__(self) -> str:
        res = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        return f"{self.verb} {res}" if not self.group else f"{self.verb} {res}.{self.group}"


async def require(gateway: Gateway, namespace: str, needs: Sequence[Need]) -> None:
    """Refuse before anything is attempted when RBAC lacks any need (SelfSubjectAccessReview)."""
    if not needs:
        return
    answers = await asyncio.gather(
        *(gateway.can_i(namespace, n.verb, n.resource, n.subresource, n.group) for n in needs)
    )
    missing = [str(n) for n, (ok, _) in zip(needs, answers, strict=True) if not ok]
    if missing:
        where = f"namespace {namespace}" if namespace else "the cluster"
        raise Forbidden(
            f"This identity may not {', '.join(missing)} in {where} "
            "(checked with a SelfSubjectAccessReview; nothing was attempted).",
            status=403,
            reason="Forbidden",
            hint="ask a cluster admin for a Role granting it, or use another context (whoami lists what is allowed).",
        )


async def whoami(req: WhoamiRequest, deps: Deps) -> WhoamiResult:
    gateway, policy = deps.gateway, deps.policy
    user = await gateway.whoami()
    tools_by_need: dict[Need, list[str]] = {}
    for tool, need in deps.workflow:
        tools_by_need.setdefault(need, []).append(tool)
    needs = list(tools_by_need)
    answers = await asyncio.gather(
        *(gateway.can_i(req.namespace, n.verb, n.resource, n.subresource, n.group) for n in needs)
    )
    checks = [
        AccessCheck(tool=", ".join(tools_by_need[n]), permission=str(n), allowed=ok)
        for n, (ok, _) in zip(needs, answers, strict=True)
    ]
    masking = "off (policy mask_secret_values=false)"
    if deps.secrets is not None:
        masking = await deps.secrets.status(req.namespace)
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
        secret_masking=masking,
    )
