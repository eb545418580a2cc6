"""What "the failure has manifested" means, as small checks over one namespace's objects.

Each check is a frozen dataclass with a `describe()` sentence (what a person would look
for) and `holds(view)`, evaluated against a `NamespaceView`: the pods, events, Jobs,
PVCs, ReplicaSets, Deployments and ResourceQuotas of one namespace as read by kubectl
(one `kubectl get` per poll for every namespace at once, see `runner.py`). Only `Logs`
reads more (a `kubectl logs` of one container, asked once the other checks hold).

Pods are found by their `app` label: every workload in the corpus labels its pods
`app=<workload name>`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]


@dataclass
class NamespaceView:
    """One namespace's objects at one moment, grouped by kind; `logs` fetches a container log."""

    namespace: str
    objects: dict[str, list[Obj]]
    logs: Callable[[str, str, bool], str | None]

    def of_kind(self, kind: str) -> list[Obj]:
        return self.objects.get(kind, [])

    def pods(self, app: str) -> list[Obj]:
        return [p for p in self.of_kind("Pod") if (p["metadata"].get("labels") or {}).get("app") == app]

    def named(self, kind: str, name: str) -> Obj | None:
        return next((o for o in self.of_kind(kind) if o["metadata"]["name"] == name), None)

    def container_statuses(self, app: str, container: str, *, init: bool = False) -> Iterator[tuple[Obj, Obj]]:
        """(pod, status) for every pod of `app` that reports `container`."""
        key = "initContainerStatuses" if init else "containerStatuses"
        for pod in self.pods(app):
            for status in pod.get("status", {}).get(key) or []:
                if status.get("name") == container:
                    yield pod, status


def last_termination(status: Obj) -> Obj | None:
    """The most recent terminated instance: the current state if terminated, else the last one."""
    state = status.get("state") or {}
    last = status.get("lastState") or {}
    found = state.get("terminated") or last.get("terminated")
    return found if isinstance(found, dict) else None


class Check(ABC):
    @abstractmethod
    def describe(self) -> str: ...

    @abstractmethod
    def holds(self, view: NamespaceView) -> bool: ...


def _kind(init: bool) -> str:
    return "init container" if init else "container"


@dataclass(frozen=True)
class Terminated(Check):
    """A container instance ended the given way, after at least `min_restarts` restarts."""

    app: str
    container: str
    min_restarts: int = 2
    exit_code: int | None = None
    reason: str | None = None
    message_contains: str | None = None
    init: bool = False

    def describe(self) -> str:
        parts = [f"{_kind(self.init)} {self.container} of app={self.app}: restartCount >= {self.min_restarts}"]
        if self.exit_code is not None:
            parts.append(f"last exit code {self.exit_code}")
        if self.reason:
            parts.append(f"reason {self.reason}")
        if self.message_contains:
            parts.append(f"message contains {self.message_contains!r}")
        return ", ".join(parts)

    def holds(self, view: NamespaceView) -> bool:
        for _, status in view.container_statuses(self.app, self.container, init=self.init):
            term = last_termination(status)
            if term is None or int(status.get("restartCount", 0)) < self.min_restarts:
                continue
            if self.exit_code is not None and term.get("exitCode") != self.exit_code:
                continue
            if self.reason and term.get("reason") != self.reason:
                continue
            if self.message_contains and self.message_contains not in (term.get("message") or ""):
                continue
            return True
        return False


