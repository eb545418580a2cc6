"""Pure readings of Pod JSON: kubectl's STATUS column, readiness, restarts, problems, ages.

Inputs are Pod objects as the API server sends them (camelCase dicts); nothing here
does I/O, so every rule is unit-tested on literal dicts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from k8s_debug_mcp.tools.models import ContainerKind

__all__ = [
    "PodSummary",
    "container_entries",
    "format_age",
    "format_duration",
    "parse_time",
    "summarize_pod",
]

Json = Mapping[str, Any]

_BENIGN_WAITING: Final = frozenset({"ContainerCreating", "PodInitializing"})
RECENT_RESTART: Final = timedelta(hours=1)
STUCK_PENDING: Final = timedelta(minutes=5)


def parse_time(value: object) -> datetime | None:
    """RFC 3339 as the API server writes it (Z or offset, optional fraction)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_age(then: datetime | None, now: datetime) -> str:
    """kubectl-like short durations: 45s, 5m30s, 42m, 3h20m, 20h, 2d4h, 40d, 3y."""
    if then is None:
        return "<unknown>"
    return format_duration(now - then)


def format_duration(span: timedelta) -> str:
    seconds = max(int(span.total_seconds()), 0)
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if hours < 3:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    return f"{days // 365}y"


def _dict(value: object) -> Json:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Json]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


_KINDS: Final[tuple[tuple[ContainerKind, str, str], ...]] = (
    ("init", "initContainers", "initContainerStatuses"),
    ("regular", "containers", "containerStatuses"),
    ("ephemeral", "ephemeralContainers", "ephemeralContainerStatuses"),
)


def container_entries(pod: Json) -> Iterator[tuple[ContainerKind, Json, Json]]:
    """(kind, spec, status) for every init, regular and ephemeral container, in spec order."""
    spec, status = _dict(pod.get("spec")), _dict(pod.get("status"))
    for kind, spec_key, status_key in _KINDS:
        statuses = {str(s.get("name")): s for s in _list(status.get(status_key))}
        for c in _list(spec.get(spec_key)):
            yield kind, c, statuses.get(str(c.get("name")), {})


@dataclass(frozen=True, slots=True)
class PodSummary:
    status: str
    ready: int
    total: int
    restarts: int
    last_restart: datetime | None
    problem: str | None


def _is_sidecar(container: Json | None) -> bool:
    return bool(container) and _dict(container).get("restartPolicy") == "Always"


def _terminated_reason(term: Json, prefix: str = "") -> str:
    if term.get("reason"):
        return prefix + str(term["reason"])
    if term.get("signal"):
        return f"{prefix}Signal:{term['signal']}"
    return f"{prefix}ExitCode:{term.get('exitCode', 0)}"


