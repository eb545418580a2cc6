"""Deploy corpus cases and wait until their failures have manifested, one namespace per case.

    ns = create_namespace(kube, "config-error")
    deploy(kube, ns, BY_NAME["config-error"])
    wait_manifested(kube, ns, BY_NAME["config-error"], timeout=120)

or, for many cases at once (one `kubectl get -A` per poll for all of them, later stages
applied as soon as their namespace is ready for them):

    runs = [deploy(kube, create_namespace(kube, c.name), c) for c in CASES]
    wait_all_manifested(kube, runs, timeout=180)  # fills run.manifested_after / run.pending

kubectl (the `kube` fixture's `Kube`) seeds and reads; nothing here uses the code under test.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from dataclasses import dataclass, field

from tests.conftest import Kube
from tests.corpus.cases import Case
from tests.corpus.checks import Logs, NamespaceView, Obj

# What one poll reads (every namespace at once); Logs checks read logs on top.
KINDS = "pods,events,jobs,persistentvolumeclaims,replicasets,deployments,resourcequotas"
NAMESPACE_PREFIX = "t-corpus-"


def create_namespace(kube: Kube, case_name: str) -> str:
    """A fresh namespace for one case (t-corpus-<case>-<random>), with its default ServiceAccount."""
    name = f"{NAMESPACE_PREFIX}{case_name}"[:56].rstrip("-") + f"-{uuid.uuid4().hex[:5]}"
    kube.run("create", "namespace", name)
    kube.wait_until(
        f"default ServiceAccount in {name}",
        lambda: kube.run("get", "serviceaccount", "default", "-n", name, check=False) != "",
    )
    return name


@dataclass
class Run:
    """One case deployed in one namespace, and how far it got."""

    case: Case
    namespace: str
    started: float = field(default_factory=time.monotonic)
    stage: int = 0  # the last stage applied
    manifested_after: float | None = None  # seconds from deploy to "all checks hold"
    pending: list[str] = field(default_factory=list)  # checks (or stage gates) not holding at the last look
    observed: str = ""  # the namespace's pods and containers when the failure had manifested

    @property
    def manifested(self) -> bool:
        return self.manifested_after is not None


def deploy(kube: Kube, namespace: str, case: Case) -> Run:
    """Apply the case's first stage (its namespace setup and first workloads)."""
    kube.apply(namespace, list(case.stages[0].manifests))
    return Run(case, namespace)


def snapshot(kube: Kube, namespaces: set[str]) -> dict[str, dict[str, list[Obj]]]:
    """namespace -> kind -> objects, for the given namespaces, from one kubectl call."""
    if len(namespaces) == 1:
        (only,) = namespaces
        items = json.loads(kube.run("get", KINDS, "-n", only, "-o", "json"))["items"]
    else:
        items = json.loads(kube.run("get", KINDS, "--all-namespaces", "-o", "json"))["items"]
    grouped: dict[str, dict[str, list[Obj]]] = {ns: {} for ns in namespaces}
    for item in items:
        ns = item["metadata"].get("namespace")
        if ns in grouped:
            grouped[ns].setdefault(item["kind"], []).append(item)
    return grouped


def view_of(kube: Kube, namespace: str, objects: dict[str, list[Obj]]) -> NamespaceView:
    cache: dict[tuple[str, str, bool], str | None] = {}

    def logs(pod: str, container: str, previous: bool) -> str | None:
        key = (pod, container, previous)
        if key not in cache:
            args = ["logs", "-n", namespace, pod, "-c", container, *(["--previous"] if previous else [])]
            out = kube.run(*args, check=False, timeout=20)
            cache[key] = out or None
        return cache[key]

    return NamespaceView(namespace, objects, logs)


def step(kube: Kube, run: Run, view: NamespaceView) -> None:
    """Advance one run with a fresh view: apply the next stage once the current stage's
    `ready` checks hold; after the last stage, record whether the failure has manifested
    (and which checks do not hold yet)."""
    if run.manifested:
        return
    stages = run.case.stages
    if run.stage + 1 < len(stages):
        run.pending = [f"stage {run.stage + 1} ready: {c.describe()}" for c in stages[run.stage].ready]
        if all(c.holds(view) for c in stages[run.stage].ready):
            run.stage += 1
            kube.apply(run.namespace, list(stages[run.stage].manifests))
            run.pending = [f"stage {run.stage + 1} just applied"]
        return
    # Cheap checks first; Logs checks (a kubectl call each) only once all the others hold.
    cheap = [c for c in run.case.manifested if not isinstance(c, Logs)]
    run.pending = [c.describe() for c in cheap if not c.holds(view)]
    if not run.pending:
        logs = [c for c in run.case.manifested if isinstance(c, Logs)]
        run.pending = [c.describe() for c in logs if not c.holds(view)]
    if not run.pending:
        run.manifested_after = round(time.monotonic() - run.started, 1)
        run.observed = summarize(view)


