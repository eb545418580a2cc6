"""Planning a debugging copy of a pod (`kubectl debug --copy-to`): small pure steps, in kubectl's order.

1. `copy_spec`         the source's spec without ephemeral containers; shareProcessNamespace only when
                       asked (kubectl's "changed" flag); nodeName cleared unless same_node
2. `set_images`        --set-image on regular containers ('*' for all)
3. `replace_commands`  beyond kubectl: new argv for named containers, nothing else of them changed
4. `take_debugger`     -c NAME naming a container makes it the debugger, else a new one is appended;
                       image, command/args (or our sleeper), env (sorted), pull policy, stdin/tty
5. the profile         kubectl's, on the debugger (tools/profiles.py) and the pod: shared processes when
                       unset, and what COPY_DROPS removes unless kept. A copy without a debugger gets no
                       profile, like kubectl's --set-image-only copy
6. `merge_container`   `custom` strategic-merged on the debugger, like kubectl --custom
7. `strip`             labels, annotations, probes, init containers: what is not kept goes
8. `copy_metadata`     our label, stamps and owner proof
9. `kubectl_copy_command`, `kubectl_differences`  the kubectl command, and what it would do otherwise

What is kept (`kept`): the request's `keep` list when given, else kubectl's default for the profile —
except that a copy without a debugger drops labels and probes, which kubectl keeps there: a copy
carrying the workload's labels takes its Service's traffic and can be counted by its ReplicaSet, and
probes against a swapped image restart it. The answer says so (`differs`).
"""

from __future__ import annotations

import copy
import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from k8s_debug_mcp.tools.debug_plan import merge_container, random_suffix, session_flags
from k8s_debug_mcp.tools.errors import InvalidRequest, InvalidTarget
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
    objs,
)
from k8s_debug_mcp.tools.models import CopyPodRequest, Keepable
from k8s_debug_mcp.tools.ownership import Ownership
from k8s_debug_mcp.tools.profiles import COPY_DROPS, apply_profile, shares_processes

__all__ = [
    "ALL_KEPT",
    "CopyPlan",
    "copy_metadata",
    "copy_name",
    "copy_spec",
    "kept",
    "kubectl_copy_command",
    "plan_pod_copy",
    "replace_commands",
    "set_images",
    "take_debugger",
]

ALL_KEPT: Final[frozenset[Keepable]] = frozenset(
    ("labels", "annotations", "liveness", "readiness", "startup", "init_containers")
)
PROBES: Final[tuple[tuple[Keepable, str], ...]] = (
    ("liveness", "livenessProbe"),
    ("readiness", "readinessProbe"),
    ("startup", "startupProbe"),
)
_FIELD_NAMES: Final[dict[Keepable, str]] = {
    "labels": "labels",
    "annotations": "annotations",
    "liveness": "livenessProbe",
    "readiness": "readinessProbe",
    "startup": "startupProbe",
    "init_containers": "initContainers",
}
UNSAFE_WITHOUT_DEBUGGER: Final[frozenset[Keepable]] = frozenset(("labels", "liveness", "readiness", "startup"))


@dataclass
class _Notes:
    changes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    differs: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Debugger:
    """The copy's debugger: a new container, or an existing one taken over (-c NAME)."""

    container: JsonDict
    existing: bool
    image: str | None
    """The image this request set on it (None: an existing container keeps its own)."""
    sleeper: bool


def copy_name(source: str, suffix: Callable[[], str]) -> str:
    return f"{source[:200].rstrip('-.')}-debug-{suffix()}"


def kept(req: CopyPodRequest, *, debugger: bool) -> tuple[frozenset[Keepable], frozenset[Keepable]]:
    """(what this copy keeps, what kubectl keeps) of labels, annotations, probes and init containers."""
    flags: frozenset[Keepable] = frozenset(req.keep) if req.keep is not None else frozenset({"init_containers"})
    honoured = flags if req.profile != "legacy" else frozenset()
    by_kubectl = ALL_KEPT - (COPY_DROPS[req.profile] - honoured) if debugger else ALL_KEPT
    if req.keep is not None:
        return flags, by_kubectl
    return (by_kubectl if debugger else by_kubectl - UNSAFE_WITHOUT_DEBUGGER), by_kubectl


