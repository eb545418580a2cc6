"""copy_pod and cleanup: debugging copies of a pod (kubectl debug --copy-to), and their removal.

The plan is built by tools/copy_plan.py; only pods this server can prove it created
(tools/ownership.py) are ever deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final

from k8s_debug_mcp.tools.access import Need, require
from k8s_debug_mcp.tools.copy_plan import CopyPlan, copy_name, plan_pod_copy
from k8s_debug_mcp.tools.debug_plan import timeless
from k8s_debug_mcp.tools.deps import Deps
from k8s_debug_mcp.tools.errors import DebugError, NotFound, StartFailed
from k8s_debug_mcp.tools.images import image_warnings
from k8s_debug_mcp.tools.kube import (
    ANN_EXPIRES,
    ANN_NODE,
    ANN_SOURCE,
    ENV_EXPIRES,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    Json,
    Pod,
    format_age,
    format_duration,
    iso,
    obj,
    objs,
    parse_time,
)
from k8s_debug_mcp.tools.models import CleanupRequest, CleanupResult, CopyPodRequest, CopyPodResult
from k8s_debug_mcp.tools.ownership import Ownership
from k8s_debug_mcp.tools.preview import Preview
from k8s_debug_mcp.tools.waiting import create_our_pod, create_verdict, wait_for_our_pod

__all__ = [
    "CLEANUP_NEEDS",
    "COPY_NEEDS",
    "cleanup",
    "copy_expiry",
    "copy_note",
    "copy_pod",
    "preview_cleanup",
    "preview_copy_pod",
]

COPY_NEEDS: Final = (Need("create", "pods"),)
CLEANUP_NEEDS: Final = (Need("delete", "pods"),)
REPLACE_NEEDS: Final = (Need("delete", "pods"),)


def copy_expiry(pod: Pod, owner: Ownership) -> datetime | None:
    """When one of our copies expires; None for pods that are not provably ours."""
    if not owner.owns_pod(pod):
        return None
    return parse_time(pod.annotations.get(ANN_EXPIRES))


def copy_note(pod: Pod, owner: Ownership, now: datetime) -> str | None:
    """A line about our own debug copies: whose copy it is and whether it expired."""
    expires = copy_expiry(pod, owner)
    if expires is None:
        return None
    node = pod.annotations.get(ANN_NODE)
    what = f"node debugger of {node}" if node else f"debug copy of {pod.annotations.get(ANN_SOURCE) or '?'}"
    if expires <= now:
        return f"{what}, expired {format_age(expires, now)} ago: cleanup can delete it"
    return f"{what}, expires in {format_duration(expires - now)}"


def _running_or_failing(raw: Json) -> str | None:
    """'Running' once every container runs; raises on what will not fix itself."""
    pod = Pod(raw)
    scheduled = pod.condition("PodScheduled")
    if scheduled is not None and scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
        raise StartFailed(
            f"Copy {pod.name} cannot be scheduled: {scheduled.get('message') or 'Unschedulable'}",
            hint="the copy stays Pending; delete it with cleanup, then retry (without same_node, or with "
            "fewer resources).",
            applied=True,
        )
    for c in pod.containers():
        state = c.state
        if state.cannot_start:
            raise StartFailed(
                f"Container {c.name} of copy {pod.name} cannot start: {state.reason}"
                + (f": {state.message}" if state.message else ""),
                hint="fix the image (set_image) and make a new copy; delete this one with cleanup.",
                applied=True,
            )
    if pod.phase == "Failed":
        raise StartFailed(f"Copy {pod.name} failed: {pod.status.get('reason') or 'see pod_status'}.", applied=True)
    if pod.phase == "Running" and all(c.state.phase == "running" for c in pod.containers("regular")):
        return "Running"
    return None


async def _source(req: CopyPodRequest, deps: Deps) -> Pod:
    policy = deps.policy
    policy.check_copies()
    policy.check_ttl(req.ttl_seconds)
    if req.opts.replace:
        policy.check_replace()
    for swapped in [*([req.image] if req.image else []), *(req.set_image or {}).values()]:
        policy.check_image(swapped)
    return Pod(await deps.gateway.get_pod(req.namespace, req.pod))


async def _named(req: CopyPodRequest, deps: Deps, suffix: Callable[[], str]) -> CopyPodRequest:
    """The request with a copy name that is free in the namespace (drawn like debugger names)."""
    if req.name is not None:
        return req
    for _ in range(10):
        candidate = copy_name(req.pod, suffix)
        try:
            await deps.gateway.get_pod(req.namespace, candidate)
        except NotFound:
            return req.model_copy(update={"name": candidate})
    raise DebugError(f"Could not find a free name for a copy of {req.pod}.", hint="pass name.")


async def _plan(req: CopyPodRequest, deps: Deps) -> tuple[CopyPodRequest, CopyPlan, Pod]:
    image = req.image or deps.debug_image
    source = await _source(req, deps)
    suffix = deps.suffixes()  # one draw for the copy's name and its debugger's
    req = await _named(req, deps, suffix)
    plan = plan_pod_copy(
        source,
        req,
        image=image,
        now=deps.clock(),
        owner=deps.owner,
        suffix=suffix,
        pull_policy=deps.debug_pull_policy,
    )
    if plan.debugger is not None:
        if plan.debugger_image is not None:
            deps.policy.check_image(plan.debugger_image)
        deps.policy.check_profile(req.profile, plan.debugger, source.security_context)
    plan.warnings.extend(await _image_warnings(source, req, plan, deps))
    return req, plan, source


async def _image_warnings(source: Pod, req: CopyPodRequest, plan: CopyPlan, deps: Deps) -> list[str]:
    """Images this copy brings that the node may lack: the node is known with same_node; otherwise the
    source's node is the best guess (the scheduler may pick another)."""
    before = {c.name: c.spec.get("image") for c in source.containers("regular")}
    new = [
        (str(c.get("image")), c.get("imagePullPolicy") if isinstance(c.get("imagePullPolicy"), str) else None)
        for c in objs(obj(plan.manifest.get("spec")).get("containers"))
        if c.get("image") and c.get("image") != before.get(str(c.get("name")))
    ]
    where = "" if req.same_node else " (where the source runs; the scheduler may pick another node)"
    return await image_warnings(deps, source.node, new, ephemeral=False, where=where)


