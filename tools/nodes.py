"""debug_node: a debugger pod on a node (`kubectl debug node/NAME`), previewed, dry-run, awaited.

Off unless the policy allows it (`node_debugging`, `allowed_nodes`). The plan is built by
tools/node_plan.py; the pod carries our owner mark, so exec and inspect use its container by
default and `cleanup` deletes it.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Final

from k8s_debug_mcp.tools.access import Need
from k8s_debug_mcp.tools.debug_plan import timeless
from k8s_debug_mcp.tools.deps import Deps
from k8s_debug_mcp.tools.errors import (
    DebugError,
    Forbidden,
    InvalidTarget,
    NotFound,
    StartFailed,
)
from k8s_debug_mcp.tools.images import warnings_for
from k8s_debug_mcp.tools.kube import Json, Pod, obj, objs
from k8s_debug_mcp.tools.models import DebugNodeRequest, DebugNodeResult
from k8s_debug_mcp.tools.node_plan import HOST_MOUNT, NodePlan, plan_node_debugger
from k8s_debug_mcp.tools.preview import Preview
from k8s_debug_mcp.tools.waiting import create_our_pod, create_verdict, wait_for_our_pod

__all__ = ["NEEDS", "debug_node", "host_access", "preview_debug_node"]

NEEDS: Final = (Need("create", "pods"),)
ENFORCE: Final = "pod-security.kubernetes.io/enforce"


def host_access(spec: Json) -> str:
    """What the debugger reaches of its node, in words."""
    parts: list[str] = []
    if spec.get("hostPID"):
        parts.append("the host's PID, network and IPC namespaces")
    mounts = [m for c in objs(spec.get("containers")) for m in objs(c.get("volumeMounts"))]
    if any(m.get("mountPath") == HOST_MOUNT for m in mounts):
        parts.append(f"the node's / at {HOST_MOUNT} (read-write: root on the node)")
    return " and ".join(parts) or "no host access (its own namespaces, no host files)"


async def _node(req: DebugNodeRequest, deps: Deps) -> Json | None:
    try:
        return await deps.gateway.get_node(req.node)
    except NotFound:
        raise InvalidTarget(
            f"There is no node named {req.node}.", hint="check the name (pod_status shows a pod's node)."
        ) from None
    except Forbidden:
        return None  # no RBAC for nodes: the pod still works; nothing is claimed about the node


def _node_warnings(req: DebugNodeRequest, node: Json | None, plan: NodePlan, deps: Deps) -> list[str]:
    if node is None:
        return [f"node {req.node} could not be read (RBAC get nodes): its readiness and images are unchecked"]
    out: list[str] = []
    ready = next((c for c in objs(obj(node.get("status")).get("conditions")) if c.get("type") == "Ready"), None)
    if ready is None or ready.get("status") != "True":
        out.append(f"node {req.node} is not Ready: the debugger may never start there")
    pull = plan.container.get("imagePullPolicy")
    out += warnings_for(
        node,
        req.node,
        [(str(plan.container["image"]), pull if isinstance(pull, str) else None)],
        deps.policy.debug_image_allowed,
        ephemeral=False,
    )
    return out


async def _pod_security(req: DebugNodeRequest, plan: NodePlan, deps: Deps) -> list[str]:
    if not (plan.access.namespaces or plan.access.root):
        return []
    try:
        level = obj(obj((await deps.gateway.get_namespace(req.namespace)).get("metadata")).get("labels")).get(ENFORCE)
    except DebugError:
        return []
    if level in ("baseline", "restricted"):
        return [
            f"namespace {req.namespace} enforces Pod Security {level}, which refuses host namespaces and hostPath: "
            "use a namespace without it, or profile baseline/restricted (no host access)"
        ]
    return []


async def _plan(req: DebugNodeRequest, deps: Deps) -> tuple[NodePlan, list[str]]:
    policy = deps.policy
    policy.check_node(req.node)
    policy.check_ttl(req.ttl_seconds)
    image = req.image or deps.debug_image
    policy.check_image(image)
    node = await _node(req, deps)
    plan = plan_node_debugger(
        req, image=image, now=deps.clock(), owner=deps.owner, suffix=deps.suffixes(), pull_policy=deps.debug_pull_policy
    )
    policy.check_node_profile(req.profile, plan.container, plan.manifest["spec"])
    return plan, _node_warnings(req, node, plan, deps) + await _pod_security(req, plan, deps)


async def preview_debug_node(req: DebugNodeRequest, deps: Deps) -> Preview:
    plan, warnings = await _plan(req, deps)
    c = plan.container
    command = shlex.join([*c.get("command", []), *c.get("args", [])]) or "(image default)"
    lines = [
        f"Create pod {req.namespace}/{plan.name} on node {req.node} (profile {req.profile}) with "
        f"{host_access(plan.manifest['spec'])}.",
        f"image: {c['image']}; command: {command}; securityContext: {c.get('securityContext') or 'none'}",
        "It tolerates every taint and stays until cleanup deletes it.",
    ]
    lines += [f"warning: {w}" for w in warnings]
    return Preview("\n".join(lines), timeless(plan.manifest), details={"kubectl": plan.kubectl})


def _started(name: str, container: str) -> Callable[[Json], str | None]:
    def decide(raw: Json) -> str | None:
        pod = Pod(raw)
        found = pod.container(container)
        state = found.state if found is not None else None
        if state is not None and state.cannot_start:
            raise StartFailed(
                f"Node debugger {name} cannot start: {state.reason}" + (f": {state.message}" if state.message else ""),
                hint="fix the image (or its pull policy) and debug the node again; delete this pod with cleanup.",
                applied=True,
            )
        if state is not None and state.phase == "running":
            return "Running"
        if state is not None and state.phase == "terminated":
            return "Succeeded" if state.exit_code == 0 else f"Failed (exit {state.exit_code})"
        if pod.phase == "Failed":
            reason = " ".join(str(pod.status.get(k) or "") for k in ("reason", "message")).strip()
            raise StartFailed(
                f"The kubelet on {pod.node} refused node debugger {name}: {reason or 'phase Failed'}",
                hint="see pod_status; delete the pod with cleanup.",
                applied=True,
            )
        return None

    return decide


def _result(plan: NodePlan, *, phase: str, warnings: list[str], verdict: str = "") -> DebugNodeResult:
    return DebugNodeResult(
        name=plan.name,
        phase=phase,
        warnings=warnings,
        manifest=plan.manifest,
        kubectl=plan.kubectl,
        server_dry_run=verdict,
    )


async def debug_node(req: DebugNodeRequest, deps: Deps) -> DebugNodeResult:
    plan, warnings = await _plan(req, deps)
    gateway = deps.gateway
    if req.dry_run:
        verdict = await create_verdict(gateway, req.namespace, plan.manifest)
        return _result(plan, phase="dry-run", warnings=warnings, verdict=verdict)
    created, recovered = await create_our_pod(deps, req.namespace, plan.name, plan.manifest)
    if recovered:
        warnings.append("the connection broke after the API server created the pod; confirmed by re-reading it")
    decide = _started(plan.name, str(plan.container["name"]))
    phase = await wait_for_our_pod(
        deps, req.namespace, created, what="Node debugger", timeout_s=req.timeout_seconds, decide=decide
    )
    return _result(plan, phase=phase, warnings=warnings)
