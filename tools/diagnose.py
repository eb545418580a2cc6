"""diagnose: resolve a workload or pod name to its pods and rank what is wrong, with the next step."""

from __future__ import annotations

from typing import Final

from k8s_debug_mcp.tools.access import Need
from k8s_debug_mcp.tools.deps import Deps
from k8s_debug_mcp.tools.errors import DebugError, Forbidden, InvalidTarget, NotFound
from k8s_debug_mcp.tools.kube import CREATE_FAILURES, IMAGE_PULL_FAILURES, Json, Pod, exit_meaning, obj, objs
from k8s_debug_mcp.tools.models import DiagnoseRequest, DiagnoseResult, Finding
from k8s_debug_mcp.tools.pods import read_log_text
from k8s_debug_mcp.tools.podview import summarize_pod
from k8s_debug_mcp.tools.text import one_line

__all__ = ["NEEDS", "diagnose", "profile_for_level"]

NEEDS: Final = (Need("get", "pods"), Need("get", "pods", "log"), Need("list", "events"))
WORKLOADS: Final = (
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "DaemonSet"),
    ("apps/v1", "ReplicaSet"),
    ("batch/v1", "Job"),
)
_RANK: Final = {"critical": 0, "warning": 1, "info": 2}
_LOG_TAIL: Final = 15


def profile_for_level(level: str | None) -> str:
    """The debug profile Pod Security admission lets through at a namespace's enforced level."""
    if level == "restricted":
        return "profile=restricted, run_as_target=true"
    if level == "baseline":
        return "profile=baseline, run_as_target=true (baseline forbids SYS_PTRACE)"
    return "profile=general"


