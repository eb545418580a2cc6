"""Planning a debugging copy of a pod (`kubectl debug --copy-to`): small pure steps.

1. `copy_metadata`     a new name; labels/annotations per keep (dropped by default, so no
                       Service sends traffic to the copy); our labels, stamps and owner proof
2. `strip_spec`        no ephemeral containers, nodeName unless same_node, init containers per keep
3. `edit_containers`   set_image, replace_command, probes per keep
4. `copy_debugger`     the debug container (kubectl's fields + profile, our sleeper)
5. `share_processes`   shareProcessNamespace
6. `kubectl_copy_command`  the equivalent kubectl command
"""

from __future__ import annotations

import copy
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from k8s_debug_mcp.tools.debug_plan import random_suffix
from k8s_debug_mcp.tools.errors import InvalidTarget
from k8s_debug_mcp.tools.kube import (
    ANN_CREATED,
    ANN_DEBUGGER,
    ANN_EXPIRES,
    ANN_OWNER,
    ANN_SOURCE,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    JsonDict,
    Pod,
    iso,
)
from k8s_debug_mcp.tools.models import CopyPodRequest
from k8s_debug_mcp.tools.ownership import Ownership
from k8s_debug_mcp.tools.profiles import apply_profile

__all__ = [
    "CopyPlan",
    "copy_debugger",
    "copy_metadata",
    "copy_name",
    "edit_containers",
    "kubectl_copy_command",
    "plan_pod_copy",
    "share_processes",
    "strip_spec",
]


@dataclass
class _Notes:
    changes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def copy_name(source: str, suffix: Callable[[], str]) -> str:
    return f"{source[:200].rstrip('-.')}-debug-{suffix()}"


def copy_metadata(
    source: Pod,
    req: CopyPodRequest,
    *,
    name: str,
    now: datetime,
    expires: datetime,
    owner: Ownership | None,
    notes: _Notes,
) -> JsonDict:
    labels = dict(source.labels) if req.keep_labels else {}
    if source.labels and not req.keep_labels:
        notes.changes.append(f"labels dropped ({len(source.labels)}), so Services and controllers ignore the copy")
    if req.keep_labels and source.labels:
        notes.warnings.append(
            "labels kept: Services may send traffic to the copy, and a ReplicaSet whose selector matches may "
            "adopt it and delete a pod to restore its replica count."
        )
    labels[MANAGED_BY_LABEL] = MANAGED_BY
    annotations = dict(source.annotations) if req.keep_annotations else {}
    if source.annotations and not req.keep_annotations:
        notes.changes.append(f"annotations dropped ({len(source.annotations)})")
    created = iso(now)
    annotations.update({ANN_SOURCE: source.name, ANN_CREATED: created, ANN_EXPIRES: iso(expires)})
    if owner is not None:
        annotations[ANN_OWNER] = owner.pod_mark(req.namespace, name, created)
    return {"name": name, "namespace": req.namespace, "labels": labels, "annotations": annotations}


def strip_spec(source: Pod, req: CopyPodRequest, notes: _Notes) -> JsonDict:
    spec: JsonDict = copy.deepcopy(dict(source.spec))
    if spec.pop("ephemeralContainers", None):
        notes.changes.append("ephemeral containers not copied")
    if not req.same_node and spec.pop("nodeName", None):
        notes.changes.append("nodeName cleared (the scheduler places the copy)")
    if spec.get("initContainers") and not req.keep_init_containers:
        notes.changes.append(f"init containers dropped ({len(spec['initContainers'])})")
        spec.pop("initContainers")
    return spec


def edit_containers(spec: JsonDict, req: CopyPodRequest, source_name: str, notes: _Notes) -> list[JsonDict]:
    containers: list[JsonDict] = [dict(c) for c in spec.get("containers") or []]
    names = {str(c.get("name")) for c in containers} | {str(c.get("name")) for c in spec.get("initContainers") or []}
    for wanted in [*(req.set_image or {}), *(req.replace_command or {})]:
        if wanted != "*" and wanted not in names:
            raise InvalidTarget(
                f"Pod {source_name} has no container named {wanted!r}. Containers: {', '.join(sorted(names))}.",
                hint="use the names of the pod's containers (or '*' in set_image).",
            )
    for c in containers:
        cname = str(c.get("name"))
        new_image = (req.set_image or {}).get(cname) or (req.set_image or {}).get("*")
        if new_image and new_image != c.get("image"):
            notes.changes.append(f"{cname}: image {c.get('image')} -> {new_image}")
            c["image"] = new_image
        if req.replace_command and cname in req.replace_command:
            c["command"] = list(req.replace_command[cname])
            c.pop("args", None)
            notes.changes.append(f"{cname}: command replaced by {shlex.join(c['command'])}")
        for probe, keep in (
            ("livenessProbe", req.keep_liveness),
            ("readinessProbe", req.keep_readiness),
            ("startupProbe", req.keep_startup),
        ):
            if not keep and c.pop(probe, None) is not None:
                notes.changes.append(f"{cname}: {probe} removed")
    return containers


