"""diagnose: resolve a workload or pod name to its pods and rank what is wrong, with the next step."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from k8s_debug_mcp.tools.errors import DebugError, Forbidden, InvalidTarget, NotFound
from k8s_debug_mcp.tools.gateway import KubeGateway
from k8s_debug_mcp.tools.models import DiagnoseRequest, DiagnoseResult, Finding
from k8s_debug_mcp.tools.podview import container_entries, summarize_pod
from k8s_debug_mcp.tools.policy import Policy
from k8s_debug_mcp.tools.redact import mask_text
from k8s_debug_mcp.tools.text import clean_text, decode_bytes, one_line

__all__ = ["diagnose", "findings_for_pod", "profile_for_level"]

Json = Mapping[str, Any]
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
    sel = (workload.get("spec") or {}).get("selector") or {}
    parts = [f"{k}={v}" for k, v in (sel.get("matchLabels") or {}).items()]
    for expr in sel.get("matchExpressions") or []:
        op, key, values = expr.get("operator"), expr.get("key"), ",".join(expr.get("values") or [])
        parts.append(
            {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": key}.get(op, f"!{key}")
        )
    return ",".join(parts)


def _exit_story(code: int | None, signal: int | None, reason: str | None, limit: str | None) -> tuple[str, str]:
    """(what it means, what to do) for a terminated container."""
    if reason == "OOMKilled":
        return (
            f"killed for exceeding its memory limit ({limit or 'no limit set: the node ran out'})",
            "raise resources.limits.memory or find the leak (pod_logs previous=true; a debugger with target to "
            "watch memory in /proc)",
        )
    if code == 137 or signal == 9:
        return (
            "killed by SIGKILL (137): OOM outside the cgroup, a failed liveness probe, or an external kill",
            "check events for Unhealthy/Killing and the node's memory",
        )
    if code == 143 or signal == 15:
        return ("terminated by SIGTERM (143)", "it was asked to stop: probes, rollouts or evictions; check events")
    if code == 127:
        return (
            "exit 127: the command was not found in the image",
            "check command/args against the image (a debugger with target can list its files)",
        )
    if code == 126:
        return (
            "exit 126: the command is not executable (permissions or wrong architecture)",
            "check the image's architecture and file modes",
        )
    return (f"exited with code {code}", "read pod_logs previous=true for the crashed instance's last words")


async def _previous_log(gateway: KubeGateway, namespace: str, pod: str, container: str) -> str | None:
    try:
        raw, _ = await gateway.read_log(
            namespace,
            pod,
            container=container,
            previous=True,
            tail_lines=_LOG_TAIL,
            since_seconds=None,
            timestamps=False,
            max_bytes=2048,
        )
    except DebugError:
        return None
    text = mask_text(clean_text(decode_bytes(raw)).strip())[0]
    return text or None


async def findings_for_pod(
    gateway: KubeGateway, namespace: str, pod: Json, events: list[Json], level: str | None
) -> list[Finding]:
    name = str((pod.get("metadata") or {}).get("name"))
    out: list[Finding] = []
    status = pod.get("status") or {}
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            out.append(
                Finding(
                    severity="critical",
                    pod=name,
                    title="cannot be scheduled",
                    evidence=one_line(str(cond.get("message") or cond.get("reason")), 300),
                    next_step="free or add capacity, or relax nodeSelector/affinity/tolerations/requests",
                )
            )
    for kind, spec, cs in container_entries(pod):
        if kind == "ephemeral":
            continue
        cname = str(spec.get("name"))
        state = cs.get("state") or {}
        waiting = state.get("waiting") or {}
        reason = waiting.get("reason")
        last = (cs.get("lastState") or {}).get("terminated") or {}
        limit = ((spec.get("resources") or {}).get("limits") or {}).get("memory")
        if reason in ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"):
            out.append(
                Finding(
                    severity="critical",
                    pod=name,
                    container=cname,
                    title=f"image cannot be pulled ({reason})",
                    evidence=one_line(str(waiting.get("message") or spec.get("image")), 300),
                    next_step="fix the image name/tag or the registry credentials (imagePullSecrets)",
                )
            )
        elif reason in ("CreateContainerConfigError", "CreateContainerError", "RunContainerError"):
            out.append(
                Finding(
                    severity="critical",
                    pod=name,
                    container=cname,
                    title=f"container cannot be created ({reason})",
                    evidence=one_line(str(waiting.get("message") or reason), 300),
                    next_step="create the missing ConfigMap/Secret or key, or fix the securityContext",
                )
            )
        elif reason == "CrashLoopBackOff" or (last and int(cs.get("restartCount") or 0) > 0):
            code, signal = last.get("exitCode"), last.get("signal")
            meaning, step = _exit_story(code, signal, last.get("reason"), limit)
            evidence = f"restarts={cs.get('restartCount', 0)}, last exit: {meaning}"
            if last.get("message"):
                evidence += f"; message: {one_line(str(last['message']), 200)}"
            logs = await _previous_log(gateway, namespace, name, cname)
            if logs:
                evidence += f"; last log lines: {one_line(' | '.join(logs.splitlines()[-2:]), 200)}"
                if "exec format error" in logs:
                    meaning, step = "the binary is for another CPU architecture", "build the image for this node's arch"
            crashing = reason == "CrashLoopBackOff"
            out.append(
                Finding(
                    severity="critical" if crashing else "warning",
                    pod=name,
                    container=cname,
                    title="crash loop" if crashing else "restarted",
                    evidence=evidence,
                    next_step=step,
                )
            )
            if crashing and not any(f.title == "look inside" and f.pod == name for f in out):
                out.append(
                    Finding(
                        severity="info",
                        pod=name,
                        container=cname,
                        title="look inside",
                        evidence="images without a shell refuse exec into the app container",
                        next_step=f"add_debug_container target={cname} {profile_for_level(level)}, then "
                        "inspect; or copy_pod replace_command to keep it alive",
                    )
                )
    for ev in events:
        if ev.get("reason") == "Unhealthy":
            out.append(
                Finding(
                    severity="warning",
                    pod=name,
                    title="probe failing",
                    evidence=one_line(mask_text(str(ev.get("message") or ""))[0], 300) + f" (x{ev.get('count') or 1})",
                    next_step="check the probe's path/port/timeout against the app (exec wget from a debugger)",
                )
            )
            break
    return out


async def diagnose(req: DiagnoseRequest, *, gateway: KubeGateway, policy: Policy) -> DiagnoseResult:
    policy.check_namespace(req.namespace)
    findings: list[Finding] = []
    pods: list[Json]
    target = f"Pod/{req.name}"
    try:
        pods = [await gateway.get_pod(req.namespace, req.name)]
    except NotFound:
        pods = []
        for api_version, kind in WORKLOADS:
            try:
                workload = await gateway.get_owner(req.namespace, api_version, kind, req.name)
            except (NotFound, Forbidden):
                continue
            if workload is None:
                continue
            target = f"{kind}/{req.name}"
            findings += _workload_findings(kind, workload)
            selector = _selector(workload)
            if selector:
                listing = await gateway.list_pods(req.namespace, label_selector=selector, limit=100)
                pods = [p for p in listing.get("items") or [] if isinstance(p, Mapping)]
            break
        else:
            raise InvalidTarget(
                f"No pod or workload named {req.name} in namespace {req.namespace}.",
                hint="list_pods shows what runs there.",
            )
    level: str | None = None
    try:
        ns = await gateway.get_namespace(req.namespace)
        level = ((ns.get("metadata") or {}).get("labels") or {}).get("pod-security.kubernetes.io/enforce")
    except DebugError:
        pass
    now = datetime.now(UTC)
    pods.sort(key=lambda p: summarize_pod(p, now).problem is None)
    for pod in pods[: req.max_pods]:
        meta = pod.get("metadata") or {}
        try:
            ev = await gateway.list_events(
                req.namespace, field_selector=f"involvedObject.kind=Pod,involvedObject.name={meta.get('name')}"
            )
            events = [e for e in ev.get("items") or [] if isinstance(e, Mapping)]
        except DebugError:
            events = []
        findings += await findings_for_pod(gateway, req.namespace, pod, events, level)
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
        pods=[str((p.get("metadata") or {}).get("name")) for p in pods[: req.max_pods]],
        findings=findings[:12],
        pod_security=level,
    )


def _workload_findings(kind: str, workload: Json) -> list[Finding]:
    status, spec = workload.get("status") or {}, workload.get("spec") or {}
    out: list[Finding] = []
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            out.append(
                Finding(
                    severity="critical",
                    title="rollout stuck (progress deadline exceeded)",
                    evidence=one_line(str(cond.get("message")), 300),
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
