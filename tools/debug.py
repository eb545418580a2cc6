"""add_debug_container: an ephemeral debugger in a running pod, previewed, dry-run, awaited, reused.

The registry has already checked the namespace, the write policy and RBAC
(`NEEDS`); the plan is built by tools/debug_plan.py.
"""

from __future__ import annotations

import shlex
from typing import Final

from k8s_debug_mcp.tools.access import Need
from k8s_debug_mcp.tools.debug_plan import DebugPlan, plan_debug_container, reusable, timeless
from k8s_debug_mcp.tools.deps import Deps
from k8s_debug_mcp.tools.errors import DebugError, KubeApiError, StartFailed, WaitTimeout
from k8s_debug_mcp.tools.images import image_warnings
from k8s_debug_mcp.tools.kube import ENV_EXPIRES, Json, Pod, State, iso
from k8s_debug_mcp.tools.models import AddDebugContainerRequest, AddDebugContainerResult
from k8s_debug_mcp.tools.preview import Preview
from k8s_debug_mcp.tools.waiting import kubelet_activity, settled, ticking, wait_for_pod

__all__ = ["NEEDS", "add_debug_container", "preview_add_debug_container"]

NEEDS: Final = (Need("patch", "pods", "ephemeralcontainers"),)
API_PATH: Final = (
    "PATCH /api/v1/namespaces/{ns}/pods/{pod}/ephemeralcontainers "
    "(Content-Type: application/strategic-merge-patch+json)"
)


async def _plan(req: AddDebugContainerRequest, deps: Deps) -> tuple[Pod, DebugPlan, str]:
    """The checks that need no pod, the pod, the plan, the profile ceiling on the final container, and
    whether the pod's node has the image (warnings added to the plan)."""
    image = req.image or deps.debug_image
    deps.policy.check_ttl(req.ttl_seconds)
    deps.policy.check_image(image)
    if req.image_pull_policy is None and deps.debug_pull_policy:
        req = req.model_copy(update={"image_pull_policy": deps.debug_pull_policy})
    pod = Pod(await deps.gateway.get_pod(req.namespace, req.pod))
    plan = plan_debug_container(pod, req, image=image, now=deps.clock(), owner=deps.owner, suffix=deps.suffixes())
    deps.policy.check_profile(req.profile, plan.container, pod.security_context)
    pull = plan.container.get("imagePullPolicy")
    plan.warnings.extend(
        await image_warnings(deps, pod.node, [(image, pull if isinstance(pull, str) else None)], ephemeral=True)
    )
    return pod, plan, image


def _reusable(pod: Pod, plan: DebugPlan, req: AddDebugContainerRequest, deps: Deps) -> str | None:
    if not req.reuse:
        return None
    found = reusable(pod, plan.key, deps.clock(), deps.owner, name=req.name)
    return found.name if found is not None else None


async def preview_add_debug_container(req: AddDebugContainerRequest, deps: Deps) -> Preview | None:
    """What the user approves; None when nothing would change (a running identical debugger is reused)."""
    pod, plan, image = await _plan(req, deps)
    if _reusable(pod, plan, req, deps) is not None:
        return None
    c = plan.container
    command = shlex.join([*c.get("command", []), *c.get("args", [])]) or "(image default)"
    sc = c.get("securityContext")
    lines = [
        f"Add ephemeral container {plan.name} to pod {req.namespace}/{req.pod}.",
        f"image: {image}; profile: {req.profile}; securityContext: {sc if sc else 'none'}",
        f"target: {req.target or '(none)'}; command: {command}",
        "Ephemeral containers can never be removed from a pod; this one stops when its command exits.",
    ]
    lines += [f"warning: {w}" for w in plan.warnings]
    return Preview(
        "\n".join(lines),
        timeless(plan.patch),
        details={"change": plan.patch, "kubectl": plan.kubectl, "server_dry_run": await _verdict(req, plan, deps)},
    )


async def _verdict(req: AddDebugContainerRequest, plan: DebugPlan, deps: Deps) -> str:
    """The API server's verdict on the exact patch (a server-side dry run: validation and admission)."""
    try:
        await deps.gateway.patch_ephemeral_containers(req.namespace, req.pod, plan.patch, dry_run=True)
    except KubeApiError as exc:
        return f"rejected (HTTP {exc.status}): {exc.message}"
    return "accepted: validation and admission passed; nothing was persisted"


