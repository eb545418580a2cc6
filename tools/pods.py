"""The read tools: list pods, one pod's full status, and container logs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from k8s_debug_mcp.tools.copies import copy_expiry
from k8s_debug_mcp.tools.errors import DebugError, Forbidden, InvalidTarget, NotFound
from k8s_debug_mcp.tools.gateway import KubeGateway
from k8s_debug_mcp.tools.models import (
    ContainerInfo,
    ContainerKind,
    EventInfo,
    ListPodsRequest,
    ListPodsResult,
    OwnerInfo,
    PodConditionInfo,
    PodLogsRequest,
    PodLogsResult,
    PodRow,
    PodStatusRequest,
    PodStatusResult,
    Termination,
)
from k8s_debug_mcp.tools.patches import ANN_SOURCE, MARKER_EXPIRES, MARKER_KEY
from k8s_debug_mcp.tools.podview import container_entries, format_age, format_duration, parse_time, summarize_pod
from k8s_debug_mcp.tools.policy import Policy
from k8s_debug_mcp.tools.redact import mask_text
from k8s_debug_mcp.tools.text import cap_text, clean_text, decode_bytes, one_line

__all__ = ["list_pods", "pod_logs", "pod_status"]

Json = Mapping[str, Any]
_OWNER_DEPTH: Final = 4


def copy_note(pod: Json, now: datetime) -> str | None:
    """A line about our own debug copies: whose copy it is and whether it expired."""
    expires = copy_expiry(pod)
    if expires is None:
        return None
    source = _d(_d(pod.get("metadata")).get("annotations")).get(ANN_SOURCE) or "?"
    if expires <= now:
        return f"debug copy of {source}, expired {format_age(expires, now)} ago: cleanup can delete it"
    return f"debug copy of {source}, expires in {format_duration(expires - now)}"


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _d(value: object) -> Json:
    return value if isinstance(value, Mapping) else {}


def _opt_str(value: object, limit: int = 300) -> str | None:
    return one_line(str(value), limit) if value not in (None, "") else None


def _opt_int(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


# -- list_pods ----------------------------------------------------------------------


async def list_pods(req: ListPodsRequest, *, gateway: KubeGateway, policy: Policy) -> ListPodsResult:
    if req.namespace is not None:
        policy.check_namespace(req.namespace)
    now = _now()
    pod_list = await gateway.list_pods(
        req.namespace,
        label_selector=req.label_selector,
        field_selector=req.field_selector,
        limit=req.limit,
        continue_token=req.continue_token,
    )
    items = [i for i in pod_list.get("items") or [] if isinstance(i, Mapping)]
    hidden = 0
    if req.namespace is None and not policy.all_namespaces_allowed:
        visible = [i for i in items if policy.namespace_allowed(str(_d(i.get("metadata")).get("namespace")))]
        hidden = len(items) - len(visible)
        items = visible
    rows: list[PodRow] = []
    for pod in items:
        summary = summarize_pod(pod, now)
        if req.problems_only and summary.problem is None:
            continue
        meta, spec = _d(pod.get("metadata")), _d(pod.get("spec"))
        rows.append(
            PodRow(
                namespace=str(meta.get("namespace") or ""),
                name=str(meta.get("name") or ""),
                ready=f"{summary.ready}/{summary.total}",
                status=summary.status,
                restarts=summary.restarts,
                last_restart_at=_iso(summary.last_restart),
                created_at=_opt_str(meta.get("creationTimestamp")),
                node=_opt_str(spec.get("nodeName")),
                problem=summary.problem,
                note=copy_note(pod, now),
            )
        )
    list_meta = _d(pod_list.get("metadata"))
    return ListPodsResult(
        namespace=req.namespace,
        pods=rows,
        scanned=len(items),
        hidden_by_policy=hidden,
        problems_only=req.problems_only,
        continue_token=_opt_str(list_meta.get("continue"), 8192),
        remaining=_opt_int(list_meta.get("remainingItemCount")),
        observed_at=_iso(now) or "",
    )


# -- pod_status ---------------------------------------------------------------------


def _termination(term: Json) -> Termination:
    return Termination(
        reason=_opt_str(term.get("reason")),
        exit_code=_opt_int(term.get("exitCode")),
        signal=_opt_int(term.get("signal")) or None,
        message=_opt_str(term.get("message")),
        started_at=_opt_str(term.get("startedAt")),
        finished_at=_opt_str(term.get("finishedAt")),
    )


def _container_info(kind: ContainerKind, spec: Json, cs: Json) -> ContainerInfo:
    state = _d(cs.get("state"))
    fields: dict[str, Any] = {}
    if "running" in state:
        fields.update(state="running", started_at=_opt_str(_d(state["running"]).get("startedAt")))
    elif "terminated" in state:
        t = _termination(_d(state["terminated"]))
        fields.update(
            state="terminated",
            reason=t.reason,
            message=t.message,
            exit_code=t.exit_code,
            signal=t.signal,
            started_at=t.started_at,
            finished_at=t.finished_at,
        )
    elif "waiting" in state:
        w = _d(state["waiting"])
        fields.update(state="waiting", reason=_opt_str(w.get("reason")), message=_opt_str(w.get("message")))
    elif cs:
        fields.update(state="unknown")
    else:
        fields.update(state="waiting", reason="NoStatusYet")
    last = _d(_d(cs.get("lastState")).get("terminated"))
    if kind == "ephemeral":
        env = {str(e.get("name")): e.get("value") for e in (_d(x) for x in spec.get("env") or [])}
        if MARKER_KEY in env:
            fields.update(ours=True, expires_at=_opt_str(env.get(MARKER_EXPIRES)))
    return ContainerInfo(
        kind=kind,
        name=str(spec.get("name") or ""),
        image=_opt_str(cs.get("image") or spec.get("image")),
        ready=cs.get("ready") if isinstance(cs.get("ready"), bool) else None,
        restart_count=_opt_int(cs.get("restartCount")) or 0,
        last_termination=_termination(last) if last else None,
        target=_opt_str(spec.get("targetContainerName")),
        **fields,
    )


def _owner_detail(kind: str, obj: Json) -> str | None:
    spec, status = _d(obj.get("spec")), _d(obj.get("status"))
    if kind in ("ReplicaSet", "StatefulSet"):
        return f"ready {status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}"
    if kind == "Deployment":
        parts = [
            f"ready {status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
            f"updated {status.get('updatedReplicas', 0)}",
            f"available {status.get('availableReplicas', 0)}",
        ]
        for cond in status.get("conditions") or []:
            c = _d(cond)
            if c.get("type") == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded":
                parts.append("progress deadline exceeded")
        return ", ".join(parts)
    if kind == "DaemonSet":
        return f"ready {status.get('numberReady', 0)}/{status.get('desiredNumberScheduled', 0)}"
    if kind == "Job":
        return f"succeeded {status.get('succeeded', 0)}, failed {status.get('failed', 0)}"
    return None


def _controller_ref(meta: Json) -> Json | None:
    refs = [_d(r) for r in meta.get("ownerReferences") or []]
    for ref in refs:
        if ref.get("controller"):
            return ref
    return refs[0] if refs else None


async def _owner_chain(gateway: KubeGateway, namespace: str, pod_meta: Json) -> list[OwnerInfo]:
    chain: list[OwnerInfo] = []
    ref = _controller_ref(pod_meta)
    while ref is not None and len(chain) < _OWNER_DEPTH:
        kind, name = str(ref.get("kind") or "?"), str(ref.get("name") or "?")
        try:
            obj = await gateway.get_owner(namespace, str(ref.get("apiVersion") or ""), kind, name)
        except NotFound:
            chain.append(OwnerInfo(kind=kind, name=name, detail="not found (deleted?)"))
            break
        except Forbidden:
            chain.append(OwnerInfo(kind=kind, name=name, detail="not readable with these credentials"))
            break
        if obj is None:
            chain.append(OwnerInfo(kind=kind, name=name))
            break
        chain.append(OwnerInfo(kind=kind, name=name, detail=_owner_detail(kind, obj)))
        ref = _controller_ref(_d(obj.get("metadata")))
    return chain


def _event_time(ev: Json) -> str | None:
    series = _d(ev.get("series"))
    for candidate in (
        series.get("lastObservedTime"),
        ev.get("lastTimestamp"),
        ev.get("eventTime"),
        ev.get("firstTimestamp"),
        _d(ev.get("metadata")).get("creationTimestamp"),
    ):
        if isinstance(candidate, str) and candidate:
            return candidate
    return None


def _ts(value: str | None) -> datetime:
    return parse_time(value) or datetime.min.replace(tzinfo=UTC)


def distinct_events(items: list[Json], limit: int) -> tuple[list[EventInfo], int]:
    """Merge repeats of (type, reason, message), newest first; return (shown, omitted)."""
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    for ev in items:
        key = (
            str(ev.get("type") or "Normal"),
            str(ev.get("reason") or ""),
            mask_text(one_line(str(ev.get("message") or ""), 300))[0],
        )
        count = _opt_int(_d(ev.get("series")).get("count")) or _opt_int(ev.get("count")) or 1
        seen = _event_time(ev)
        source = _d(ev.get("source")).get("component") or ev.get("reportingComponent")
        entry = merged.get(key)
        if entry is None:
            merged[key] = {"count": count, "seen": seen, "source": source}
            continue
        entry["count"] += count
        if _ts(seen) > _ts(entry["seen"]):
            entry["seen"] = seen
    ordered = sorted(merged.items(), key=lambda kv: _ts(kv[1]["seen"]), reverse=True)
    shown = [
        EventInfo(
            type=k[0],
            reason=k[1],
            message=k[2],
            count=v["count"],
            last_seen_at=v["seen"],
            source=_opt_str(v["source"]),
        )
        for k, v in ordered[:limit]
    ]
    return shown, max(len(ordered) - limit, 0)


async def pod_status(req: PodStatusRequest, *, gateway: KubeGateway, policy: Policy) -> PodStatusResult:
    policy.check_namespace(req.namespace)
    now = _now()
    pod = await gateway.get_pod(req.namespace, req.pod)
    meta, spec, status = _d(pod.get("metadata")), _d(pod.get("spec")), _d(pod.get("status"))
    summary = summarize_pod(pod, now)

    events: list[EventInfo] = []
    omitted = 0
    if req.events_limit:
        selector = f"involvedObject.kind=Pod,involvedObject.name={req.pod}"
        if meta.get("uid"):
            selector += f",involvedObject.uid={meta['uid']}"
        try:
            ev_list = await gateway.list_events(req.namespace, field_selector=selector)
        except Forbidden:
            ev_list = {}
        events, omitted = distinct_events([_d(e) for e in ev_list.get("items") or []], req.events_limit)

    return PodStatusResult(
        namespace=req.namespace,
        name=req.pod,
        phase=str(status.get("phase") or "Unknown"),
        status=summary.status,
        node=_opt_str(spec.get("nodeName")),
        pod_ip=_opt_str(status.get("podIP")),
        qos_class=_opt_str(status.get("qosClass")),
        created_at=_opt_str(meta.get("creationTimestamp")),
        deleting=bool(meta.get("deletionTimestamp")),
        note=copy_note(pod, now),
        owners=await _owner_chain(gateway, req.namespace, meta),
        conditions=[
            PodConditionInfo(
                type=str(c.get("type") or ""),
                status=str(c.get("status") or ""),
                reason=_opt_str(c.get("reason")),
                message=_opt_str(c.get("message")),
                last_transition_at=_opt_str(c.get("lastTransitionTime")),
            )
            for c in (_d(x) for x in status.get("conditions") or [])
        ],
        containers=[_container_info(kind, c, cs) for kind, c, cs in container_entries(pod)],
        events=events,
        events_omitted=omitted,
        observed_at=_iso(now) or "",
    )


# -- pod_logs -----------------------------------------------------------------------


def _choose_container(pod: Json, wanted: str | None) -> tuple[str, str | None]:
    """(container, note): kubectl's default-container rules, validated against all three lists."""
    names = {str(c.get("name")): kind for kind, c, _ in container_entries(pod)}
    listing = ", ".join(f"{n} ({k})" for n, k in names.items()) or "none"
    name = str(_d(pod.get("metadata")).get("name") or "")
    if wanted is not None:
        if wanted not in names:
            raise InvalidTarget(
                f"Pod {name} has no container named {wanted!r}. Containers: {listing}.",
                hint="pass one of those names as container.",
            )
        return wanted, None
    regular = [str(c.get("name")) for c in _d(pod.get("spec")).get("containers") or [] if isinstance(c, Mapping)]
    default = _d(_d(pod.get("metadata")).get("annotations")).get("kubectl.kubernetes.io/default-container")
    if isinstance(default, str) and default in names:
        return default, None
    if not regular:
        raise InvalidTarget(f"Pod {name} has no containers.")
    if len(regular) == 1:
        return regular[0], None
    return regular[0], f"defaulted to container {regular[0]} out of: {listing}"