# -- the steps ------------------------------------------------------------------------------------


def copy_spec(source: Pod, req: CopyPodRequest, notes: _Notes) -> JsonDict:
    spec: JsonDict = copy.deepcopy(dict(source.spec))
    if spec.pop("ephemeralContainers", None):
        notes.changes.append("ephemeral containers not copied")
    if req.share_processes is not None and spec.get("shareProcessNamespace") is not req.share_processes:
        spec["shareProcessNamespace"] = req.share_processes
        notes.changes.append(f"shareProcessNamespace: {str(req.share_processes).lower()}")
    if not req.same_node and spec.pop("nodeName", None):
        notes.changes.append("nodeName cleared (the scheduler places the copy)")
    return spec


def _names(spec: JsonDict, key: str) -> list[str]:
    return [str(c.get("name")) for c in objs(spec.get(key))]


def set_images(spec: JsonDict, req: CopyPodRequest, source_name: str, notes: _Notes) -> set[str]:
    """kubectl --set-image: regular containers only; a named entry wins over '*'. Returns changed names."""
    wanted = req.set_image or {}
    regular = _names(spec, "containers")
    for name in wanted:
        if name != "*" and name not in regular:
            where = " (an init container: kubectl --set-image changes regular containers only)"
            raise InvalidTarget(
                f"Pod {source_name} has no regular container named {name!r}"
                f"{where if name in _names(spec, 'initContainers') else ''}. Containers: {', '.join(regular)}.",
                hint="use the names of the pod's containers (or '*' in set_image).",
            )
    changed: set[str] = set()
    for c in spec.get("containers") or []:
        image = wanted.get(str(c.get("name"))) or wanted.get("*")
        if image and image != c.get("image"):
            notes.changes.append(f"{c.get('name')}: image {c.get('image')} -> {image}")
            c["image"] = image
            changed.add(str(c.get("name")))
    return changed


def replace_commands(spec: JsonDict, req: CopyPodRequest, source_name: str, notes: _Notes) -> set[str]:
    """Beyond kubectl: a new command (args dropped) for each named container, init containers too."""
    wanted = req.replace_command or {}
    every = {*_names(spec, "containers"), *_names(spec, "initContainers")}
    for name in wanted:
        if name not in every:
            raise InvalidTarget(
                f"Pod {source_name} has no container named {name!r}. Containers: {', '.join(sorted(every))}.",
                hint="use the names of the pod's containers in replace_command.",
            )
    for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        argv = wanted.get(str(c.get("name")))
        if argv:
            c["command"] = list(argv)
            had_args = c.pop("args", None) is not None
            notes.changes.append(f"{c.get('name')}: command replaced by {shlex.join(argv)}")
            notes.differs.append(
                f"{c.get('name')}: command replaced{' (args removed)' if had_args else ''} here; kubectl debug sets "
                f"a command only on the container it debugs (-c {c.get('name')} -- ARGV, which also gives it the "
                "profile), one per call"
            )
    return set(wanted)


def _argv(req: CopyPodRequest) -> tuple[list[str] | None, list[str] | None]:
    """(command, args) as kubectl stores them: everything after -- is the command, unless only args."""
    opts = req.opts
    if opts.command is not None:
        return [*opts.command, *(opts.args or [])], None
    return None, list(opts.args) if opts.args is not None else None