@dataclass(frozen=True)
class Waiting(Check):
    """A container waits with this reason (and message)."""

    app: str
    container: str
    reason: str
    message_contains: str | None = None
    init: bool = False

    def describe(self) -> str:
        text = f"{_kind(self.init)} {self.container} of app={self.app} waiting: {self.reason}"
        return text + (f" ({self.message_contains!r})" if self.message_contains else "")

    def holds(self, view: NamespaceView) -> bool:
        for _, status in view.container_statuses(self.app, self.container, init=self.init):
            waiting = (status.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") == self.reason and (self.message_contains or "") in (waiting.get("message") or ""):
                return True
        return False


@dataclass(frozen=True)
class RunningNotReady(Check):
    """The container runs (never restarted) but is not ready."""

    app: str
    container: str

    def describe(self) -> str:
        return f"container {self.container} of app={self.app} running, 0 restarts, not ready"

    def holds(self, view: NamespaceView) -> bool:
        return any(
            "running" in (status.get("state") or {}) and not status.get("ready") and status.get("restartCount") == 0
            for _, status in view.container_statuses(self.app, self.container)
        )


@dataclass(frozen=True)
class Event(Check):
    """An event of this reason about an object of `kind` (whose name starts with `name_prefix`)."""

    kind: str
    reason: str
    message_contains: str = ""
    name_prefix: str = ""

    def describe(self) -> str:
        about = f"{self.kind} {self.name_prefix}*" if self.name_prefix else self.kind
        return f"event {self.reason} on {about}" + (f" with {self.message_contains!r}" if self.message_contains else "")

    def holds(self, view: NamespaceView) -> bool:
        for ev in view.of_kind("Event"):
            obj = ev.get("involvedObject") or {}
            if (
                ev.get("reason") == self.reason
                and obj.get("kind") == self.kind
                and str(obj.get("name", "")).startswith(self.name_prefix)
                and self.message_contains in (ev.get("message") or "")
            ):
                return True
        return False


@dataclass(frozen=True)
class Unschedulable(Check):
    """The scheduler set PodScheduled=False/Unschedulable with this message."""

    app: str
    message_contains: str

    def describe(self) -> str:
        return f"pods of app={self.app} Pending, PodScheduled False Unschedulable: {self.message_contains!r}"

    def holds(self, view: NamespaceView) -> bool:
        return any(
            c.get("type") == "PodScheduled"
            and c.get("status") == "False"
            and c.get("reason") == "Unschedulable"
            and self.message_contains in (c.get("message") or "")
            for pod in view.pods(self.app)
            for c in pod.get("status", {}).get("conditions") or []
        )


@dataclass(frozen=True)
class JobFailed(Check):
    name: str
    reason: str = "BackoffLimitExceeded"

    def describe(self) -> str:
        return f"Job {self.name} condition Failed=True, reason {self.reason}"

    def holds(self, view: NamespaceView) -> bool:
        job = view.named("Job", self.name) or {}
        return any(
            c.get("type") == "Failed" and c.get("status") == "True" and c.get("reason") == self.reason
            for c in job.get("status", {}).get("conditions") or []
        )


@dataclass(frozen=True)
class PvcPhase(Check):
    name: str
    phase: str

    def describe(self) -> str:
        return f"PersistentVolumeClaim {self.name} {self.phase}"

    def holds(self, view: NamespaceView) -> bool:
        pvc = view.named("PersistentVolumeClaim", self.name) or {}
        return bool(pvc.get("status", {}).get("phase") == self.phase)


@dataclass(frozen=True)
class QuotaSynced(Check):
    """The quota controller filled status.hard (before that, admission refuses every pod)."""

    name: str

    def describe(self) -> str:
        return f"ResourceQuota {self.name} has status.hard"

    def holds(self, view: NamespaceView) -> bool:
        quota = view.named("ResourceQuota", self.name) or {}
        return bool(quota.get("status", {}).get("hard"))


@dataclass(frozen=True)
class DeploymentAvailable(Check):
    """Every replica of the current revision is updated, ready and available."""

    name: str

    def describe(self) -> str:
        return f"Deployment {self.name} fully rolled out and available"

    def holds(self, view: NamespaceView) -> bool:
        dep = view.named("Deployment", self.name)
        if dep is None:
            return False
        want, status = dep["spec"].get("replicas", 1), dep.get("status", {})
        return bool(
            status.get("observedGeneration") == dep["metadata"].get("generation")
            and status.get("updatedReplicas") == want
            and status.get("availableReplicas") == want
            and status.get("replicas") == want
        )


@dataclass(frozen=True)
class DeploymentRevision(Check):
    name: str
    revision: int

    def describe(self) -> str:
        return f"Deployment {self.name} at revision {self.revision}"

    def holds(self, view: NamespaceView) -> bool:
        dep = view.named("Deployment", self.name) or {"metadata": {}}
        annotations = dep["metadata"].get("annotations") or {}
        return annotations.get("deployment.kubernetes.io/revision") == str(self.revision)


@dataclass(frozen=True)
class Logs(Check):
    """`kubectl logs [--previous]` of the container (of the first pod that has it) contains `text`."""

    app: str
    container: str
    text: str
    previous: bool = False
    init: bool = False

    def describe(self) -> str:
        flag = " --previous" if self.previous else ""
        return f"kubectl logs{flag} -c {self.container} (app={self.app}) contains {self.text!r}"

    def holds(self, view: NamespaceView) -> bool:
        for pod, status in view.container_statuses(self.app, self.container, init=self.init):
            last = (status.get("lastState") or {}).get("terminated")
            if self.previous and not last:
                continue
            out = view.logs(pod["metadata"]["name"], self.container, self.previous)
            if out is not None and self.text in out:
                return True
        return False


@dataclass(frozen=True)
class RevisionReady(Check):
    """The ReplicaSet of a Deployment's revision has this many ready replicas."""

    deployment: str
    revision: int
    ready: int

    def describe(self) -> str:
        return f"revision {self.revision} of Deployment {self.deployment}: {self.ready} ready replica(s)"

    def holds(self, view: NamespaceView) -> bool:
        for rs in view.of_kind("ReplicaSet"):
            meta = rs["metadata"]
            owners = {o.get("name") for o in meta.get("ownerReferences") or [] if o.get("kind") == "Deployment"}
            revision = (meta.get("annotations") or {}).get("deployment.kubernetes.io/revision")
            if self.deployment in owners and revision == str(self.revision):
                return int(rs.get("status", {}).get("readyReplicas") or 0) == self.ready
        return False
