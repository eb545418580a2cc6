"""Pure readings of Pod JSON: kubectl's STATUS column, readiness, restarts, problems, ages.

Inputs are Pod objects as the API server sends them (camelCase dicts); nothing here
does I/O, so every rule is unit-tested on literal dicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from k8s_debug_mcp.tools.kube import Json, Pod, format_age, obj, objs, parse_time

__all__ = ["PodSummary", "summarize_pod"]

_BENIGN_WAITING: Final = frozenset({"ContainerCreating", "PodInitializing"})
RECENT_RESTART: Final = timedelta(hours=1)
STUCK_PENDING: Final = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class PodSummary:
    status: str
    ready: int
    total: int
    restarts: int
    last_restart: datetime | None
    problem: str | None


def _is_sidecar(container: Json | None) -> bool:
    return container is not None and container.get("restartPolicy") == "Always"


def _terminated_reason(term: Json, prefix: str = "") -> str:
    if term.get("reason"):
        return prefix + str(term["reason"])
    if term.get("signal"):
        return f"{prefix}Signal:{term['signal']}"
    return f"{prefix}ExitCode:{term.get('exitCode', 0)}"


def _condition_true(pod: Json, kind: str) -> bool:
    condition = Pod(pod).condition(kind)
    return condition is not None and condition.get("status") == "True"


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def summarize_pod(pod: Json, now: datetime) -> PodSummary:
    """kubectl's printPod: STATUS, READY, RESTARTS, plus our problem verdict."""
    spec, status = obj(pod.get("spec")), obj(pod.get("status"))
    meta = obj(pod.get("metadata"))
    phase = str(status.get("phase") or "Unknown")
    reason = str(status.get("reason") or phase)
    if any(
        c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated" for c in objs(status.get("conditions"))
    ):
        reason = "SchedulingGated"

    init_specs = {str(c.get("name")): c for c in objs(spec.get("initContainers"))}
    total = len(objs(spec.get("containers"))) + sum(1 for c in init_specs.values() if _is_sidecar(c))
    ready = 0
    restarts = 0
    sidecar_restarts = 0
    last_restart: datetime | None = None
    sidecar_last_restart: datetime | None = None

    init_statuses = objs(status.get("initContainerStatuses"))
    initializing = False
    for i, cs in enumerate(init_statuses):
        count = int(cs.get("restartCount") or 0)
        restarts += count
        finished = parse_time(obj(obj(cs.get("lastState")).get("terminated")).get("finishedAt"))
        last_restart = _later(last_restart, finished)
        sidecar = _is_sidecar(init_specs.get(str(cs.get("name"))))
        if sidecar:
            sidecar_restarts += count
            sidecar_last_restart = _later(sidecar_last_restart, finished)
        state = obj(cs.get("state"))
        term, waiting = obj(state.get("terminated")), obj(state.get("waiting"))
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

    if not initializing or _condition_true(pod, "Initialized"):
        restarts = sidecar_restarts
        last_restart = sidecar_last_restart
        has_running = False
        for cs in reversed(objs(status.get("containerStatuses"))):
            restarts += int(cs.get("restartCount") or 0)
            finished = parse_time(obj(obj(cs.get("lastState")).get("terminated")).get("finishedAt"))
            last_restart = _later(last_restart, finished)
            state = obj(cs.get("state"))
            term, waiting = obj(state.get("terminated")), obj(state.get("waiting"))
            if waiting.get("reason"):
                reason = str(waiting["reason"])
            elif term:
                reason = _terminated_reason(term)
            elif cs.get("ready") and "running" in state:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(pod, "Ready") else "NotReady"

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


def _plainly_running(pod: Json, phase: str, reason: str, ready: int, total: int) -> bool:
    if not (phase == "Running" and reason == "Running" and ready == total):
        return False
    # STATUS skips a started sidecar's state (as kubectl does), so a sidecar that is not running
    # leaves it "Running": every init container must be running or have finished cleanly.
    for cs in objs(obj(pod.get("status")).get("initContainerStatuses")):
        state = obj(cs.get("state"))
        term = obj(state.get("terminated"))
        if "running" not in state and not (term and int(term.get("exitCode") or 0) == 0):
            return False
    scheduled = Pod(pod).condition("PodScheduled")  # False on a running pod is odd, but the full reading says so
    return scheduled is None or scheduled.get("status") != "False"


def _recent_restart(last_restart: datetime | None, now: datetime) -> str | None:
    if last_restart is not None and now - last_restart <= RECENT_RESTART:
        return f"restarted, last {format_age(last_restart, now)} ago"
    return None


def _problem(
    pod: Json,
    phase: str,
    reason: str,
    ready: int,
    total: int,
    last_restart: datetime | None,
    now: datetime,
    *,
    shortcut: bool = True,
) -> str | None:
    """Why a pod deserves attention, or None. Order: most specific first."""
    if shortcut and _plainly_running(pod, phase, reason, ready, total):
        # The common healthy pod, decided without reading its containers again: STATUS stays
        # "Running" only when no container is waiting with a reason or terminated and no init
        # container is unfinished (summarize_pod's loops), and all are ready, so only a recent
        # restart can still be news (tests/unit/test_podview.py checks this against the full reading).
        return _recent_restart(last_restart, now)
    if phase == "Succeeded":
        return None
    if phase == "Failed":
        return f"pod failed ({reason})"
    if phase == "Unknown" or reason == "Unknown":
        return "pod state unknown (node lost?)"
    scheduled = Pod(pod).condition("PodScheduled")
    if scheduled is not None and scheduled.get("status") == "False":
        return f"not scheduled ({scheduled.get('reason') or 'Unschedulable'})"
    for c in Pod(pod).containers("init", "regular"):
        state = obj(c.status.get("state"))
        waiting = obj(state.get("waiting"))
        wreason = str(waiting.get("reason") or "")
        if wreason and wreason not in _BENIGN_WAITING:
            return f"container {c.name} waiting: {wreason}"
        term = obj(state.get("terminated"))
        if c.kind == "regular" and term and int(term.get("exitCode") or 0) != 0:
            return f"container {c.name} terminated: {_terminated_reason(term)}"
    if reason.startswith("Init:") and not reason[5:].split("/")[0].isdigit():
        return f"init container failing ({reason})"
    if (restarted := _recent_restart(last_restart, now)) is not None:
        return restarted
    created = parse_time(obj(pod.get("metadata")).get("creationTimestamp")) if phase == "Pending" else None
    if created is not None and now - created > STUCK_PENDING:
        return f"pending for {format_age(created, now)} ({reason})"
    if phase == "Running" and ready < total and reason != "Terminating":
        started = parse_time(obj(pod.get("status")).get("startTime"))
        if started is None or now - started > timedelta(seconds=30):
            return f"not ready ({ready}/{total})"
    return None