def take_debugger(
    spec: JsonDict,
    req: CopyPodRequest,
    *,
    image: str,
    pull_policy: str | None,
    suffix: Callable[[], str],
    replaced: set[str],
    notes: _Notes,
) -> Debugger | None:
    """kubectl's -c NAME: an existing regular container becomes the debugger; else, with add_debugger, a new
    one. Its image, command (our sleeper when none is given), env, pull policy and stdin/tty are set."""
    opts = req.opts
    containers: list[JsonDict] = spec.setdefault("containers", [])
    if opts.name is not None and opts.name in _names(spec, "initContainers"):
        raise InvalidTarget(
            f"{opts.name} is an init container; the debugger of a copy must be a regular container.",
            hint="name a regular container, or a new name for an added debugger.",
        )
    existing = next((c for c in containers if c.get("name") == opts.name), None) if opts.name else None
    if existing is None and not req.add_debugger:
        return None
    if existing is not None and existing.get("name") in replaced:
        raise InvalidRequest(
            f"{opts.name} is both in replace_command and the debugger (options.name).",
            hint="set its command with options.command instead.",
        )
    if existing is None:
        taken = {*_names(spec, "containers"), *_names(spec, "initContainers")}
        name = opts.name or ""
        while not name or name in taken:
            name = f"debugger-{suffix()}"
        c: JsonDict = {"name": name, "terminationMessagePolicy": "File"}
        containers.append(c)
        set_image: str | None = image
    else:
        c = existing
        set_image = req.image
    command, args = _argv(req)
    sleeper = command is None and args is None
    if sleeper:
        command = ["sleep", str(req.ttl_seconds)]
    if command is not None:
        c["command"] = command
        c.pop("args", None)
    if args is not None:
        c["args"] = args
    if req.env:
        c["env"] = [{"name": k, "value": req.env[k]} for k in sorted(req.env)]  # kubectl sorts on a patch
    if set_image is not None:
        c["image"] = set_image
    policy = opts.image_pull_policy or (pull_policy if set_image is not None else None)
    if policy:
        c["imagePullPolicy"] = policy
    for flag, on in (("stdin", opts.stdin), ("tty", opts.tty)):
        if on:
            c[flag] = True
        else:
            c.pop(flag, None)
    if existing is not None:
        what = ", ".join(
            part
            for part, done in (
                (f"image {set_image}", set_image is not None),
                ("command " + shlex.join(c.get("command") or c.get("args") or []), True),
                ("env replaced", bool(req.env)),
            )
            if done
        )
        notes.changes.append(f"{c['name']} becomes the debugger (profile {req.profile}): {what}")
    return Debugger(c, existing is not None, set_image, sleeper)


def apply_copy_profile(spec: JsonDict, req: CopyPodRequest, dbg: Debugger, notes: _Notes) -> JsonDict:
    """kubectl's profile on the debugger, then `custom` merged on it, then shared processes."""
    containers: list[JsonDict] = spec["containers"]
    at = next(i for i, c in enumerate(containers) if c is dbg.container)
    container = apply_profile(req.profile, dbg.container, "copy")
    if req.opts.custom:
        container = merge_container(container, {**req.opts.custom, "name": container["name"]})
    containers[at] = container
    if shares_processes(req.profile) and "shareProcessNamespace" not in spec:
        spec["shareProcessNamespace"] = True
        notes.changes.append("shareProcessNamespace: true (every container sees every process)")
    return container


def strip(spec: JsonDict, keep: frozenset[Keepable], changed: set[str], notes: _Notes) -> None:
    """Probes of regular containers and init containers, unless kept."""
    for c in spec.get("containers") or []:
        for item, probe in PROBES:
            if item not in keep and c.pop(probe, None) is not None:
                notes.changes.append(f"{c.get('name')}: {probe} removed")
            elif item in keep and probe in c and c.get("name") in changed:
                notes.warnings.append(
                    f"{c.get('name')}: {probe} kept although its image or command changed; a failing probe "
                    "restarts the container."
                )
    if spec.get("initContainers") and "init_containers" not in keep:
        notes.changes.append(f"init containers dropped ({len(spec['initContainers'])})")
        spec.pop("initContainers")