async def pod_logs(req: PodLogsRequest, *, gateway: KubeGateway, policy: Policy) -> PodLogsResult:
    policy.check_namespace(req.namespace)
    pod = await gateway.get_pod(req.namespace, req.pod)
    container, note = _choose_container(pod, req.container)
    try:
        raw, cut = await gateway.read_log(
            req.namespace,
            req.pod,
            container=container,
            previous=req.previous,
            tail_lines=req.tail_lines,
            since_seconds=req.since_seconds,
            timestamps=req.timestamps,
            max_bytes=req.limit_bytes,
        )
    except DebugError as exc:
        if req.previous and getattr(exc, "status", None) == 400:
            raise InvalidTarget(
                f"Container {container} of pod {req.pod} has no previous instance to read logs from.",
                hint="omit previous to read the current instance.",
            ) from None
        raise
    capped = cap_text(clean_text(decode_bytes(raw)), req.limit_bytes, keep="tail")
    text, masked = mask_text(capped.text)
    return PodLogsResult(
        namespace=req.namespace,
        pod=req.pod,
        container=container,
        previous=req.previous,
        text=text,
        lines=text.count("\n") + (1 if text and not text.endswith("\n") else 0),
        truncated=cut or capped.truncated,
        masked=masked,
        note=note,
    )
