"""diagnose: "why is X failing?" answered in one call.

Resolves a workload or pod name (or, without a name, the whole namespace) to its pods, reads
what decides — container states, the decisive log lines (previous instance first, the
current one when the kubelet no longer has it), events of the pods and of their controllers,
the rollout history, the claims, quotas and nodes involved — and ranks findings by impact:
the root cause first, with its evidence and the next step that fits its reason.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from k8s_debug_mcp.tools.access import Need
from k8s_debug_mcp.tools.deps import Deps
from k8s_debug_mcp.tools.errors import DebugError, Forbidden, InvalidTarget, NotFound
from k8s_debug_mcp.tools.evidence import (
    is_kubelet_message,
    log_excerpt,
    missing_reference,
    probe_target,
    template_changes,
)
from k8s_debug_mcp.tools.kube import (
    CREATE_FAILURES,
    IMAGE_PULL_FAILURES,
    Container,
    Json,
    Pod,
    State,
    exit_meaning,
    format_age,
    integer,
    obj,
    objs,
    parse_time,
    text,
)
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
    ("batch/v1", "CronJob"),
)
MAX_FINDINGS: Final = 6
LOG_BYTES: Final = 8192
SCAN_BUDGET_S: Final = 8.0
_SEVERITY: Final = {"critical": 0, "warning": 1, "info": 2}


def profile_for_level(level: str | None) -> str:
    """The debug profile Pod Security admission lets through at a namespace's enforced level."""
    if level == "restricted":
        return "profile=restricted, run_as_target=true"
    if level == "baseline":
        return "profile=baseline, run_as_target=true (baseline forbids SYS_PTRACE)"
    return "profile=general"


@dataclass(order=True)
class Ranked:
    """A finding and its place: lower rank first (root causes before their symptoms)."""

    rank: int
    order: int
    finding: Finding = field(compare=False)


@dataclass
class Scene:
    """What diagnose read: the target, its pods and everything around them."""

    namespace: str
    target: str
    workload: Json | None = None
    pods: list[Pod] = field(default_factory=list)
    events: list[Json] = field(default_factory=list)
    level: str | None = None
    revisions: dict[str, int] = field(default_factory=dict)
    """ReplicaSet / ControllerRevision name -> revision number."""
    templates: dict[int, tuple[Json, bool, str | None]] = field(default_factory=dict)
    """revision -> (pod template, healthy?, created at)."""
    findings: list[Ranked] = field(default_factory=list)

    def add(self, rank: int, finding: Finding) -> None:
        self.findings.append(Ranked(rank, len(self.findings), finding))

    def events_of(self, kind: str, name: str) -> list[Json]:
        return [e for e in self.events if obj(e.get("involvedObject")).get("kind") == kind and _involved(e) == name]


def _involved(event: Json) -> str:
    return str(obj(event.get("involvedObject")).get("name") or "")


def _event_container(event: Json) -> str | None:
    path = str(obj(event.get("involvedObject")).get("fieldPath") or "")
    return path[path.index("{") + 1 : -1] if "{" in path and path.endswith("}") else None


def _count(event: Json) -> int:
    return integer(obj(event.get("series")).get("count")) or integer(event.get("count")) or 1


def _message(event: Json) -> str:
    return one_line(str(event.get("message") or ""))


def _newest(events: Iterable[Json]) -> list[Json]:
    def seen(e: Json) -> str:
        return str(
            e.get("lastTimestamp") or e.get("eventTime") or obj(e.get("metadata")).get("creationTimestamp") or ""
        )

    return sorted(events, key=seen, reverse=True)


# -- reading the scene ---------------------------------------------------------------------------