def copy_metadata(
    source: Pod,
    req: CopyPodRequest,
    *,
    name: str,
    keep: frozenset[Keepable],
    now: datetime,
    expires: datetime,
    owner: Ownership | None,
    notes: _Notes,
) -> JsonDict:
    labels = dict(source.labels) if "labels" in keep else {}
    if source.labels and "labels" not in keep:
        notes.changes.append(f"labels dropped ({len(source.labels)}), so Services and controllers ignore the copy")
    if source.labels and "labels" in keep:
        notes.warnings.append(
            "labels kept: Services may send traffic to the copy, and a ReplicaSet whose selector matches may "
            "adopt it and delete a pod to restore its replica count."
        )
    labels[MANAGED_BY_LABEL] = MANAGED_BY
    annotations = dict(source.annotations) if "annotations" in keep else {}
    if source.annotations and "annotations" not in keep:
        notes.changes.append(f"annotations dropped ({len(source.annotations)})")
    created = iso(now)
    annotations.update({ANN_SOURCE: source.name, ANN_CREATED: created, ANN_EXPIRES: iso(expires)})
    if owner is not None:
        annotations[ANN_OWNER] = owner.pod_mark(req.namespace, name, created)
    return {"name": name, "namespace": req.namespace, "labels": labels, "annotations": annotations}


def kubectl_differences(
    source: Pod, req: CopyPodRequest, *, ours: frozenset[Keepable], by_kubectl: frozenset[Keepable], debugger: bool
) -> list[str]:
    """What the kubectl command would keep or drop otherwise, and why (beyond our markers)."""
    present: dict[Keepable, bool] = {
        "labels": bool(source.labels),
        "annotations": bool(source.annotations),
        "init_containers": bool(source.spec.get("initContainers")),
        **{item: any(probe in c for c in objs(source.spec.get("containers"))) for item, probe in PROBES},
    }
    out: list[str] = []
    for item in sorted(ours ^ by_kubectl):
        if not present[item]:
            continue
        verb = "keeps" if item in by_kubectl else "drops"
        what = _FIELD_NAMES[item]
        if not debugger and req.keep is None and item == "labels":
            why = "dropped here so no Service routes traffic to the copy and no ReplicaSet counts it"
        elif not debugger and req.keep is None:
            why = "dropped here: a probe the copy cannot pass would restart it"
        elif not debugger:
            why = "kubectl applies no profile to a copy without a debugger, so --keep-* has no effect"
        else:
            why = "kubectl's legacy profile drops labels and keeps the rest whatever --keep-* says"
        out.append(f"{what}: kubectl {verb} {'it' if what.endswith('Probe') else 'them'}; {why}")
    return out


def kubectl_copy_command(req: CopyPodRequest, *, source: str, name: str, dbg: Debugger | None) -> str | None:
    """The kubectl debug --copy-to command for this copy; None when kubectl cannot make one."""
    if dbg is None and not req.set_image:
        return None
    opts = req.opts
    argv = ["kubectl", "debug", "-n", req.namespace, source, f"--copy-to={name}"]
    if dbg is not None:
        argv.append(f"--profile={req.profile}")
    if req.share_processes is not None:
        argv.append(f"--share-processes={str(req.share_processes).lower()}")
    if req.same_node:
        argv.append("--same-node")
    argv += [f"--set-image={k}={v}" for k, v in (req.set_image or {}).items()]
    if dbg is not None and req.profile != "legacy":
        flags = set(req.keep) if req.keep is not None else {"init_containers"}
        argv += [
            f"--keep-{item}=true"
            for item in ("labels", "annotations", "liveness", "readiness", "startup")
            if item in flags
        ]
        if "init_containers" not in flags:
            argv.append("--keep-init-containers=false")
    tail: list[str] = []
    custom = ""
    if dbg is not None:
        if dbg.image is not None:
            argv.append(f"--image={dbg.image}")
        argv += ["-c", str(dbg.container["name"])]
        pull = dbg.container.get("imagePullPolicy") if (dbg.image is not None or opts.image_pull_policy) else None
        if pull:
            argv.append(f"--image-pull-policy={pull}")
        argv += session_flags(stdin=opts.stdin, tty=opts.tty, env=req.env)
        if opts.custom:
            custom = "--custom=<(echo " + shlex.quote(json.dumps(opts.custom, separators=(",", ":"))) + ")"
        command, args = dbg.container.get("command"), opts.args
        if opts.command is None and args is not None:
            tail = ["--arguments-only", "--", *args]
        else:
            tail = ["--", *(command or [])]
    if opts.replace:
        argv.append("--replace")
    parts = [shlex.quote(a) for a in argv]
    if custom:
        parts.append(custom)
    return " ".join(parts + [shlex.quote(a) for a in tail])