def summarize(view: NamespaceView) -> str:
    """One line per container: `pod-prefix/container state(reason) restarts=N last=exit(reason)`,
    plus Job and PVC conditions: what kubectl get/describe would show."""
    parts: list[str] = []
    for pod in view.of_kind("Pod"):
        app = (pod["metadata"].get("labels") or {}).get("app", pod["metadata"]["name"])
        status = pod.get("status", {})
        if not status.get("containerStatuses") and not status.get("initContainerStatuses"):
            parts.append(f"{app}: {status.get('phase')}")
        for key in ("initContainerStatuses", "containerStatuses"):
            for cs in status.get(key) or []:
                state_name, state = next(iter((cs.get("state") or {"?": {}}).items()))
                text = f"{app}/{cs['name']}{' (init)' if key.startswith('init') else ''}: {state_name}"
                if state.get("reason"):
                    text += f" {state['reason']}"
                if cs.get("ready"):
                    text += " ready"
                text += f" restarts={cs.get('restartCount', 0)}"
                last = state if state_name == "terminated" else (cs.get("lastState") or {}).get("terminated")
                if last:
                    text += f" exit={last.get('exitCode')}"
                parts.append(text)
    for job in view.of_kind("Job"):
        conds = [f"{c['type']}={c.get('reason', c['status'])}" for c in job.get("status", {}).get("conditions") or []]
        parts.append(f"job {job['metadata']['name']}: {', '.join(conds) or 'no conditions'}")
    for pvc in view.of_kind("PersistentVolumeClaim"):
        parts.append(f"pvc {pvc['metadata']['name']}: {pvc.get('status', {}).get('phase')}")
    warnings = sorted(
        {
            f"{e['reason']}({e['involvedObject']['kind']})"
            for e in view.of_kind("Event")
            if e.get("type") == "Warning" and e.get("reason") != "MissingClusterDNS"
        }
    )
    if warnings:
        parts.append(f"warnings: {' '.join(warnings)}")
    return "; ".join(parts)


def wait_all_manifested(kube: Kube, runs: list[Run], timeout: float) -> None:
    """Poll every run's namespace until all failures manifested or the deadline passed.

    Never raises on timeout: each run says how far it got (`manifested_after`, `pending`)."""
    namespaces = {r.namespace for r in runs}

    def all_done() -> bool:
        grouped = snapshot(kube, namespaces)
        for run in runs:
            if not run.manifested:
                step(kube, run, view_of(kube, run.namespace, grouped[run.namespace]))
        return all(r.manifested for r in runs)

    with contextlib.suppress(AssertionError):  # a timeout is reported per run
        kube.wait_until(f"{len(runs)} corpus failures to manifest", all_done, timeout)


def describe_state(kube: Kube, run: Run) -> str:
    """What a run's namespace looks like (for a failure message): pods, their containers, events."""
    pods = kube.run(
        "get",
        "pods",
        "-n",
        run.namespace,
        "-o",
        "custom-columns=POD:.metadata.name,PHASE:.status.phase,"
        "STATE:.status.containerStatuses[*].state,LAST:.status.containerStatuses[*].lastState,"
        "RESTARTS:.status.containerStatuses[*].restartCount",
        check=False,
    )
    events = kube.run(
        "get",
        "events",
        "-n",
        run.namespace,
        "--sort-by=.lastTimestamp",
        "-o",
        "custom-columns=KIND:.involvedObject.kind,NAME:.involvedObject.name,REASON:.reason,MESSAGE:.message",
        check=False,
    )
    return f"stage {run.stage + 1}/{len(run.case.stages)}; waiting for {run.pending}\n{pods}\n{events[-3000:]}"


def wait_manifested(kube: Kube, namespace: str, case: Case, timeout: float, run: Run | None = None) -> Run:
    """One case (deployed with `deploy`): wait until its failure manifested, or raise with its state."""
    run = run or Run(case, namespace)
    wait_all_manifested(kube, [run], timeout)
    if not run.manifested:
        raise AssertionError(f"{case.name}: not manifested after {timeout}s: {describe_state(kube, run)}")
    return run