async def _wait(deps: Deps, req: AddDebugContainerRequest, name: str, pod: Json) -> State:
    """Watch (not poll) the pod until the debugger runs or terminates; fail fast on start errors."""
    last = Pod(pod).container(name)
    seen: State = last.state if last is not None else State("waiting")

    def decide(current: Json) -> State | None:
        nonlocal seen
        found = Pod(current).container(name)
        seen = found.state if found is not None else State("waiting")
        if seen.phase in ("running", "terminated"):
            return seen
        if seen.cannot_start:
            raise StartFailed(
                f"Debug container {name} cannot start: {seen.reason}" + (f": {seen.message}" if seen.message else ""),
                hint="check the image name and that the node can pull it; the failed container stays in the pod "
                "spec (ephemeral containers cannot be removed), so add a new one with a fixed image.",
                applied=True,
            )
        return None

    async def report(_: Json) -> None:
        await deps.progress(f"waiting for the debugger to run: {seen.describe()}")

    kubelet: str | None = None

    async def tick() -> str:
        # Being created (an image pull, most often): the kubelet's latest word on this container.
        nonlocal kubelet
        if seen.phase != "waiting" or seen.reason not in (None, "ContainerCreating"):
            return f"waiting for the debugger to run: {seen.describe()}"  # past creating: its own reason says more
        field_path = f"spec.ephemeralContainers{{{name}}}"
        kubelet = await kubelet_activity(deps.gateway, req.namespace, req.pod, field_path) or kubelet
        return f"waiting for the debugger to run: {kubelet or seen.describe()}"

    await deps.progress("waiting for the debugger to run")
    try:
        async with ticking(deps, tick):
            return await wait_for_pod(
                deps.gateway,
                req.namespace,
                req.pod,
                pod,
                timeout_s=req.timeout_seconds,
                decide=decide,
                on_change=report,
            )
    except TimeoutError:
        last_seen = (
            f"; last seen: {seen.reason}" + (f" ({seen.message})" if seen.message else "") if seen.reason else ""
        )
        if kubelet:
            last_seen += f"; the kubelet's last event: {kubelet}"
        raise WaitTimeout(
            f"Debug container {name} was added but is not running after {req.timeout_seconds}s{last_seen}.",
            hint="check pod_status; calling add_debug_container again with the same arguments waits for this "
            "container instead of adding another.",
            applied=True,
        ) from None


async def add_debug_container(req: AddDebugContainerRequest, deps: Deps) -> AddDebugContainerResult:
    pod, plan, image = await _plan(req, deps)
    gateway = deps.gateway
    warnings = list(plan.warnings)

    reused = _reusable(pod, plan, req, deps)
    if reused is not None and not req.dry_run:
        state = await _wait(deps, req, reused, pod.raw)
        found = pod.container(reused)
        return _result(
            req,
            plan,
            image,
            name=reused,
            reused=True,
            state=state,
            expires=found.env(ENV_EXPIRES) if found else None,
            warnings=warnings,
        )
    if reused is None:
        deps.policy.check_debug_container_count(sum(1 for _ in pod.containers("ephemeral")))
    else:
        warnings.append(f"a running debugger with the same spec exists ({reused}); a real call reuses it")

    if req.dry_run:
        verdict = await _verdict(req, plan, deps)
        return _result(
            req,
            plan,
            image,
            name=plan.name,
            reused=False,
            state=State("waiting", reason="dry-run"),
            expires=None,
            warnings=warnings,
            server_dry_run=verdict,
            dry_run=True,
        )

    async def applied() -> Json | None:
        current = await gateway.get_pod(req.namespace, req.pod)
        return current if Pod(current).container(plan.name) is not None else None

    returned, recovered = await settled(
        f"add ephemeral container {plan.name} to pod {req.namespace}/{req.pod}",
        lambda: gateway.patch_ephemeral_containers(req.namespace, req.pod, plan.patch, dry_run=False),
        applied,
    )
    if Pod(returned).container(plan.name) is None:
        raise DebugError(f"The API server accepted the patch but pod {req.pod} has no container {plan.name}.")
    if recovered:
        warnings.append("the connection broke after the API server applied the change; confirmed by re-reading the pod")
    state = await _wait(deps, req, plan.name, returned)
    return _result(
        req,
        plan,
        image,
        name=plan.name,
        reused=False,
        state=state,
        expires=iso(plan.expires_at) if plan.expires_at else None,
        warnings=warnings,
    )


def _result(
    req: AddDebugContainerRequest,
    plan: DebugPlan,
    image: str,
    *,
    name: str,
    reused: bool,
    state: State,
    expires: str | None,
    warnings: list[str],
    server_dry_run: str | None = None,
    dry_run: bool = False,
) -> AddDebugContainerResult:
    return AddDebugContainerResult(
        namespace=req.namespace,
        pod=req.pod,
        container=name,
        image=image,
        target=req.target,
        profile=req.profile,
        dry_run=dry_run,
        reused=reused,
        state="dry-run" if dry_run else state.phase,
        reason=None
        if dry_run
        else (state.reason or (f"exit {state.exit_code}" if state.phase == "terminated" else None)),
        message=None if dry_run else state.message,
        expires_at=expires,
        warnings=warnings,
        patch=plan.patch,
        api_request=API_PATH.format(ns=req.namespace, pod=req.pod),
        kubectl=plan.kubectl,
        server_dry_run=server_dry_run,
    )