def _refuse_debugger_settings(req: CopyPodRequest) -> None:
    """image, env and the debugger's options configure a debugger; refuse them on a copy without one."""
    used = [k for k in req.opts.model_dump(exclude={"replace"}, exclude_defaults=True)]
    used = [*(["image"] if req.image else []), *(["env"] if req.env else []), *(f"options.{k}" for k in used)]
    if used:
        why = f"options.name {req.opts.name} names no container and " if req.opts.name else ""
        raise InvalidRequest(
            f"{', '.join(used)} configure a debugger, and this copy has none ({why}add_debugger is false).",
            hint="set add_debugger=true, or options.name to a container of the pod that becomes the debugger.",
        )


# -- the plan -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CopyPlan:
    name: str
    debugger: JsonDict | None
    manifest: JsonDict
    changes: list[str]
    warnings: list[str]
    expires_at: datetime
    kubectl: str | None
    differs: list[str]
    debugger_image: str | None = None
    """The image this request put on the debugger (a policy-checked debug image); None if it kept its own."""


def plan_pod_copy(
    source: Pod,
    req: CopyPodRequest,
    *,
    image: str,
    now: datetime,
    owner: Ownership | None,
    suffix: Callable[[], str] = random_suffix,
    pull_policy: str | None = None,
) -> CopyPlan:
    """kubectl debug --copy-to: a new pod from the source's spec, changed as kubectl does, marked as ours."""
    notes = _Notes()
    source_name = source.name or req.pod
    name = req.name or copy_name(source_name, suffix)
    expires = now + timedelta(seconds=req.ttl_seconds)
    spec = copy_spec(source, req, notes)
    changed = set_images(spec, req, source_name, notes)
    changed |= replace_commands(spec, req, source_name, notes)
    dbg = take_debugger(spec, req, image=image, pull_policy=pull_policy, suffix=suffix, replaced=changed, notes=notes)
    if dbg is None:
        _refuse_debugger_settings(req)
    container: JsonDict | None = None
    if dbg is not None:
        container = apply_copy_profile(spec, req, dbg, notes)
        dbg = Debugger(container, dbg.existing, dbg.image, dbg.sleeper)
        if not dbg.existing:
            notes.changes.append(f"added container {container['name']} ({dbg.image}, profile {req.profile})")
    ours, by_kubectl = kept(req, debugger=dbg is not None)
    if dbg is not None and dbg.existing:
        changed.add(str(dbg.container["name"]))
    strip(spec, ours, changed, notes)
    meta = copy_metadata(source, req, name=name, keep=ours, now=now, expires=expires, owner=owner, notes=notes)
    if container is not None:
        meta["annotations"][ANN_DEBUGGER] = container["name"]
    if req.opts.replace:
        notes.changes.append(f"the source pod {source_name} is deleted (grace period 0) once the copy exists")
        controller = source.controller()
        if controller is not None:
            notes.warnings.append(
                f"{controller.get('kind')} {controller.get('name')} manages {source_name} and will create a "
                "replacement pod after it is deleted."
            )
    differs = kubectl_differences(source, req, ours=ours, by_kubectl=by_kubectl, debugger=dbg is not None)
    kubectl = kubectl_copy_command(req, source=source_name, name=name, dbg=dbg)
    if kubectl is None:
        differs.insert(0, "no kubectl debug command makes this copy: kubectl needs --image, --set-image or a command")
    return CopyPlan(
        name=name,
        debugger=container,
        manifest={"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec},
        changes=notes.changes,
        warnings=notes.warnings,
        expires_at=expires,
        kubectl=kubectl,
        differs=[*notes.differs, *differs],
        debugger_image=dbg.image if dbg is not None else None,
    )
