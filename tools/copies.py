"""copy_pod and cleanup: debugging copies of a pod (kubectl debug --copy-to), and their removal."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from k8s_debug_mcp.tools.access import require
from k8s_debug_mcp.tools.debug import FAIL_FAST_REASONS
from k8s_debug_mcp.tools.errors import DebugError, KubeApiError, NotFound, StartFailed, WaitTimeout
from k8s_debug_mcp.tools.gateway import KubeGateway
from k8s_debug_mcp.tools.models import CleanupRequest, CleanupResult, CopyPodRequest, CopyPodResult
from k8s_debug_mcp.tools.patches import (
    ANN_EXPIRES,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    CopyPlan,
    plan_pod_copy,
    random_suffix,
)
from k8s_debug_mcp.tools.podview import container_entries, parse_time
from k8s_debug_mcp.tools.policy import Policy
from k8s_debug_mcp.tools.redact import mask_pod_env
from k8s_debug_mcp.tools.text import one_line
from k8s_debug_mcp.tools.waiting import wait_for_pod

__all__ = ["cleanup", "copy_expiry", "copy_pod", "is_ours"]

Json = Mapping[str, Any]


def is_ours(pod: Json) -> bool:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return bool(labels.get(MANAGED_BY_LABEL) == MANAGED_BY)


def copy_expiry(pod: Json) -> datetime | None:
    """When one of our copies expires; None for pods that are not our copies."""
    if not is_ours(pod):
        return None
    return parse_time(((pod.get("metadata") or {}).get("annotations") or {}).get(ANN_EXPIRES))


def _running_or_failing(pod: Json) -> str | None:
    """'Running' once every container runs; raises on what will not fix itself."""
    status = pod.get("status") or {}
    name = (pod.get("metadata") or {}).get("name")
    for cond in status.get("conditions") or []:
        if (
            cond.get("type") == "PodScheduled"
            and cond.get("status") == "False"
            and cond.get("reason") == "Unschedulable"
        ):
            raise StartFailed(
                f"Copy {name} cannot be scheduled: {one_line(str(cond.get('message') or 'Unschedulable'), 300)}",
                hint="the copy stays Pending; delete it with cleanup, then retry (without same_node, or with "
                "fewer resources).",
            )
    for _kind, spec, cs in container_entries(pod):
        waiting = (cs.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in FAIL_FAST_REASONS:
            raise StartFailed(
                f"Container {spec.get('name')} of copy {name} cannot start: {waiting['reason']}"
                + (f": {one_line(str(waiting['message']), 300)}" if waiting.get("message") else ""),
                hint="fix the image (set_image) and make a new copy; delete this one with cleanup.",
            )
    if status.get("phase") == "Failed":
        raise StartFailed(f"Copy {name} failed: {status.get('reason') or 'see pod_status'}.")
    if status.get("phase") == "Running" and all(
        "running" in (cs.get("state") or {}) for kind, _, cs in container_entries(pod) if kind == "regular"
    ):
        return "Running"
    return None


async def checked_source(req: CopyPodRequest, *, gateway: KubeGateway, policy: Policy, image: str) -> Json:
    """The policy checks that need no pod, then the source pod."""
    policy.check_namespace(req.namespace)
    policy.check_write(dry_run=req.dry_run)
    policy.check_copies()
    policy.check_ttl(req.ttl_seconds)
    for swapped in [image, *(req.set_image or {}).values()]:
        policy.check_image(swapped)
    await require(gateway, req.namespace, ("create", "pods", ""))
    return await gateway.get_pod(req.namespace, req.pod)


async def named(req: CopyPodRequest, *, gateway: KubeGateway, suffix: Callable[[], str]) -> CopyPodRequest:
    """The request with a copy name that is free in the namespace (drawn like debugger names)."""
    if req.name is not None:
        return req
    for _ in range(10):
        candidate = f"{req.pod[:200].rstrip('-.')}-debug-{suffix()}"
        try:
            await gateway.get_pod(req.namespace, candidate)
        except NotFound:
            return req.model_copy(update={"name": candidate})
    raise DebugError(f"Could not find a free name for a copy of {req.pod}.", hint="pass name.")


def check_debugger_profile(req: CopyPodRequest, plan: CopyPlan, *, policy: Policy) -> None:
    if plan.debugger is not None:
        debugger = next(c for c in plan.manifest["spec"]["containers"] if c["name"] == plan.debugger)
        policy.check_profile(req.profile, debugger)


async def copy_pod(
    req: CopyPodRequest,
    *,
    gateway: KubeGateway,
    policy: Policy,
    default_image: str,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    suffix: Callable[[], str] = random_suffix,
) -> CopyPodResult:
    image = req.image or default_image
    source = await checked_source(req, gateway=gateway, policy=policy, image=image)
    req = await named(req, gateway=gateway, suffix=suffix)
    plan = plan_pod_copy(source, req, image=image, now=now(), suffix=suffix)
    check_debugger_profile(req, plan, policy=policy)
    shown, masked = mask_pod_env(plan.manifest)
    warnings = list(plan.warnings)
    if masked:
        warnings.append(f"{masked} secret-looking env value(s) are shown as [masked] (the copy gets the real ones)")
    base: dict[str, Any] = {
        "namespace": req.namespace,
        "source": req.pod,
        "name": plan.name,
        "debugger": plan.debugger,
        "dry_run": req.dry_run,
        "expires_at": plan.expires_at.isoformat().replace("+00:00", "Z"),
        "changes": plan.changes,
        "warnings": warnings,
        "manifest": shown,
        "kubectl": plan.kubectl,
    }
    if req.dry_run:
        try:
            await gateway.create_pod(req.namespace, plan.manifest, dry_run=True)
            verdict = "accepted: validation and admission passed; nothing was created"
        except KubeApiError as exc:
            verdict = f"rejected (HTTP {exc.status}): {exc.message}"
        return CopyPodResult(phase="dry-run", server_dry_run=verdict, **base)

    created = await gateway.create_pod(req.namespace, plan.manifest, dry_run=False)
    try:
        phase = await wait_for_pod(
            gateway, req.namespace, plan.name, created, timeout_s=req.timeout_seconds, decide=_running_or_failing
        )
    except TimeoutError:
        raise WaitTimeout(
            f"Copy {plan.name} was created but is not running after {req.timeout_seconds}s.",
            hint=f"check pod_status {plan.name}; delete it with cleanup if it is stuck.",
        ) from None
    current = await gateway.get_pod(req.namespace, plan.name)
    node = (current.get("spec") or {}).get("nodeName")
    return CopyPodResult(phase=phase, node=str(node) if node else None, **base)


async def cleanup(
    req: CleanupRequest,
    *,
    gateway: KubeGateway,
    policy: Policy,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> CleanupResult:
    policy.check_namespace(req.namespace)
    policy.check_write(dry_run=req.dry_run)
    policy.check_cleanup()
    await require(gateway, req.namespace, ("delete", "pods", ""))
    at = now()
    candidates: list[Json] = []
    refused: list[str] = []
    if req.pods is None:
        listing = await gateway.list_pods(req.namespace, label_selector=f"{MANAGED_BY_LABEL}={MANAGED_BY}")
        candidates = [p for p in listing.get("items") or [] if isinstance(p, Mapping)]
    else:
        for name in dict.fromkeys(req.pods):
            try:
                candidates.append(await gateway.get_pod(req.namespace, name))
            except NotFound:
                refused.append(f"{name}: not found")
    deleted: list[str] = []
    kept: list[str] = []
    for pod in candidates:
        meta = pod.get("metadata") or {}
        name = str(meta.get("name"))
        if not is_ours(pod):
            refused.append(f"{name}: not created by k8s-debug-mcp (no {MANAGED_BY_LABEL}={MANAGED_BY} label)")
            continue
        expires = copy_expiry(pod)
        if req.expired_only and (expires is None or expires > at):
            kept.append(name)
            continue
        try:
            await gateway.delete_pod(req.namespace, name, uid=str(meta.get("uid")), dry_run=req.dry_run)
        except NotFound:
            refused.append(f"{name}: already gone")
            continue
        except DebugError as exc:
            refused.append(f"{name}: {exc.message}")
            continue
        deleted.append(name)
    return CleanupResult(namespace=req.namespace, dry_run=req.dry_run, deleted=deleted, refused=refused, kept=kept)
