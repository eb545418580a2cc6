"""The read tools: list pods, one pod's full status, and container logs."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Final

from k8s_debug_mcp.tools.access import Need
from k8s_debug_mcp.tools.copies import copy_note
from k8s_debug_mcp.tools.deps import Deps, Gateway
from k8s_debug_mcp.tools.errors import DebugError, Forbidden, InvalidTarget, NotFound
from k8s_debug_mcp.tools.kube import (
    ENV_EXPIRES,
    Container,
    Json,
    JsonDict,
    Pod,
    State,
    integer,
    iso,
    obj,
    objs,
    parse_time,
    text,
)
from k8s_debug_mcp.tools.models import (
    ContainerInfo,
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
from k8s_debug_mcp.tools.podview import summarize_pod
from k8s_debug_mcp.tools.secrets import masker_for
from k8s_debug_mcp.tools.text import cap_text, clean_text, decode_bytes, one_line
from k8s_debug_mcp.tools.waiting import discard, events_named

__all__ = [
    "LIST_NEEDS",
    "LOGS_NEEDS",
    "STATUS_NEEDS",
    "distinct_events",
    "list_pods",
    "pod_logs",
    "pod_status",
    "read_log_text",
]

LIST_NEEDS: Final = (Need("list", "pods"),)
STATUS_NEEDS: Final = (Need("get", "pods"), Need("list", "events"))
LOGS_NEEDS: Final = (Need("get", "pods", "log"),)
_OWNER_DEPTH: Final = 4
SCAN_PAGE: Final = 500
SCAN_BUDGET_S: Final = 10.0
"""problems_only scans every page within this time; past it, the answer says where it stopped."""
LOG_MARGIN: Final = 8 * 1024
"""Read this much more than asked, so masking sees whole secrets before the cut."""


# -- list_pods ----------------------------------------------------------------------


async def _pages(req: ListPodsRequest, deps: Deps, namespace: str | None) -> tuple[list[Pod], Json]:
    """One page, or — with problems_only — every page, within a time budget (the last page's metadata)."""
    if not req.problems_only:
        listing = await deps.gateway.list_pods(
            namespace,
            label_selector=req.label_selector,
            field_selector=req.field_selector,
            limit=req.limit,
            continue_token=req.continue_token,
        )
        return [Pod(i) for i in objs(listing.get("items"))], obj(listing.get("metadata"))
    pods: list[Pod] = []
    token = req.continue_token
    deadline = time.monotonic() + SCAN_BUDGET_S
    while True:
        listing = await deps.gateway.list_pods(
            namespace,
            label_selector=req.label_selector,
            field_selector=req.field_selector,
            limit=SCAN_PAGE,
            continue_token=token,
        )
        pods += [Pod(i) for i in objs(listing.get("items"))]
        meta = obj(listing.get("metadata"))
        token = text(meta.get("continue"))
        if not token or time.monotonic() > deadline:
            return pods, meta
        await deps.progress(f"scanned {len(pods)} pods")


async def list_pods(req: ListPodsRequest, deps: Deps) -> ListPodsResult:
    policy = deps.policy
    now = deps.clock()
    namespace: str | None = None if req.all_namespaces else req.namespace
    note: str | None = None
    try:
        pods, list_meta = await _pages(req, deps, namespace)
    except Forbidden:
        if namespace is not None:
            raise
        # A namespace-scoped identity: say so, and answer for the namespace it works in.
        namespace = await deps.gateway.default_namespace()
        policy.check_namespace(namespace)
        note = f"this identity may not list pods in all namespaces; listed namespace {namespace} instead"
        pods, list_meta = await _pages(req, deps, namespace)
    hidden = 0
    if namespace is None and not policy.all_namespaces_allowed:
        visible = [p for p in pods if policy.namespace_allowed(p.namespace)]
        hidden = len(pods) - len(visible)
        pods = visible
    rows: list[PodRow] = []
    more = 0
    for pod in pods:
        summary = summarize_pod(pod.raw, now)
        if req.problems_only and summary.problem is None:
            continue
        if req.problems_only and len(rows) >= req.limit:
            more += 1
            continue
        rows.append(
            PodRow(
                namespace=pod.namespace if namespace is None else None,
                name=pod.name,
                ready=f"{summary.ready}/{summary.total}",
                status=summary.status,
                restarts=summary.restarts or None,
                last_restart_at=iso(summary.last_restart) if summary.last_restart else None,
                created=text(pod.meta.get("creationTimestamp")),
                node=pod.node,
                problem=summary.problem,
                note=copy_note(pod, deps.owner, now),
            )
        )
    return ListPodsResult(
        namespace=namespace,
        note=note,
        pods=rows,
        scanned=len(pods),
        hidden_by_policy=hidden or None,
        problems_only=req.problems_only or None,
        problems_not_shown=more or None,
        continue_token=text(list_meta.get("continue")),
        remaining=integer(list_meta.get("remainingItemCount")),
        observed_at=iso(now),
    )


# -- pod_status ---------------------------------------------------------------------


def termination(state: State) -> Termination:
    return Termination(
        reason=state.reason,
        exit_code=state.exit_code,
        signal=state.signal,
        message=one_line(state.message) if state.message else None,
        started_at=state.started_at,
        finished_at=state.finished_at,
    )


def _container_info(pod: Pod, c: Container, deps: Deps) -> ContainerInfo:
    fields: JsonDict = {}
    state = c.state
    if not c.has_status:
        fields.update(state="waiting", reason="NoStatusYet")
    else:
        fields.update(
            state=state.phase,
            reason=state.reason,
            message=one_line(state.message) if state.message else None,
            exit_code=state.exit_code,
            signal=state.signal,
            started_at=state.started_at,
            finished_at=state.finished_at,
        )
    if c.kind == "ephemeral" and deps.owner.owns_container(pod, c):
        fields.update(ours=True, expires_at=c.env(ENV_EXPIRES))
    last = c.last_termination
    return ContainerInfo(
        kind=c.kind,
        name=c.name,
        image=c.image,
        ready=c.ready,
        restart_count=c.restarts,
        last_termination=termination(last) if last else None,
        target=c.target,
        **fields,
    )


def _owner_detail(kind: str, raw: Json) -> str | None:
    spec, status = obj(raw.get("spec")), obj(raw.get("status"))
    if kind in ("ReplicaSet", "StatefulSet"):
        return f"ready {status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}"
    if kind == "Deployment":
        parts = [
            f"ready {status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
            f"updated {status.get('updatedReplicas', 0)}",
            f"available {status.get('availableReplicas', 0)}",
        ]
        if any(
            c.get("type") == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded"
            for c in objs(status.get("conditions"))
        ):
            parts.append("progress deadline exceeded")
        return ", ".join(parts)
    if kind == "DaemonSet":
        return f"ready {status.get('numberReady', 0)}/{status.get('desiredNumberScheduled', 0)}"
    if kind == "Job":
        return f"succeeded {status.get('succeeded', 0)}, failed {status.get('failed', 0)}"
    return None


async def owner_chain(gateway: Gateway, namespace: str, pod: Pod) -> list[OwnerInfo]:
    chain: list[OwnerInfo] = []
    ref = pod.controller()
    while ref is not None and len(chain) < _OWNER_DEPTH:
        kind, name = str(ref.get("kind") or "?"), str(ref.get("name") or "?")
        try:
            found = await gateway.get_object(namespace, str(ref.get("apiVersion") or ""), kind, name)
        except NotFound:
            chain.append(OwnerInfo(kind=kind, name=name, detail="not found (deleted?)"))
            break
        except Forbidden:
            chain.append(OwnerInfo(kind=kind, name=name, detail="not readable with these credentials"))
            break
        if found is None:
            chain.append(OwnerInfo(kind=kind, name=name))
            break
        chain.append(OwnerInfo(kind=kind, name=name, detail=_owner_detail(kind, found)))
        ref = Pod({"metadata": obj(found.get("metadata"))}).controller()
    return chain


def event_time(ev: Json) -> str | None:
    for candidate in (
        obj(ev.get("series")).get("lastObservedTime"),
        ev.get("lastTimestamp"),
        ev.get("eventTime"),
        ev.get("firstTimestamp"),
        obj(ev.get("metadata")).get("creationTimestamp"),
    ):
        if isinstance(candidate, str) and candidate:
            return candidate
    return None


def _ts(value: str | None) -> datetime:
    return parse_time(value) or datetime.min.replace(tzinfo=UTC)


def distinct_events(items: list[Json], limit: int) -> tuple[list[EventInfo], int]:
    """Merge repeats of (type, reason, object field, message), newest first; return (shown, omitted).

    Events about different containers stay apart (their involvedObject.fieldPath differs).
    """
    merged: dict[tuple[str, str, str, str], JsonDict] = {}
    for ev in items:
        field = str(obj(ev.get("involvedObject")).get("fieldPath") or "")
        key = (
            str(ev.get("type") or "Normal"),
            str(ev.get("reason") or ""),
            field,
            one_line(str(ev.get("message") or "")),
        )
        count = integer(obj(ev.get("series")).get("count")) or integer(ev.get("count")) or 1
        seen = event_time(ev)
        entry = merged.get(key)
        if entry is None:
            source = obj(ev.get("source")).get("component") or ev.get("reportingComponent")
            merged[key] = {"count": count, "seen": seen, "source": text(source)}
            continue
        entry["count"] += count
        if _ts(seen) > _ts(entry["seen"]):
            entry["seen"] = seen
    ordered = sorted(merged.items(), key=lambda kv: _ts(kv[1]["seen"]), reverse=True)
    shown = [
        EventInfo(
            type=k[0],
            reason=k[1],
            message=k[3],
            count=v["count"],
            last_seen_at=v["seen"],
            source=v["source"],
            container=_field_container(k[2]),
        )
        for k, v in ordered[:limit]
    ]
    return shown, max(len(ordered) - limit, 0)


def _field_container(field_path: str) -> str | None:
    """`spec.containers{app}` -> `app`."""
    if "{" in field_path and field_path.endswith("}"):
        return field_path[field_path.index("{") + 1 : -1] or None
    return None


def pod_events(named: list[Json], pod: Pod, limit: int) -> tuple[list[EventInfo], int]:
    """The events of this pod among those of its name: an earlier pod of the same name (a
    StatefulSet's, a recreated one) has another uid, and its events are not this pod's."""
    mine = [e for e in named if not pod.uid or obj(e.get("involvedObject")).get("uid") == pod.uid]
    return distinct_events(mine, limit)


async def pod_status(req: PodStatusRequest, deps: Deps) -> PodStatusResult:
    now = deps.clock()
    # The pod and the events of its name in one round trip rather than two.
    named = asyncio.create_task(events_named(deps.gateway, req.namespace, req.pod)) if req.events_limit else None
    try:
        pod = Pod(await deps.gateway.get_pod(req.namespace, req.pod))
        events, omitted = pod_events(await named, pod, req.events_limit) if named is not None else ([], 0)
    except BaseException:
        if named is not None:
            await discard(named)
        raise
    summary = summarize_pod(pod.raw, now)
    return PodStatusResult(
        namespace=req.namespace,
        name=req.pod,
        phase=pod.phase,
        status=summary.status,
        node=pod.node,
        pod_ip=text(pod.status.get("podIP")),
        qos_class=text(pod.status.get("qosClass")),
        created=text(pod.meta.get("creationTimestamp")),
        deleting=pod.deleting,
        note=copy_note(pod, deps.owner, now),
        owners=await owner_chain(deps.gateway, req.namespace, pod),
        conditions=[
            PodConditionInfo(
                type=str(c.get("type") or ""),
                status=str(c.get("status") or ""),
                reason=text(c.get("reason")),
                message=one_line(str(c["message"])) if text(c.get("message")) else None,
                last_transition_at=text(c.get("lastTransitionTime")),
            )
            for c in objs(pod.status.get("conditions"))
        ],
        containers=[_container_info(pod, c, deps) for c in pod.containers()],
        events=events,
        events_omitted=omitted,
        observed_at=iso(now),
    )


# -- pod_logs -----------------------------------------------------------------------


def choose_container(pod: Pod, wanted: str | None) -> tuple[str, str | None]:
    """(container, note): kubectl's default-container rules, validated against all three lists."""
    if wanted is not None:
        if pod.container(wanted) is None:
            raise InvalidTarget(
                f"Pod {pod.name} has no container named {wanted!r}. Containers: {pod.listing()}.",
                hint="pass one of those names as container.",
            )
        return wanted, None
    regular = [c.name for c in pod.containers("regular")]
    default = pod.annotations.get("kubectl.kubernetes.io/default-container")
    if isinstance(default, str) and pod.container(default) is not None:
        return default, None
    if not regular:
        raise InvalidTarget(f"Pod {pod.name} has no containers.")
    if len(regular) == 1:
        return regular[0], None
    return regular[0], f"defaulted to container {regular[0]} out of: {pod.listing()}"


async def read_log_text(
    deps: Deps,
    pod: Pod,
    container: str,
    *,
    previous: bool,
    tail_lines: int | None,
    limit_bytes: int,
    since_seconds: int | None = None,
    timestamps: bool = False,
) -> tuple[str, bool, int]:
    """A container's log as (masked text capped to limit_bytes keeping the newest, cut?, masked count).

    Reads a margin more than asked and masks before cutting, so no secret is left half-cut.
    """
    raw, cut = await deps.gateway.read_log(
        pod.namespace,
        pod.name,
        container=container,
        previous=previous,
        tail_lines=tail_lines,
        since_seconds=since_seconds,
        timestamps=timestamps,
        max_bytes=limit_bytes + LOG_MARGIN,
    )
    masker = await masker_for(deps.secrets, [pod.raw])
    masked, count = masker.mask(clean_text(decode_bytes(raw)))
    capped = cap_text(masked, limit_bytes, keep="tail")
    return capped.text, cut or capped.truncated, count


async def pod_logs(req: PodLogsRequest, deps: Deps) -> PodLogsResult:
    pod = Pod(await deps.gateway.get_pod(req.namespace, req.pod))
    container, note = choose_container(pod, req.container)
    try:
        body, truncated, masked = await read_log_text(
            deps,
            pod,
            container,
            previous=req.previous,
            tail_lines=req.tail_lines,
            limit_bytes=req.limit_bytes,
            since_seconds=req.since_seconds,
            timestamps=req.timestamps,
        )
    except DebugError as exc:
        if req.previous and getattr(exc, "status", None) == 400:
            raise InvalidTarget(
                f"Container {container} of pod {req.pod} has no previous instance to read logs from.",
                hint="omit previous to read the current instance.",
            ) from None
        raise
    return PodLogsResult(
        namespace=req.namespace,
        pod=req.pod,
        container=container,
        previous=req.previous,
        text=body,
        lines=body.count("\n") + (1 if body and not body.endswith("\n") else 0),
        truncated=truncated,
        masked=masked,
        note=note,
    )