async def preview_copy_pod(req: CopyPodRequest, deps: Deps) -> Preview:
    req, plan, _ = await _plan(req, deps)
    lines = [f"Create pod {req.namespace}/{plan.name}, a debugging copy of {req.pod}."]
    if req.opts.replace:
        lines[0] += f" Then DELETE the source pod {req.pod} (grace period 0)."
    else:
        lines[0] += " The source is not touched."
    lines += [f"- {c}" for c in plan.changes]
    lines += [f"warning: {w}" for w in plan.warnings]
    lines += [f"unlike kubectl: {d}" for d in plan.differs]
    change = {"create": f"pod {req.namespace}/{plan.name}", "changes vs source": plan.changes}
    if req.opts.replace:
        change["delete"] = f"pod {req.namespace}/{req.pod}"
    verdict = await create_verdict(deps.gateway, req.namespace, plan.manifest)
    return Preview(
        "\n".join(lines),
        timeless(plan.manifest),
        details={"change": change, "kubectl": plan.kubectl, "server_dry_run": verdict},
    )


def _result(
    req: CopyPodRequest,
    plan: CopyPlan,
    *,
    phase: str,
    warnings: list[str],
    node: str | None = None,
    verdict: str | None = None,
) -> CopyPodResult:
    return CopyPodResult(
        namespace=req.namespace,
        source=req.pod,
        name=plan.name,
        debugger=plan.debugger["name"] if plan.debugger else None,
        dry_run=req.dry_run,
        phase=phase,
        node=node,
        expires_at=iso(plan.expires_at),
        changes=plan.changes,
        warnings=[*warnings, *(f"unlike kubectl: {d}" for d in plan.differs)],
        manifest=plan.manifest,
        kubectl=plan.kubectl,
        server_dry_run=verdict,
    )


async def copy_pod(req: CopyPodRequest, deps: Deps) -> CopyPodResult:
    req, plan, source = await _plan(req, deps)
    gateway = deps.gateway
    warnings = list(plan.warnings)
    if req.opts.replace:
        await require(gateway, req.namespace, REPLACE_NEEDS)
    if req.dry_run:
        verdict = await create_verdict(deps.gateway, req.namespace, plan.manifest)
        return _result(req, plan, phase="dry-run", warnings=warnings, verdict=verdict)

    created, recovered = await create_our_pod(deps, req.namespace, plan.name, plan.manifest)
    if recovered:
        warnings.append("the connection broke after the API server created the copy; confirmed by re-reading it")
    if req.opts.replace:
        await _delete_source(req, source, deps, warnings)
    phase = await wait_for_our_pod(
        deps, req.namespace, created, what="Copy", timeout_s=req.timeout_seconds, decide=_running_or_failing
    )
    current = Pod(await gateway.get_pod(req.namespace, plan.name))
    return _result(req, plan, phase=phase, warnings=warnings, node=current.node)