def _selector(workload: Json) -> str:
    sel = obj(obj(workload.get("spec")).get("selector"))
    parts = [f"{k}={v}" for k, v in obj(sel.get("matchLabels")).items()]
    for expr in objs(sel.get("matchExpressions")):
        op, key, values = str(expr.get("operator")), str(expr.get("key")), ",".join(expr.get("values") or [])
        forms = {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": key}
        parts.append(forms.get(op, f"!{key}"))
    return ",".join(parts)


def _owned_by(item: Json, uid: str) -> bool:
    return any(ref.get("uid") == uid for ref in objs(obj(item.get("metadata")).get("ownerReferences")))


async def _resolve(req: DiagnoseRequest, deps: Deps, scene: Scene) -> None:
    gateway = deps.gateway
    assert req.name is not None
    try:
        scene.pods = [Pod(await gateway.get_pod(req.namespace, req.name))]
        scene.target = f"Pod/{req.name}"
        return
    except NotFound:
        pass
    for api_version, kind in WORKLOADS:
        try:
            workload = await gateway.get_object(req.namespace, api_version, kind, req.name)
        except (NotFound, Forbidden):
            continue
        if workload is None:
            continue
        scene.target, scene.workload = f"{kind}/{req.name}", workload
        uid = str(obj(workload.get("metadata")).get("uid") or "")
        selector = _selector(workload)
        if kind == "CronJob":
            jobs = await gateway.list_objects(req.namespace, "batch/v1", "Job", limit=50) or {}
            owned = [j for j in objs(jobs.get("items")) if _owned_by(j, uid)]
            owned.sort(key=lambda j: str(obj(j.get("metadata")).get("creationTimestamp") or ""))
            if owned:
                scene.workload = owned[-1]
                scene.target = f"CronJob/{req.name} (Job {obj(owned[-1].get('metadata')).get('name')})"
                selector = _selector(owned[-1])
        if selector:
            listing = await gateway.list_pods(req.namespace, label_selector=selector, limit=200)
            scene.pods = [Pod(p) for p in objs(listing.get("items"))]
        if kind in ("Deployment", "StatefulSet", "DaemonSet"):
            await _history(deps, scene, kind, uid, selector)
        return
    raise InvalidTarget(
        f"No pod or workload named {req.name} in namespace {req.namespace}.",
        hint="list_pods shows what runs there; diagnose without a name scans the whole namespace.",
    )


async def _history(deps: Deps, scene: Scene, kind: str, uid: str, selector: str) -> None:
    """Revisions of the workload: which pods run which, and each revision's template."""
    try:
        if kind == "Deployment":
            listing = await deps.gateway.list_objects(
                scene.namespace, "apps/v1", "ReplicaSet", label_selector=selector or None, limit=50
            )
            for rs in objs((listing or {}).get("items")):
                if not _owned_by(rs, uid):
                    continue
                meta, status = obj(rs.get("metadata")), obj(rs.get("status"))
                revision = integer(int(str(obj(meta.get("annotations")).get("deployment.kubernetes.io/revision") or 0)))
                if not revision:
                    continue
                scene.revisions[str(meta.get("name"))] = revision
                healthy = (integer(status.get("readyReplicas")) or 0) > 0
                scene.templates[revision] = (
                    obj(obj(rs.get("spec")).get("template")),
                    healthy,
                    text(meta.get("creationTimestamp")),
                )
        else:
            listing = await deps.gateway.list_objects(
                scene.namespace, "apps/v1", "ControllerRevision", label_selector=selector or None, limit=50
            )
            for cr in objs((listing or {}).get("items")):
                if not _owned_by(cr, uid):
                    continue
                meta = obj(cr.get("metadata"))
                revision = integer(cr.get("revision")) or 0
                scene.revisions[str(meta.get("name"))] = revision
                template = obj(obj(obj(cr.get("data")).get("spec")).get("template"))
                scene.templates[revision] = (template, False, text(meta.get("creationTimestamp")))
    except (DebugError, ValueError):
        scene.revisions.clear()  # history is evidence, not a requirement


def _revision_of(scene: Scene, pod: Pod) -> int | None:
    ref = pod.controller()
    if ref is not None and str(ref.get("name")) in scene.revisions:
        return scene.revisions[str(ref.get("name"))]
    hash_label = pod.labels.get("controller-revision-hash")
    for name, revision in scene.revisions.items():
        if hash_label and name.endswith(str(hash_label)):
            return revision
    return None


async def _events(deps: Deps, scene: Scene) -> None:
    try:
        listing = await deps.gateway.list_events(scene.namespace, limit=500)
        scene.events = objs(listing.get("items"))
    except DebugError:
        scene.events = []


async def _level(deps: Deps, scene: Scene) -> None:
    try:
        ns = await deps.gateway.get_namespace(scene.namespace)
        scene.level = text(obj(obj(ns.get("metadata")).get("labels")).get("pod-security.kubernetes.io/enforce"))
    except DebugError:
        scene.level = None


# -- the logs that decide -----------------------------------------------------------------------------


async def _decisive_log(deps: Deps, pod: Pod, c: Container) -> tuple[str | None, str]:
    """(excerpt, which instance) from the previous instance, else the current one (the kubelet may have
    removed the previous instance already, or the container never restarted)."""
    attempts = [True, False] if c.restarts > 0 else [False]
    for previous in attempts:
        try:
            body, _, _ = await read_log_text(
                deps, pod, c.name, previous=previous, tail_lines=200, limit_bytes=LOG_BYTES
            )
        except DebugError:
            continue
        if not body.strip() or is_kubelet_message(body):
            continue
        excerpt = log_excerpt(body)
        if excerpt:
            return excerpt, "previous instance" if previous else "current instance"
    return None, ""


# -- findings for one pod ----------------------------------------------------------------------------------


def _describe_exit(state: State) -> str:
    parts = [state.reason or "terminated"]
    if state.exit_code is not None:
        parts.append(f"exit {state.exit_code}")
    meaning = exit_meaning(state.exit_code, state.signal, state.reason)
    if meaning and meaning.startswith(parts[-1] + ":"):
        meaning = meaning[len(parts[-1]) + 1 :].strip()
    return ", ".join(parts) + (f": {meaning}" if meaning else "")


def _probe_events(scene: Scene, pod: Pod, container: str) -> tuple[list[Json], list[Json]]:
    """(Unhealthy events, Killing-for-liveness events) of a container, newest first."""
    mine = [e for e in scene.events_of("Pod", pod.name) if _event_container(e) in (container, None)]
    unhealthy = _newest(e for e in mine if e.get("reason") == "Unhealthy")
    killed = _newest(e for e in mine if e.get("reason") == "Killing" and "liveness" in _message(e).lower())
    return unhealthy, killed


async def _crash_finding(deps: Deps, scene: Scene, pod: Pod, c: Container) -> tuple[int, Finding] | None:
    """A container that terminated (now or last time) and restarts, or a run-to-completion pod that failed."""
    state, last = c.state, c.last_termination
    ended = state if state.phase == "terminated" else last
    if ended is None:
        return None
    restarted = c.restarts > 0 or state.reason == "CrashLoopBackOff"
    failed = ended.failed or ended.reason in ("StartError", "ContainerCannotRun")
    never_restarts = pod.spec.get("restartPolicy") in ("Never", "OnFailure") and c.kind == "regular"
    if not (restarted or (failed and never_restarts)):
        return None
    where = f"{'init container' if c.kind == 'init' else 'container'} {c.name}"
    excerpt, instance = await _decisive_log(deps, pod, c)
    parts: list[str] = []
    if ended.message:
        parts.append(f"termination message: {one_line(ended.message)}")
    if excerpt:
        parts.append(f"log ({instance}): {excerpt}")
    evidence = f"{_describe_exit(ended)}; restarts={c.restarts}"
    unhealthy, killed = _probe_events(scene, pod, c.name)
    liveness = [e for e in unhealthy if "liveness" in _message(e).lower()]
    if killed or (liveness and (ended.exit_code in (137, 143) or ended.signal in (9, 15))):
        probe = obj(next((x.spec.get("livenessProbe") for x in pod.containers() if x.name == c.name), None))
        said = _message(liveness[0]) if liveness else _message(killed[0])
        return 0, Finding(
            severity="critical",
            pod=pod.name,
            container=c.name,
            title=f"killed by its liveness probe ({probe_target(probe)}), restarted {c.restarts}x",
            evidence=f"{sum(_count(e) for e in liveness)} failed liveness checks; then killed "
            f"({ended.reason or 'terminated'}, exit {ended.exit_code})",
            excerpt=said,
            next_step="fix the probe's path/port/timing or the endpoint it checks; exec wget from a debugger to "
            "see what the app answers",
        )
    if ended.reason == "OOMKilled":
        limit = c.memory_limit
        return 0, Finding(
            severity="critical",
            pod=pod.name,
            container=c.name,
            title=f"OOMKilled: {where} exceeded its memory limit {limit or '(none: the node ran out)'}",
            evidence=f"exit {ended.exit_code}, restarts={c.restarts}; resources.limits.memory={limit or 'unset'}",
            excerpt="\n".join(parts) or None,
            next_step="raise resources.limits.memory, or find what grows (the log above; a debugger with "
            f"target={c.name} to watch /proc)",
        )
    if not ended.failed and ended.reason == "Completed" and restarted and c.kind == "regular":
        return 1, Finding(
            severity="warning",
            pod=pod.name,
            container=c.name,
            title=f"{where} exits 0 (Completed) and is restarted {c.restarts}x",
            evidence="the command finishes instead of serving; restartPolicy Always starts it again",
            excerpt="\n".join(parts) or None,
            next_step="run one-shot work as a Job/CronJob, or make the command keep running",
        )
    how = f"exits {ended.exit_code}" if ended.exit_code is not None else (ended.reason or "terminated")
    if c.kind == "init":
        title = f"init container {c.name} fails ({how}), so the pod never starts"
    elif restarted:
        title = f"crash loop: {where} {how}, restarted {c.restarts}x"
    else:
        title = f"{where} failed: {how}"
    step = "fix what the log says" if excerpt or ended.message else "read pod_logs previous=true"
    if ended.exit_code in (126, 127) or ended.reason in ("StartError", "ContainerCannotRun"):
        step = "fix command/args to name an executable that exists in the image"
    elif ended.exit_code is not None and ended.exit_code > 128:
        step = "find who sent the signal: events (Killing), the node's memory, an operator"
    rs_spec = obj(c.spec.get("securityContext"))
    if rs_spec.get("readOnlyRootFilesystem") and excerpt and "read-only" in excerpt.lower():
        step = "mount an emptyDir where the app writes (readOnlyRootFilesystem is on)"
    return 0, Finding(
        severity="critical",
        pod=pod.name,
        container=c.name,
        title=title,
        evidence=evidence,
        excerpt="\n".join(parts) or None,
        next_step=step,
    )


async def _node_has_image(deps: Deps, node: str | None, image: str | None) -> str:
    if not node or not image:
        return ""
    try:
        images = objs(obj((await deps.gateway.get_node(node)).get("status")).get("images"))
    except DebugError:
        return ""
    present = any(image in (n for n in (i.get("names") or []) if isinstance(n, str)) for i in images)
    return f"node {node} {'has' if present else 'does not have'} {image}"


async def _waiting_finding(deps: Deps, scene: Scene, pod: Pod, c: Container) -> tuple[int, Finding] | None:
    state = c.state
    if state.phase != "waiting" or not state.reason:
        return None
    where = f"{'init container' if c.kind == 'init' else 'container'} {c.name}"
    message = one_line(state.message) if state.message else None
    if state.reason in IMAGE_PULL_FAILURES:
        policy = c.spec.get("imagePullPolicy")
        if state.reason == "ErrImageNeverPull" or policy == "Never":
            on_node = await _node_has_image(deps, pod.node, text(c.spec.get("image")))
            return 0, Finding(
                severity="critical",
                pod=pod.name,
                container=c.name,
                title=f"{state.reason}: image {c.spec.get('image')} is not on the node and pull policy is Never",
                evidence=on_node or f"node {pod.node}",
                excerpt=message,
                next_step="load the image onto the node (or use a tag it has), or allow pulling "
                "(imagePullPolicy IfNotPresent) from a registry the node can reach",
            )
        return 0, Finding(
            severity="critical",
            pod=pod.name,
            container=c.name,
            title=f"image cannot be pulled ({state.reason}): {c.spec.get('image')}",
            evidence=f"pull policy {policy or 'default'} on node {pod.node}",
            excerpt=message,
            next_step="fix the image name/tag, or the registry credentials (imagePullSecrets) and the node's reach",
        )
    if state.reason in CREATE_FAILURES:
        missing = missing_reference(message or "")
        return 0, Finding(
            severity="critical",
            pod=pod.name,
            container=c.name,
            title=f"{where} cannot be created ({state.reason})" + (f": {missing} is missing" if missing else ""),
            evidence=state.reason,
            excerpt=message,
            next_step=f"create {missing}, or fix the reference in the pod template"
            if missing
            else "fix the securityContext or the image's user (see the message)",
        )
    if state.reason == "ContainerCreating":
        mounts = _newest(e for e in scene.events_of("Pod", pod.name) if e.get("reason") == "FailedMount")
        if mounts:
            said = _message(mounts[0])
            missing = missing_reference(said)
            return 0, Finding(
                severity="critical",
                pod=pod.name,
                title="a volume cannot be mounted" + (f": {missing} not found" if missing else ""),
                evidence=f"FailedMount x{sum(_count(e) for e in mounts)}; stuck in ContainerCreating",
                excerpt=said,
                next_step=f"create {missing}, or fix the volume's reference" if missing else "see the message",
            )
    return None


async def _unscheduled_finding(deps: Deps, scene: Scene, pod: Pod) -> tuple[int, Finding] | None:
    cond = pod.condition("PodScheduled")
    if cond is None or cond.get("status") != "False":
        return None
    said = one_line(str(cond.get("message") or cond.get("reason") or "Unschedulable"))
    if "persistentvolumeclaim" in said.lower():
        for vol in objs(pod.spec.get("volumes")):
            claim = text(obj(vol.get("persistentVolumeClaim")).get("claimName"))
            if not claim:
                continue
            try:
                pvc = await deps.gateway.get_object(scene.namespace, "v1", "PersistentVolumeClaim", claim)
            except NotFound:
                return 0, Finding(
                    severity="critical",
                    pod=pod.name,
                    title=f'PersistentVolumeClaim "{claim}" does not exist',
                    evidence=said,
                    next_step=f"create the claim {claim} or fix the volume's claimName",
                )
            except DebugError:
                continue
            phase = text(obj((pvc or {}).get("status")).get("phase"))
            if phase != "Bound":
                why = _newest(scene.events_of("PersistentVolumeClaim", claim))
                return 0, Finding(
                    severity="critical",
                    pod=pod.name,
                    title=f"PersistentVolumeClaim {claim} is {phase or 'not bound'}, so the pod cannot be scheduled",
                    evidence=f"storageClassName={obj((pvc or {}).get('spec')).get('storageClassName') or 'unset'}",
                    excerpt=_message(why[0]) if why else said,
                    next_step="create a StorageClass with a provisioner (or set one on the claim), or a matching PV",
                )
    return 0, Finding(
        severity="critical",
        pod=pod.name,
        title="cannot be scheduled",
        evidence=str(cond.get("reason") or "Unschedulable"),
        excerpt=said,
        next_step="free or add capacity, or relax requests / nodeSelector / affinity / tolerations",
    )


async def _pod_findings(deps: Deps, scene: Scene, pod: Pod) -> None:
    unscheduled = await _unscheduled_finding(deps, scene, pod)
    if unscheduled is not None:
        scene.add(*unscheduled)
        return
    for c in pod.containers("init", "regular"):
        found = await _waiting_finding(deps, scene, pod, c) or await _crash_finding(deps, scene, pod, c)
        if found is not None:
            scene.add(*found)
            if c.kind == "init":
                return  # later containers wait for it
    claimed = {f.finding.container for f in scene.findings if f.finding.pod == pod.name}
    if pod.phase == "Running":
        for c in pod.containers("regular"):
            if c.ready is False and c.state.phase == "running":
                unhealthy, _ = _probe_events(scene, pod, c.name)
                readiness = [e for e in unhealthy if "readiness" in _message(e).lower()]
                probe = obj(c.spec.get("readinessProbe"))
                if readiness or probe:
                    scene.add(
                        1,
                        Finding(
                            severity="warning",
                            pod=pod.name,
                            container=c.name,
                            title=f"not ready: readiness probe {probe_target(probe)} fails",
                            evidence=f"{sum(_count(e) for e in readiness)} failed readiness checks; "
                            "the pod gets no Service traffic",
                            excerpt=_message(readiness[0]) if readiness else None,
                            next_step="point the probe at the port/path the app serves (exec wget from a "
                            "debugger to check)",
                        ),
                    )
                    claimed.add(c.name)
    for c in pod.containers("regular"):
        unhealthy, _ = _probe_events(scene, pod, c.name)
        if c.name in claimed or not unhealthy:
            continue
        said = _message(unhealthy[0])
        kind = said.split(" ", 1)[0].lower() if said.split(" ", 1)[0] in ("Liveness", "Readiness", "Startup") else ""
        probe = obj(c.spec.get(f"{kind}Probe")) if kind else {}
        scene.add(
            2,
            Finding(
                severity="warning",
                pod=pod.name,
                container=c.name,
                title=f"{kind or 'a'} probe failing" + (f" ({probe_target(probe)})" if probe else ""),
                evidence=f"Unhealthy x{sum(_count(e) for e in unhealthy)}",
                excerpt=said,
                next_step="check the probe's path/port/timeout against the app (exec wget from a debugger)",
            ),
        )


# -- the workload, its history and the namespace around it -------------------------------------------------


def _controller_events(scene: Scene) -> None:
    """FailedCreate and friends on the workload and the objects it owns (ReplicaSets, Jobs)."""
    names = {scene.target.split("/", 1)[1].split(" ")[0], *scene.revisions}
    workload_name = str(obj((scene.workload or {}).get("metadata")).get("name") or "")
    names.add(workload_name)
    failed = _newest(
        e
        for e in scene.events
        if e.get("type") == "Warning"
        and e.get("reason") in ("FailedCreate", "FailedCreatePodSandBox", "FailedScheduling")
        and obj(e.get("involvedObject")).get("kind") in ("ReplicaSet", "Job", "StatefulSet", "DaemonSet")
        and (_involved(e) in names or any(_involved(e).startswith(n + "-") for n in names if n))
    )
    if failed:
        said = _message(failed[0])
        cause = (
            "exceeded quota" if "exceeded quota" in said else "admission refused them" if "forbidden" in said else ""
        )
        scene.add(
            0,
            Finding(
                severity="critical",
                title="pods cannot be created" + (f" ({cause})" if cause else ""),
                evidence=f"{failed[0].get('reason')} x{sum(_count(e) for e in failed[:5])} on "
                f"{obj(failed[0].get('involvedObject')).get('kind')} {_involved(failed[0])}",
                excerpt=said,
                next_step="raise the ResourceQuota or lower the pod's requests"
                if "quota" in said
                else "fix what admission objects to (see the message)",
            ),
        )


def _fold(scene: Scene, pods: set[str] | None = None) -> Finding | None:
    """Take the first critical pod finding out of the list: a workload-level finding carries it."""
    candidates = [
        f
        for f in scene.findings
        if f.finding.severity == "critical" and f.finding.pod and (pods is None or f.finding.pod in pods)
    ]
    if not candidates:
        return None
    first = min(candidates).finding
    # Replicas failing the same way are said once, by the finding that carries the cause.
    scene.findings = [
        f for f in scene.findings if (f.finding.title, f.finding.container) != (first.title, first.container)
    ]
    return first


def _job_findings(scene: Scene) -> None:
    job = scene.workload
    if job is None or not scene.target.startswith(("Job/", "CronJob/")):
        return
    for cond in objs(obj(job.get("status")).get("conditions")):
        if cond.get("type") == "Failed" and cond.get("status") == "True":
            spec, status = obj(job.get("spec")), obj(job.get("status"))
            cause = _fold(scene)
            why = cause.title if cause else one_line(str(cond.get("message") or ""))
            scene.add(
                -1,
                Finding(
                    severity="critical",
                    pod=cause.pod if cause else None,
                    container=cause.container if cause else None,
                    title=f"Job failed: {cond.get('reason') or 'Failed'} after {status.get('failed', 0)} failed "
                    f"pod(s) (backoffLimit {spec.get('backoffLimit', 6)})",
                    evidence=why,
                    excerpt=cause.excerpt if cause else None,
                    next_step="fix that failure, then delete and re-create the Job (a failed Job does not retry)",
                ),
            )


def _rollout_finding(scene: Scene) -> None:
    """When the failing pods run the newest revision and an older one was healthy: what changed."""
    if not scene.templates or not scene.findings:
        return
    newest = max(scene.templates)
    failing = {f.finding.pod for f in scene.findings if f.finding.severity == "critical" and f.finding.pod}
    failing_revisions = {_revision_of(scene, p) for p in scene.pods if p.name in failing}
    if newest not in failing_revisions:
        return
    healthy_before = [r for r, (_, healthy, _) in scene.templates.items() if r < newest and healthy]
    if not healthy_before and len(scene.templates) < 2:
        return
    base = max(healthy_before) if healthy_before else max(r for r in scene.templates if r < newest)
    changes = template_changes(scene.templates[base][0], scene.templates[newest][0])
    if not changes:
        return
    created = parse_time(scene.templates[newest][2])
    when = f", rolled out {format_age(created, datetime.now(created.tzinfo))} ago" if created else ""
    # Fold the failure into the rollout finding: it is the "what changed" of that failure.
    cause = _fold(scene, {p for p in failing if p})
    if cause is None:
        return
    scene.add(
        -2,
        Finding(
            severity="critical",
            pod=cause.pod,
            container=cause.container,
            title=f"revision {newest}{when} fails ({cause.title}); revision {base} was "
            f"{'healthy' if healthy_before else 'the one before'}",
            evidence=f"changed in revision {newest}: " + "; ".join(changes[:4]),
            excerpt=cause.excerpt,
            next_step=f"fix revision {newest}'s change, or roll back: kubectl rollout undo {scene.target.lower()} "
            f"--to-revision={base}",
        ),
    )


def _workload_status(scene: Scene) -> None:
    workload = scene.workload
    if workload is None:
        return
    kind = scene.target.split("/", 1)[0]
    status, spec = obj(workload.get("status")), obj(workload.get("spec"))
    for cond in objs(status.get("conditions")):
        if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            scene.add(
                3,
                Finding(
                    severity="warning",
                    title="rollout stuck (progress deadline exceeded)",
                    evidence="ProgressDeadlineExceeded",
                    excerpt=one_line(str(cond.get("message") or "")) or None,
                    next_step="fix the failing pods, or roll back: kubectl rollout undo",
                ),
            )
    unavailable = integer(status.get("unavailableReplicas"))
    explained = any(f.finding.severity == "critical" for f in scene.findings)
    if kind in ("Deployment", "StatefulSet", "ReplicaSet") and unavailable and not explained:
        scene.add(
            4,
            Finding(
                severity="warning",
                title=f"{unavailable} of {spec.get('replicas', 1)} replicas unavailable",
                evidence=f"ready {status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}, "
                f"updated {status.get('updatedReplicas', 0)}",
                next_step="pod_status of its pods; events of the workload",
            ),
        )


async def _node_findings(deps: Deps, scene: Scene) -> None:
    for node in sorted({p.node for p in scene.pods if p.node})[:3]:
        try:
            raw = await deps.gateway.get_node(node)
        except DebugError:
            continue
        bad = [
            f"{c.get('type')}={c.get('status')}"
            for c in objs(obj(raw.get("status")).get("conditions"))
            if (c.get("type") == "Ready" and c.get("status") != "True")
            or (c.get("type") in ("MemoryPressure", "DiskPressure", "PIDPressure") and c.get("status") == "True")
        ]
        if bad:
            scene.add(
                1,
                Finding(
                    severity="critical",
                    title=f"node {node} is unhealthy: {', '.join(bad)}",
                    evidence="pods on it may be evicted or not start",
                    next_step="check the node (kubelet, disk, memory), or cordon and drain it",
                ),
            )


async def _namespace_problems(deps: Deps, namespace: str, skip: set[str]) -> tuple[list[tuple[str, str]], int]:
    """(pod or workload, problem) for every pod with a problem in the namespace (all pages, bounded)."""
    problems: dict[str, str] = {}
    scanned, token = 0, None
    deadline = time.monotonic() + SCAN_BUDGET_S
    now = deps.clock()
    while True:
        listing = await deps.gateway.list_pods(namespace, limit=500, continue_token=token)
        for raw in objs(listing.get("items")):
            scanned += 1
            pod = Pod(raw)
            if pod.name in skip:
                continue
            summary = summarize_pod(raw, now)
            if summary.problem is None:
                continue
            ref = pod.controller()
            owner = str(ref.get("name")) if ref else pod.name
            if ref is not None and ref.get("kind") == "ReplicaSet" and "-" in owner:
                owner = owner.rsplit("-", 1)[0]
            problems.setdefault(owner, _problem_line(pod, summary.status))
        token = text(obj(listing.get("metadata")).get("continue"))
        if not token or time.monotonic() > deadline:
            break
    return sorted(problems.items()), scanned


def _problem_line(pod: Pod, status: str) -> str:
    """`CrashLoopBackOff (last: OOMKilled, exit 137)`: the status and the last termination that explains it."""
    for c in pod.containers("init", "regular"):
        last = c.last_termination
        if last is not None and (last.failed or last.reason == "Completed"):
            return f"{status} (last: {last.reason or 'terminated'}, exit {last.exit_code})"
    return status


async def _siblings(deps: Deps, scene: Scene, *, healthy: bool) -> None:
    own = {p.name for p in scene.pods}
    try:
        problems, scanned = await _namespace_problems(deps, scene.namespace, own)
    except DebugError:
        return
    target_name = scene.target.split("/", 1)[1].split(" ")[0]
    problems = [(owner, problem) for owner, problem in problems if owner != target_name]
    if healthy:
        ready = sum(1 for p in scene.pods if summarize_pod(p.raw, deps.clock()).problem is None)
        title = f"{scene.target} is healthy ({ready}/{len(scene.pods)} pods ready)"
        if problems:
            title += f"; failing beside it: {', '.join(o for o, _ in problems[:6])}"
        scene.add(
            -3,
            Finding(
                severity="info" if not problems else "warning",
                title=title,
                evidence="; ".join(f"{o}: {p}" for o, p in problems[:6]) or f"{scanned} pods scanned, none failing",
                next_step=f"diagnose {problems[0][0]}" if problems else "nothing to fix here; check the caller side",
            ),
        )
    elif problems:
        scene.add(
            5,
            Finding(
                severity="info",
                title=f"also failing in {scene.namespace}: {', '.join(o for o, _ in problems[:5])}",
                evidence=f"{len(problems)} other workload(s) with problems among {scanned} pods",
                next_step=f"diagnose {problems[0][0]}",
            ),
        )


def _look_inside(scene: Scene) -> None:
    """The debugging next step that fits: a debugger targeting a running container, else a copy."""
    critical = [f.finding for f in sorted(scene.findings) if f.finding.severity != "info" and f.finding.pod]
    if not critical or critical[0].container is None:
        return
    pod = next((p for p in scene.pods if p.name == critical[0].pod), None)
    c = pod.container(critical[0].container) if pod else None
    if pod is None or c is None:
        return
    if c.state.phase == "running":
        why = "a debugger joins its processes and files, even without a shell in the image"
        step = f"add_debug_container target={c.name} {profile_for_level(scene.level)}, then inspect/exec"
    else:
        why = f"{c.name} is not running ({c.state.describe()}), so a debugger cannot join it"
        step = f"copy_pod replace_command={{'{c.name}': ['sleep', '3600']}} keeps a copy alive to look inside"
    scene.add(
        9, Finding(severity="info", pod=pod.name, container=c.name, title="look inside", evidence=why, next_step=step)
    )


# -- the tool -----------------------------------------------------------------------------------------------


async def diagnose(req: DiagnoseRequest, deps: Deps) -> DiagnoseResult:
    scene = Scene(namespace=req.namespace, target=f"Namespace/{req.namespace}")
    if req.name is not None:
        await _resolve(req, deps, scene)
    await asyncio.gather(_events(deps, scene), _level(deps, scene))
    now = deps.clock()
    if req.name is None:
        listing = await deps.gateway.list_pods(req.namespace, limit=500)
        pods = [Pod(p) for p in objs(listing.get("items"))]
        scene.pods = [p for p in pods if summarize_pod(p.raw, now).problem is not None]
    scene.pods.sort(key=lambda p: summarize_pod(p.raw, now).problem is None)
    examined = scene.pods[: req.max_pods]
    for pod in examined:
        await _pod_findings(deps, scene, pod)
    _job_findings(scene)
    _controller_events(scene)
    _rollout_finding(scene)
    _workload_status(scene)
    await _node_findings(
        deps,
        scene,
    )
    critical = any(f.finding.severity == "critical" for f in scene.findings)
    if req.name is not None:
        await _siblings(deps, scene, healthy=not scene.findings and bool(scene.pods))
    elif not scene.findings:
        scene.add(
            0,
            Finding(
                severity="info",
                title=f"nothing failing in {req.namespace}",
                evidence=f"{len(scene.pods)} pods with problems",
                next_step="—",
            ),
        )
    if not scene.pods and req.name is not None and not critical:
        scene.add(
            2,
            Finding(
                severity="warning",
                title="no pods",
                evidence=f"{scene.target} selects no pods",
                next_step="check replicas and the selector, and the controller's events",
            ),
        )
    _look_inside(scene)
    ranked = sorted(scene.findings)
    findings = _dedupe([r.finding for r in ranked])[:MAX_FINDINGS]
    return DiagnoseResult(
        namespace=req.namespace,
        target=scene.target,
        pods=[p.name for p in examined],
        findings=findings,
        pod_security=scene.level,
    )


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """One finding per (title, container) — replicas failing the same way say it once."""
    seen: set[tuple[str, str | None]] = set()
    out: list[Finding] = []
    for f in findings:
        key = (f.title, f.container)
        if key in seen:
            continue
        seen.add(key)
        out.append(f)
    return out
