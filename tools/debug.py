"""add_debug_container: an ephemeral debugger in a running pod, previewed, dry-run, awaited, reused."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from k8s_debug_mcp.tools.access import require
from k8s_debug_mcp.tools.errors import DebugError, KubeApiError, StartFailed, WaitTimeout
from k8s_debug_mcp.tools.gateway import KubeGateway
from k8s_debug_mcp.tools.models import AddDebugContainerRequest, AddDebugContainerResult
from k8s_debug_mcp.tools.patches import (
    MARKER_EXPIRES,
    MARKER_KEY,
    DebugPlan,
    plan_debug_container,
    random_suffix,
    seeded_suffix,
)
from k8s_debug_mcp.tools.podview import parse_time
from k8s_debug_mcp.tools.policy import Policy
from k8s_debug_mcp.tools.text import one_line
from k8s_debug_mcp.tools.waiting import wait_for_pod

__all__ = ["FAIL_FAST_REASONS", "add_debug_container", "debugger_status", "marker"]

FAIL_FAST_REASONS: Final = frozenset(
    {
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "ErrImageNeverPull",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
    }
)
REUSE_MARGIN: Final = timedelta(seconds=60)
API_PATH: Final = (
    "PATCH /api/v1/namespaces/{ns}/pods/{pod}/ephemeralcontainers "
    "(Content-Type: application/strategic-merge-patch+json)"
)

Json = Mapping[str, Any]


def marker(container: Json, name: str) -> str | None:
    for env in container.get("env") or []:
        if isinstance(env, Mapping) and env.get("name") == name:
            value = env.get("value")
            return str(value) if value is not None else None
    return None


def debugger_status(pod: Json, name: str) -> Json:
    for cs in (pod.get("status") or {}).get("ephemeralContainerStatuses") or []:
        if isinstance(cs, Mapping) and cs.get("name") == name:
            return cs
    return {}


def _state(cs: Json) -> tuple[str, str | None, str | None]:
    """(state, reason, message) of a container status; ('waiting', None, None) before any status."""
    state = cs.get("state") or {}
    for kind in ("running", "terminated", "waiting"):
        if kind in state:
            detail = state[kind] or {}
            reason = detail.get("reason")
            if kind == "terminated" and reason is None:
                reason = f"exit {detail.get('exitCode')}"
            message = detail.get("message")
            return kind, str(reason) if reason else None, one_line(str(message), 300) if message else None
    return "waiting", None, None


def suffix_for(seed: str | None) -> Callable[[], str]:
    return seeded_suffix(seed) if seed else random_suffix


async def checked_pod(req: AddDebugContainerRequest, *, gateway: KubeGateway, policy: Policy, image: str) -> Json:
    """The policy checks that need no pod, then the pod."""
    policy.check_namespace(req.namespace)
    policy.check_write(dry_run=req.dry_run)
    policy.check_ttl(req.ttl_seconds)
    policy.check_image(image)
    await require(gateway, req.namespace, ("patch", "pods", "ephemeralcontainers"))
    return await gateway.get_pod(req.namespace, req.pod)


def reusable(pod: Json, key: str, now: datetime) -> tuple[Json, str] | None:
    """The newest ephemeral container of ours with the same spec key that is running or starting."""
    for container in reversed((pod.get("spec") or {}).get("ephemeralContainers") or []):
        if not isinstance(container, Mapping) or marker(container, MARKER_KEY) != key:
            continue
        expires = parse_time(marker(container, MARKER_EXPIRES))
        if expires is not None and expires - now < REUSE_MARGIN:
            continue
        state, reason, _ = _state(debugger_status(pod, str(container.get("name"))))
        if state == "running" or (state == "waiting" and reason not in FAIL_FAST_REASONS):
            return container, state
    return None


async def _wait(
    gateway: KubeGateway, namespace: str, pod_name: str, name: str, pod: Json, timeout_s: int
) -> tuple[str, str | None, str | None]:
    """Watch (not poll) the pod until the debugger runs or terminates; fail fast on start errors."""
    last: tuple[str, str | None, str | None] = _state(debugger_status(pod, name))

    def decide(current: Json) -> tuple[str, str | None, str | None] | None:
        nonlocal last
        last = _state(debugger_status(current, name))
        if last[0] in ("running", "terminated"):
            return last
        if last[1] in FAIL_FAST_REASONS:
            raise StartFailed(
                f"Debug container {name} cannot start: {last[1]}" + (f": {last[2]}" if last[2] else ""),
                hint="check the image name and that the node can pull it; the failed container stays in the pod "
                "spec (ephemeral containers cannot be removed), so add a new one with a fixed image.",
            )
        return None

    try:
        return await wait_for_pod(gateway, namespace, pod_name, pod, timeout_s=timeout_s, decide=decide)
    except TimeoutError:
        seen = f"; last seen: {last[1]}" + (f" ({last[2]})" if last[2] else "") if last[1] else ""
        raise WaitTimeout(
            f"Debug container {name} was added but is not running after {timeout_s}s{seen}.",
            hint="check pod_status; calling add_debug_container again with the same arguments waits for this "
            "container instead of adding another.",
        ) from None


async def add_debug_container(
    req: AddDebugContainerRequest,
    *,
    gateway: KubeGateway,
    policy: Policy,
    default_image: str,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    suffix: Callable[[], str] = random_suffix,
) -> AddDebugContainerResult:
    image = req.image or default_image
    pod = await checked_pod(req, gateway=gateway, policy=policy, image=image)
    at = now()
    plan = plan_debug_container(pod, req, image=image, now=at, suffix=suffix)
    policy.check_profile(req.profile, plan.container)
    api = API_PATH.format(ns=req.namespace, pod=req.pod)
    warnings = list(plan.warnings)

    existing = reusable(pod, plan.key, at) if req.reuse else None
    if existing is not None and not req.dry_run:
        container, _ = existing
        name = str(container.get("name"))
        state, reason, message = await _wait(gateway, req.namespace, req.pod, name, pod, req.timeout_seconds)
        return _result(
            req,
            plan,
            image=image,
            name=name,
            reused=True,
            state=(state, reason, message),
            expires=marker(container, MARKER_EXPIRES),
            warnings=warnings,
            api=api,
        )
    if existing is None:
        policy.check_debug_container_count(len((pod.get("spec") or {}).get("ephemeralContainers") or []))
    else:
        warnings.append(
            f"a running debugger with the same spec exists ({existing[0].get('name')}); a real call reuses it"
        )

    if req.dry_run:
        try:
            await gateway.patch_ephemeral_containers(req.namespace, req.pod, plan.patch, dry_run=True)
            verdict = "accepted: validation and admission passed; nothing was persisted"
        except KubeApiError as exc:
            verdict = f"rejected (HTTP {exc.status}): {exc.message}"
        return _result(
            req,
            plan,
            image=image,
            name=plan.name,
            reused=False,
            state=("dry-run", None, None),
            expires=None,
            warnings=warnings,
            api=api,
            server_dry_run=verdict,
        )

    returned = await gateway.patch_ephemeral_containers(req.namespace, req.pod, plan.patch, dry_run=False)
    if not any(
        isinstance(c, Mapping) and c.get("name") == plan.name
        for c in (returned.get("spec") or {}).get("ephemeralContainers") or []
    ):
        raise DebugError(f"The API server accepted the patch but pod {req.pod} has no container {plan.name}.")
    outcome = await _wait(gateway, req.namespace, req.pod, plan.name, returned, req.timeout_seconds)
    expires = plan.expires_at.isoformat().replace("+00:00", "Z") if plan.expires_at else None
    return _result(
        req, plan, image=image, name=plan.name, reused=False, state=outcome, expires=expires, warnings=warnings, api=api
    )


def _result(
    req: AddDebugContainerRequest,
    plan: DebugPlan,
    *,
    image: str,
    name: str,
    reused: bool,
    state: tuple[str, str | None, str | None],
    expires: str | None,
    warnings: list[str],
    api: str,
    server_dry_run: str | None = None,
) -> AddDebugContainerResult:
    return AddDebugContainerResult(
        namespace=req.namespace,
        pod=req.pod,
        container=name,
        image=image,
        target=req.target,
        profile=req.profile,
        dry_run=req.dry_run,
        reused=reused,
        state=state[0],
        reason=state[1],
        message=state[2],
        expires_at=expires,
        warnings=warnings,
        patch=plan.patch,
        api_request=api,
        kubectl=plan.kubectl,
        server_dry_run=server_dry_run,
    )