async def _delete_source(req: CopyPodRequest, source: Pod, deps: Deps, warnings: list[str]) -> None:
    """kubectl --replace: delete the original (grace period 0) once the copy exists; the uid precondition
    spares a same-named pod that replaced it meanwhile."""
    try:
        await deps.gateway.delete_pod(req.namespace, source.name, uid=source.uid, dry_run=False, grace_period_seconds=0)
    except NotFound:
        warnings.append(f"the source pod {source.name} was already gone")
    except DebugError as exc:
        raise DebugError(
            f"The copy {req.name} was created, but deleting the source pod {source.name} failed: {exc.message}",
            hint="delete the source yourself if you still want it gone; the copy stays.",
            applied=True,
        ) from None


async def _candidates(req: CleanupRequest, deps: Deps) -> tuple[list[Pod], list[str]]:
    refused: list[str] = []
    if req.pods is None:
        listing = await deps.gateway.list_pods(req.namespace, label_selector=f"{MANAGED_BY_LABEL}={MANAGED_BY}")
        return [Pod(p) for p in objs(listing.get("items"))], refused
    found: list[Pod] = []
    for name in dict.fromkeys(req.pods):
        try:
            found.append(Pod(await deps.gateway.get_pod(req.namespace, name)))
        except NotFound:
            refused.append(f"{name}: not found")
    return found, refused


async def cleanup(req: CleanupRequest, deps: Deps) -> CleanupResult:
    deps.policy.check_cleanup()
    at = deps.clock()
    candidates, refused = await _candidates(req, deps)
    deleted: list[str] = []
    kept: list[str] = []
    for pod in candidates:
        if not deps.owner.owns_pod(pod):
            refused.append(f"{pod.name}: not created by k8s-debug-mcp (no valid owner mark; a label proves nothing)")
            continue
        expires = copy_expiry(pod, deps.owner)
        if req.expired_only and (expires is None or expires > at):
            kept.append(pod.name)
            continue
        try:
            await deps.gateway.delete_pod(req.namespace, pod.name, uid=pod.uid, dry_run=req.dry_run)
        except NotFound:
            refused.append(f"{pod.name}: already gone")
            continue
        except DebugError as exc:
            refused.append(f"{pod.name}: {exc.message}")
            continue
        deleted.append(pod.name)
    return CleanupResult(
        namespace=req.namespace,
        dry_run=req.dry_run,
        deleted=deleted,
        refused=refused,
        kept=kept,
        debuggers=await _debuggers_left(req.namespace, deps, skip=set(deleted)),
    )


async def _debuggers_left(namespace: str, deps: Deps, *, skip: set[str]) -> list[str]:
    """What this server added that cleanup cannot remove: its ephemeral debuggers, with their state."""
    try:
        listing = await deps.gateway.list_pods(namespace, limit=500)
    except DebugError:
        return []
    now = deps.clock()
    left: list[str] = []
    for pod in (Pod(p) for p in objs(listing.get("items"))):
        if pod.name in skip or deps.owner.owns_pod(pod):
            continue
        for c in deps.owner.debuggers(pod):
            state = c.state
            expires = parse_time(c.env(ENV_EXPIRES))
            detail = state.describe()
            if state.phase == "running" and expires is not None:
                detail += f", sleeper ends in {format_duration(expires - now)}" if expires > now else ", sleeper ending"
            elif state.cannot_start:
                detail = f"stuck: {state.reason} (it will never start)"
            left.append(f"{pod.name}/{c.name}: {detail}")
    return left[:50]


async def preview_cleanup(req: CleanupRequest, deps: Deps) -> Preview | None:
    """None when nothing would be deleted."""
    res = await cleanup(req.model_copy(update={"dry_run": True}), deps)
    if not res.deleted:
        return None
    summary = f"Delete {len(res.deleted)} debug pod{'' if len(res.deleted) == 1 else 's'} in {req.namespace}: "
    body = {"namespace": req.namespace, "pods": sorted(res.deleted)}
    return Preview(summary + ", ".join(res.deleted) + ".", body, details={"change": {"delete pods": body["pods"]}})