def _condition(pod: Json, kind: str) -> Json | None:
    for cond in _list(_dict(pod.get("status")).get("conditions")):
        if cond.get("type") == kind:
            return cond
    return None


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def summarize_pod(pod: Json, now: datetime) -> PodSummary:
    """kubectl's printPod: STATUS, READY, RESTARTS, plus our problem verdict."""
    spec, status = _dict(pod.get("spec")), _dict(pod.get("status"))
    meta = _dict(pod.get("metadata"))
    phase = str(status.get("phase") or "Unknown")
    reason = str(status.get("reason") or phase)
    if any(
        c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated"
        for c in _list(status.get("conditions"))
    ):
        reason = "SchedulingGated"

    init_specs = {str(c.get("name")): c for c in _list(spec.get("initContainers"))}
    total = len(_list(spec.get("containers"))) + sum(1 for c in init_specs.values() if _is_sidecar(c))
    ready = 0
    restarts = 0
    sidecar_restarts = 0
    last_restart: datetime | None = None
    sidecar_last_restart: datetime | None = None

    init_statuses = _list(status.get("initContainerStatuses"))
    initializing = False
    for i, cs in enumerate(init_statuses):
        count = int(cs.get("restartCount") or 0)
        restarts += count
        finished = parse_time(_dict(_dict(cs.get("lastState")).get("terminated")).get("finishedAt"))
        last_restart = _later(last_restart, finished)
        sidecar = _is_sidecar(init_specs.get(str(cs.get("name"))))
        if sidecar:
            sidecar_restarts += count
            sidecar_last_restart = _later(sidecar_last_restart, finished)
        state = _dict(cs.get("state"))
        term, waiting = _dict(state.get("terminated")), _dict(state.get("waiting"))
        if term and int(term.get("exitCode") or 0) == 0:
            continue
        if sidecar and cs.get("started"):
            if cs.get("ready"):
                ready += 1
            continue
        if term:
            reason = _terminated_reason(term, "Init:")
        elif waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            reason = "Init:" + str(waiting["reason"])
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break

    initialized = _condition(pod, "Initialized")
    if not initializing or (initialized is not None and initialized.get("status") == "True"):
        restarts = sidecar_restarts
        last_restart = sidecar_last_restart
        has_running = False
        for cs in reversed(_list(status.get("containerStatuses"))):
            restarts += int(cs.get("restartCount") or 0)
            finished = parse_time(_dict(_dict(cs.get("lastState")).get("terminated")).get("finishedAt"))
            last_restart = _later(last_restart, finished)
            state = _dict(cs.get("state"))
            term, waiting = _dict(state.get("terminated")), _dict(state.get("waiting"))
            if waiting.get("reason"):
                reason = str(waiting["reason"])
            elif term:
                reason = _terminated_reason(term)
            elif cs.get("ready") and "running" in state:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            ready_cond = _condition(pod, "Ready")
            reason = "Running" if ready_cond is not None and ready_cond.get("status") == "True" else "NotReady"

    if meta.get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"

    return PodSummary(
        status=reason,
        ready=ready,
        total=total,
        restarts=restarts,
        last_restart=last_restart,
        problem=_problem(pod, phase, reason, ready, total, last_restart, now),
    )


def _problem(
    pod: Json,
    phase: str,
    reason: str,
    ready: int,
    total: int,
    last_restart: datetime | None,
    now: datetime,
) -> str | None:
    """Why a pod deserves attention, or None. Order: most specific first."""
    if phase == "Succeeded":
        return None
    if phase == "Failed":
        return f"pod failed ({reason})"
    if phase == "Unknown" or reason == "Unknown":
        return "pod state unknown (node lost?)"
    created = parse_time(_dict(pod.get("metadata")).get("creationTimestamp"))
    scheduled = _condition(pod, "PodScheduled")
    if scheduled is not None and scheduled.get("status") == "False":
        return f"not scheduled ({scheduled.get('reason') or 'Unschedulable'})"
    for kind, _spec, cs in container_entries(pod):
        if kind == "ephemeral":
            continue
        state = _dict(cs.get("state"))
        waiting = _dict(state.get("waiting"))
        wreason = str(waiting.get("reason") or "")
        if wreason and wreason not in _BENIGN_WAITING:
            return f"container {cs.get('name')} waiting: {wreason}"
        term = _dict(state.get("terminated"))
        if kind == "regular" and term and int(term.get("exitCode") or 0) != 0:
            return f"container {cs.get('name')} terminated: {_terminated_reason(term)}"
    if reason.startswith("Init:") and not reason[5:].split("/")[0].isdigit():
        return f"init container failing ({reason})"
    if last_restart is not None and now - last_restart <= RECENT_RESTART:
        return f"restarted, last {format_age(last_restart, now)} ago"
    if phase == "Pending" and created is not None and now - created > STUCK_PENDING:
        return f"pending for {format_age(created, now)} ({reason})"
    if phase == "Running" and ready < total and reason != "Terminating":
        started = parse_time(_dict(pod.get("status")).get("startTime"))
        if started is None or now - started > timedelta(seconds=30):
            return f"not ready ({ready}/{total})"
    return None