def copy_debugger(req: CopyPodRequest, *, taken: set[str], image: str, suffix: Callable[[], str]) -> JsonDict:
    name = ""
    while not name or name in taken:
        name = f"debugger-{suffix()}"
    dbg: JsonDict = {
        "name": name,
        "image": image,
        "command": ["sleep", str(req.ttl_seconds)],
        "terminationMessagePolicy": "File",
    }
    if req.env:
        dbg["env"] = [{"name": k, "value": req.env[k]} for k in sorted(req.env)]
    return apply_profile(req.profile, dbg)


def share_processes(spec: JsonDict, req: CopyPodRequest, notes: _Notes) -> None:
    if req.share_processes and not spec.get("shareProcessNamespace"):
        spec["shareProcessNamespace"] = True
        notes.changes.append("shareProcessNamespace: true (every container sees every process)")
    elif not req.share_processes and spec.get("shareProcessNamespace"):
        spec["shareProcessNamespace"] = False
        notes.changes.append("shareProcessNamespace: false")


def kubectl_copy_command(req: CopyPodRequest, *, source: str, name: str, image: str, debugger: str | None) -> str:
    argv = ["kubectl", "debug", "-n", req.namespace, source, f"--copy-to={name}", f"--profile={req.profile}"]
    argv.append(f"--share-processes={str(req.share_processes).lower()}")
    if req.same_node:
        argv.append("--same-node")
    argv += [f"--set-image={k}={v}" for k, v in (req.set_image or {}).items()]
    for flag, keep in (
        ("labels", req.keep_labels),
        ("annotations", req.keep_annotations),
        ("liveness", req.keep_liveness),
        ("readiness", req.keep_readiness),
        ("startup", req.keep_startup),
    ):
        if keep:
            argv.append(f"--keep-{flag}=true")
    if not req.keep_init_containers:
        argv.append("--keep-init-containers=false")
    if debugger:
        argv += [f"--image={image}", "-c", debugger, "--", "sleep", str(req.ttl_seconds)]
    kubectl = " ".join(shlex.quote(a) for a in argv)
    if req.replace_command:
        kubectl += "  # plus one more kubectl debug --copy-to per replaced command (-c <container> -- argv)"
    return kubectl


@dataclass(frozen=True, slots=True)
class CopyPlan:
    name: str
    debugger: JsonDict | None
    manifest: JsonDict
    changes: list[str]
    warnings: list[str]
    expires_at: datetime
    kubectl: str


def plan_pod_copy(
    source: Pod,
    req: CopyPodRequest,
    *,
    image: str,
    now: datetime,
    owner: Ownership | None,
    suffix: Callable[[], str] = random_suffix,
) -> CopyPlan:
    """kubectl debug --copy-to: a new pod from the source's spec, stripped and marked as ours."""
    notes = _Notes()
    name = req.name or copy_name(source.name or req.pod, suffix)
    expires = now + timedelta(seconds=req.ttl_seconds)
    meta = copy_metadata(source, req, name=name, now=now, expires=expires, owner=owner, notes=notes)
    spec = strip_spec(source, req, notes)
    containers = edit_containers(spec, req, source.name or req.pod, notes)
    debugger: JsonDict | None = None
    if req.add_debugger:
        taken = {str(c.get("name")) for c in containers} | {
            str(c.get("name")) for c in spec.get("initContainers") or []
        }
        debugger = copy_debugger(req, taken=taken, image=image, suffix=suffix)
        containers.append(debugger)
        meta["annotations"][ANN_DEBUGGER] = debugger["name"]
        notes.changes.append(f"added container {debugger['name']} ({image}, profile {req.profile})")
    spec["containers"] = containers
    share_processes(spec, req, notes)
    return CopyPlan(
        name=name,
        debugger=debugger,
        manifest={"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec},
        changes=notes.changes,
        warnings=notes.warnings,
        expires_at=expires,
        kubectl=kubectl_copy_command(
            req, source=source.name or req.pod, name=name, image=image, debugger=debugger["name"] if debugger else None
        ),
    )