def _selector(workload: Json) -> str:
    sel = obj(obj(workload.get("spec")).get("selector"))
    parts = [f"{k}={v}" for k, v in obj(sel.get("matchLabels")).items()]
    for expr in objs(sel.get("matchExpressions")):
        op, key, values = str(expr.get("operator")), str(expr.get("key")), ",".join(expr.get("values") or [])
        forms = {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": key}
        parts.append(forms.get(op, f"!{key}"))
    return ",".join(parts)


def _exit_step(code: int | None, signal: int | None, reason: str | None, limit: str | None) -> tuple[str, str]:
    """(what it means, what to do) for a terminated container."""
    if reason == "OOMKilled":
        return (
            f"killed for exceeding its memory limit ({limit or 'no limit set: the node ran out'})",
            "raise resources.limits.memory or find the leak (pod_logs previous=true; a debugger with target to "
            "watch memory in /proc)",
        )
    meaning = exit_meaning(code, signal, reason) or f"exited with code {code}"
    if code == 137 or signal == 9:
        return meaning, "check events for Unhealthy/Killing and the node's memory"
    if code == 143 or signal == 15:
        return meaning, "it was asked to stop: probes, rollouts or evictions; check events"
    if code in (126, 127):
        return meaning, "check command/args against the image (a debugger with target can list its files)"
    return meaning, "read pod_logs previous=true for the crashed instance's last words"


async def _previous_log(deps: Deps, pod: Pod, container: str) -> str | None:
    try:
        body, _, _ = await read_log_text(deps, pod, container, previous=True, tail_lines=_LOG_TAIL, limit_bytes=2048)
    except DebugError:
        return None
    return body.strip() or None


async def findings_for_pod(deps: Deps, pod: Pod, events: list[Json], level: str | None) -> list[Finding]:
    out: list[Finding] = []
    scheduled = pod.condition("PodScheduled")
    if scheduled is not None and scheduled.get("status") == "False":
        out.append(
            Finding(
                severity="critical",
                pod=pod.name,
                title="cannot be scheduled",
                evidence=str(scheduled.get("reason") or "Unschedulable"),
                excerpt=one_line(str(scheduled.get("message") or "")) or None,
                next_step="free or add capacity, or relax nodeSelector/affinity/tolerations/requests",
            )
        )
    for c in pod.containers("init", "regular"):
        state, last = c.state, c.last_termination
        if state.phase == "waiting" and state.reason in IMAGE_PULL_FAILURES:
            out.append(
                Finding(
                    severity="critical",
                    pod=pod.name,
                    container=c.name,
                    title=f"image cannot be pulled ({state.reason})",
                    evidence=f"image {c.image}",
                    excerpt=one_line(state.message) if state.message else None,
                    next_step="fix the image name/tag or the registry credentials (imagePullSecrets)",
                )
            )
        elif state.phase == "waiting" and state.reason in CREATE_FAILURES:
            out.append(
                Finding(
                    severity="critical",
                    pod=pod.name,
                    container=c.name,
                    title=f"container cannot be created ({state.reason})",
                    evidence=str(state.reason),
                    excerpt=one_line(state.message) if state.message else None,
                    next_step="create the missing ConfigMap/Secret or key, or fix the securityContext",
                )
            )
        elif state.reason == "CrashLoopBackOff" or (last is not None and c.restarts > 0):
            meaning, step = _exit_step(
                last.exit_code if last else None,
                last.signal if last else None,
                last.reason if last else None,
                c.memory_limit,
            )
            logs = await _previous_log(deps, pod, c.name)
            excerpt_parts = []
            if last is not None and last.message:
                excerpt_parts.append(f"termination message: {one_line(last.message)}")
            if logs:
                excerpt_parts.append("last log lines: " + " | ".join(logs.splitlines()[-2:]))
                if "exec format error" in logs:
                    meaning, step = "the binary is for another CPU architecture", "build the image for this node's arch"
            crashing = state.reason == "CrashLoopBackOff"
            out.append(
                Finding(
                    severity="critical" if crashing else "warning",
                    pod=pod.name,
                    container=c.name,
                    title="crash loop" if crashing else "restarted",
                    evidence=f"restarts={c.restarts}, last exit: {meaning}",
                    excerpt="\n".join(excerpt_parts) or None,
                    next_step=step,
                )
            )
            if crashing and not any(f.title == "look inside" and f.pod == pod.name for f in out):
                out.append(
                    Finding(
                        severity="info",
                        pod=pod.name,
                        container=c.name,
                        title="look inside",
                        evidence="images without a shell refuse exec into the app container",
                        next_step=f"add_debug_container target={c.name} {profile_for_level(level)}, then "
                        "inspect; or copy_pod replace_command to keep it alive",
                    )
                )
    for ev in events:
        if ev.get("reason") == "Unhealthy":
            out.append(
                Finding(
                    severity="warning",
                    pod=pod.name,
                    title="probe failing",
                    evidence=f"Unhealthy x{ev.get('count') or 1}",
                    excerpt=one_line(str(ev.get("message") or "")) or None,
                    next_step="check the probe's path/port/timeout against the app (exec wget from a debugger)",
                )
            )
            break
    return out


async def _resolve(req: DiagnoseRequest, deps: Deps) -> tuple[str, list[Pod], list[Finding]]:
    gateway = deps.gateway
    try:
        return f"Pod/{req.name}", [Pod(await gateway.get_pod(req.namespace, req.name))], []
    except NotFound:
        pass
    for api_version, kind in WORKLOADS:
        try:
            workload = await gateway.get_object(req.namespace, api_version, kind, req.name)
        except (NotFound, Forbidden):
            continue
        if workload is None:
            continue
        pods: list[Pod] = []
        selector = _selector(workload)
        if selector:
            listing = await gateway.list_pods(req.namespace, label_selector=selector, limit=100)
            pods = [Pod(p) for p in objs(listing.get("items"))]
        return f"{kind}/{req.name}", pods, _workload_findings(kind, workload)
    raise InvalidTarget(
        f"No pod or workload named {req.name} in namespace {req.namespace}.",
        hint="list_pods shows what runs there.",
    )


async def diagnose(req: DiagnoseRequest, deps: Deps) -> DiagnoseResult:
    gateway = deps.gateway
    target, pods, findings = await _resolve(req, deps)
    level: str | None = None
    try:
        ns = await gateway.get_namespace(req.namespace)
        level = obj(obj(ns.get("metadata")).get("labels")).get("pod-security.kubernetes.io/enforce")
    except DebugError:
        pass
    now = deps.clock()
    pods.sort(key=lambda p: summarize_pod(p.raw, now).problem is None)
    for pod in pods[: req.max_pods]:
        try:
            ev = await gateway.list_events(
                req.namespace, field_selector=f"involvedObject.kind=Pod,involvedObject.name={pod.name}"
            )
            events = objs(ev.get("items"))
        except DebugError:
            events = []
        findings += await findings_for_pod(deps, pod, events, level)
    if not pods:
        findings.append(
            Finding(
                severity="warning",
                title="no pods",
                evidence=f"{target} selects no pods",
                next_step="check replicas and the selector; describe the controller's events",
            )
        )
    if not any(f.severity != "info" for f in findings):
        findings.append(
            Finding(
                severity="info",
                title="nothing wrong found",
                evidence=f"{len(pods)} pod(s) running and ready",
                next_step="check logs and metrics",
            )
        )
    findings.sort(key=lambda f: _RANK[f.severity])
    return DiagnoseResult(
        namespace=req.namespace,
        target=target,
        pods=[p.name for p in pods[: req.max_pods]],
        findings=findings[:12],
        pod_security=level,
    )


def _workload_findings(kind: str, workload: Json) -> list[Finding]:
    status, spec = obj(workload.get("status")), obj(workload.get("spec"))
    out: list[Finding] = []
    for cond in objs(status.get("conditions")):
        if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            out.append(
                Finding(
                    severity="critical",
                    title="rollout stuck (progress deadline exceeded)",
                    evidence="ProgressDeadlineExceeded",
                    excerpt=one_line(str(cond.get("message") or "")) or None,
                    next_step="fix the new pods (below) or roll back: kubectl rollout undo",
                )
            )
    desired = spec.get("replicas")
    unavailable = status.get("unavailableReplicas")
    if kind in ("Deployment", "StatefulSet", "ReplicaSet") and unavailable:
        out.append(
            Finding(
                severity="warning",
                title=f"{unavailable} of {desired} replicas unavailable",
                evidence=f"ready {status.get('readyReplicas', 0)}/{desired}",
                next_step="see the pod findings below",
            )
        )
    return out
