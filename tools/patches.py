"""Pure builders: the ephemeral debug container, its PATCH body and the kubectl equivalent.

The dict `plan_debug_container` returns IS the preview shown to the user, the body sent
to the API server and the unit tests' snapshot.
"""

from __future__ import annotations

import copy
import hashlib
import json
import secrets
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from k8s_debug_mcp.tools.errors import InvalidTarget
from k8s_debug_mcp.tools.models import AddDebugContainerRequest, CopyPodRequest
from k8s_debug_mcp.tools.podview import container_entries
from k8s_debug_mcp.tools.profiles import adds_privileges, apply_profile

__all__ = [
    "ANN_CREATED",
    "ANN_EXPIRES",
    "ANN_SOURCE",
    "MANAGED_BY",
    "MANAGED_BY_LABEL",
    "MARKER_EXPIRES",
    "MARKER_KEY",
    "CopyPlan",
    "DebugPlan",
    "container_names",
    "ephemeral_patch",
    "merge_container",
    "plan_debug_container",
    "plan_pod_copy",
    "random_suffix",
    "seeded_suffix",
    "timeless",
]

# kubectl's alphabet for generated names (no vowels, no confusable characters).
NAME_ALPHABET: Final = "bcdfghjklmnpqrstvwxz2456789"
MARKER_KEY: Final = "K8S_DEBUG_MCP_KEY"
MARKER_EXPIRES: Final = "K8S_DEBUG_MCP_EXPIRES"
SLEEPER: Final = "<sleeper>"
MANAGED_BY_LABEL: Final = "app.kubernetes.io/managed-by"
MANAGED_BY: Final = "k8s-debug-mcp"
ANN_SOURCE: Final = "k8s-debug-mcp/source-pod"
ANN_CREATED: Final = "k8s-debug-mcp/created-at"
ANN_EXPIRES: Final = "k8s-debug-mcp/expires-at"
# Strategic-merge keys of list fields in a Container (patchMergeKey in the API types).
_MERGE_KEYS: Final = {
    "env": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
    "volumeDevices": "devicePath",
}

Json = Mapping[str, Any]


def random_suffix(n: int = 5) -> str:
    return "".join(secrets.choice(NAME_ALPHABET) for _ in range(n))


def seeded_suffix(seed: str, n: int = 5) -> Callable[[], str]:
    """Deterministic name suffixes from a seed: a preview and its confirmed apply pick the same name."""
    counter = 0

    def draw() -> str:
        nonlocal counter
        digest = hashlib.sha256(f"{seed}/{counter}".encode()).digest()
        counter += 1
        return "".join(NAME_ALPHABET[b % len(NAME_ALPHABET)] for b in digest[:n])

    return draw


def timeless(body: Any) -> Any:
    """A change body without its clock-dependent parts (expiry markers, creation stamps)."""
    if isinstance(body, dict):
        return {
            k: timeless(v)
            for k, v in body.items()
            if k not in (ANN_CREATED, ANN_EXPIRES) and not (k == "value" and body.get("name") == MARKER_EXPIRES)
        }
    if isinstance(body, list):
        return [timeless(v) for v in body]
    return body


def container_names(pod: Json) -> set[str]:
    """Names across containers, initContainers and ephemeralContainers (one namespace of names)."""
    return {str(c.get("name")) for _, c, _ in container_entries(pod)}


def merge_container(base: dict[str, Any], custom: Mapping[str, Any]) -> dict[str, Any]:
    """Strategic merge of a partial Container onto `base`, as `kubectl debug --custom` does.

    Maps merge recursively, a null deletes, lists with a merge key (env by name,
    volumeMounts by mountPath, ports by containerPort) merge item by item, other lists
    are replaced.
    """
    out = copy.deepcopy(base)
    for key, value in custom.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge_container(out[key], value)
        elif key in _MERGE_KEYS and isinstance(value, list) and isinstance(out.get(key), list):
            mk = _MERGE_KEYS[key]
            merged = [copy.deepcopy(i) for i in out[key]]
            for item in value:
                at = next(
                    (j for j, old in enumerate(merged) if isinstance(item, Mapping) and old.get(mk) == item.get(mk)),
                    None,
                )
                if at is None:
                    merged.append(copy.deepcopy(item))
                else:
                    merged[at] = merge_container(merged[at], item)
            out[key] = merged
        else:
            out[key] = copy.deepcopy(value)
    return out


def ephemeral_patch(pod: Json, container: dict[str, Any]) -> dict[str, Any]:
    """kubectl's body: CreateTwoWayMergePatch(pod, pod + container) on the subresource."""
    existing = [
        {"name": str(c.get("name"))}
        for c in (pod.get("spec") or {}).get("ephemeralContainers") or []
        if isinstance(c, Mapping)
    ]
    return {
        "spec": {
            "$setElementOrder/ephemeralContainers": [*existing, {"name": container["name"]}],
            "ephemeralContainers": [container],
        }
    }


@dataclass(frozen=True, slots=True)
class DebugPlan:
    name: str
    container: dict[str, Any]
    patch: dict[str, Any]
    key: str
    expires_at: datetime | None
    warnings: list[str]
    kubectl: str | None


def _spec_key(container: dict[str, Any]) -> str:
    """A stable fingerprint of what the debugger is, independent of its name and lifetime."""
    c = copy.deepcopy(container)
    c.pop("name", None)
    c["env"] = [e for e in c.get("env", []) if not str(e.get("name", "")).startswith("K8S_DEBUG_MCP_")]
    if c.get("command", [None])[0] == "sleep":
        c["command"] = [SLEEPER]
    return hashlib.sha256(json.dumps(c, sort_keys=True).encode()).hexdigest()[:16]


def _find(pod: Json, name: str) -> tuple[str, Json] | None:
    for kind, c, _ in container_entries(pod):
        if c.get("name") == name:
            return kind, c
    return None


def _run_as(pod: Json, target: Json) -> tuple[int | None, int | None]:
    pod_sc = (pod.get("spec") or {}).get("securityContext") or {}
    sc = target.get("securityContext") or {}
    user = sc.get("runAsUser", pod_sc.get("runAsUser"))
    group = sc.get("runAsGroup", pod_sc.get("runAsGroup"))
    return (user if isinstance(user, int) else None, group if isinstance(group, int) else None)


def plan_debug_container(
    pod: Json,
    req: AddDebugContainerRequest,
    *,
    image: str,
    now: datetime,
    suffix: Callable[[], str] = random_suffix,
) -> DebugPlan:
    """Validate the request against the pod and build the ephemeral container and patch."""
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    status = pod.get("status") or {}
    pod_name = str(meta.get("name") or req.pod)
    if (meta.get("annotations") or {}).get("kubernetes.io/config.mirror"):
        raise InvalidTarget(
            f"Pod {pod_name} is a static (mirror) pod; the API server refuses ephemeral containers for it.",
            hint="debug the node instead, or copy the pod.",
        )
    if status.get("phase") in ("Succeeded", "Failed"):
        raise InvalidTarget(
            f"Pod {pod_name} has completed (phase {status.get('phase')}); an ephemeral container cannot start in it.",
            hint="copy the pod with copy_pod to reproduce, or read pod_logs previous=true.",
        )
    names = container_names(pod)
    target: Json | None = None
    if req.target is not None:
        found = _find(pod, req.target)
        if found is None or found[0] == "ephemeral":
            regular = ", ".join(str(c.get("name")) for k, c, _ in container_entries(pod) if k in ("regular", "init"))
            raise InvalidTarget(
                f"Pod {pod_name} has no regular or init container named {req.target!r} to target. "
                f"Containers: {regular}.",
                hint="pass one of those as target.",
            )
        target = found[1]

    if req.name is not None:
        if req.name in names:
            raise InvalidTarget(
                f"Pod {pod_name} already has a container named {req.name!r}; names are unique across "
                "containers, init containers and ephemeral containers.",
                hint="choose another name or omit name for debugger-xxxxx.",
            )
        name = req.name
    else:
        name = ""
        while not name or name in names:
            name = f"debugger-{suffix()}"

    warnings: list[str] = []
    expires: datetime | None = None
    container: dict[str, Any] = {"name": name, "image": image}
    if req.command is not None:
        container["command"] = list(req.command)
    if req.args is not None:
        container["args"] = list(req.args)
    if req.command is None and req.args is None:
        container["command"] = ["sleep", str(req.ttl_seconds)]
        expires = now + timedelta(seconds=req.ttl_seconds)
    env = [{"name": k, "value": v} for k, v in (req.env or {}).items()]
    if env:
        container["env"] = env
    if req.working_dir:
        container["workingDir"] = req.working_dir
    if req.image_pull_policy:
        container["imagePullPolicy"] = req.image_pull_policy
    if req.stdin:
        container["stdin"] = True
    if req.tty:
        if not req.stdin:
            raise InvalidTarget("tty requires stdin (as with kubectl debug -t without -i).", hint="set stdin=true too.")
        container["tty"] = True
    container["terminationMessagePolicy"] = "File"
    if req.target is not None:
        container["targetContainerName"] = req.target
    container = apply_profile(req.profile, container)

    beyond_kubectl: dict[str, Any] = {}
    if req.mount_like_target:
        if target is None:
            raise InvalidTarget("mount_like_target needs a target container.", hint="pass target.")
        mounts, skipped = [], []
        for m in target.get("volumeMounts") or []:
            if m.get("subPath") or m.get("subPathExpr"):
                skipped.append(str(m.get("mountPath")))
                continue
            mounts.append({k: m[k] for k in ("name", "mountPath", "readOnly", "mountPropagation") if k in m})
        if skipped:
            warnings.append(
                f"not mounted (subPath is forbidden in ephemeral containers): {', '.join(skipped)}; "
                "read them through /proc/<pid>/root of the target's process."
            )
        if mounts:
            beyond_kubectl["volumeMounts"] = mounts
    if req.run_as_target:
        if target is None:
            raise InvalidTarget("run_as_target needs a target container.", hint="pass target.")
        user, group = _run_as(pod, target)
        if user:
            run_as: dict[str, Any] = {"runAsUser": user}
            if group is not None:
                run_as["runAsGroup"] = group
            beyond_kubectl["securityContext"] = run_as
        else:
            warnings.append(f"run_as_target: target {req.target} runs as root or an image default; nothing set.")
    if req.working_dir:
        beyond_kubectl["workingDir"] = req.working_dir
    container = merge_container(container, beyond_kubectl)
    if req.custom:
        container = merge_container(container, {**req.custom, "name": name})

    pod_user = ((spec.get("securityContext") or {}).get("runAsUser")) or 0
    sc = container.get("securityContext") or {}
    if pod_user and sc.get("runAsUser") != 0 and adds_privileges(container):
        warnings.append(
            "the pod runs as a non-root user, so capabilities or privileged mode from the profile may not "
            "take effect; set custom securityContext.runAsUser: 0 if the cluster allows it."
        )
    if req.profile == "restricted" and not sc.get("runAsUser"):
        warnings.append(
            "restricted sets runAsNonRoot: the image must declare a non-root user, or pass run_as_target=true "
            "(or custom securityContext.runAsUser), else the container fails with CreateContainerConfigError."
        )

    key = _spec_key(container)
    markers = [{"name": MARKER_KEY, "value": key}]
    if expires is not None:
        markers.append({"name": MARKER_EXPIRES, "value": expires.isoformat().replace("+00:00", "Z")})
    container["env"] = [*container.get("env", []), *markers]

    return DebugPlan(
        name=name,
        container=container,
        patch=ephemeral_patch(pod, container),
        key=key,
        expires_at=expires,
        warnings=warnings,
        kubectl=_kubectl_command(req, name=name, image=image, extra_custom={**beyond_kubectl, **(req.custom or {})}),
    )


def _kubectl_command(req: AddDebugContainerRequest, *, name: str, image: str, extra_custom: dict[str, Any]) -> str:
    """The same debugger with kubectl; our additions travel in --custom (bash process substitution)."""
    head = [
        "kubectl",
        "debug",
        "-n",
        req.namespace,
        req.pod,
        f"--image={image}",
        "-c",
        name,
        f"--profile={req.profile}",
    ]
    if req.target:
        head.append(f"--target={req.target}")
    if req.image_pull_policy:
        head.append(f"--image-pull-policy={req.image_pull_policy}")
    if req.stdin:
        head.append("-i")
    if req.tty:
        head.append("-t")
    head += [f"--env={k}={v}" for k, v in (req.env or {}).items()]
    if req.command is not None:
        tail = ["--", *req.command, *(req.args or [])]
    elif req.args is not None:
        tail = ["--arguments-only", "--", *req.args]
    else:
        tail = ["--", "sleep", str(req.ttl_seconds)]
    parts = [shlex.quote(a) for a in head]
    if extra_custom:
        parts.append("--custom=<(echo " + shlex.quote(json.dumps(extra_custom, separators=(",", ":"))) + ")")
    return " ".join(parts + [shlex.quote(a) for a in tail])


@dataclass(frozen=True, slots=True)
class CopyPlan:
    name: str
    debugger: str | None
    manifest: dict[str, Any]
    changes: list[str]
    warnings: list[str]
    expires_at: datetime
    kubectl: str


def _iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def plan_pod_copy(
    pod: Json,
    req: CopyPodRequest,
    *,
    image: str,
    now: datetime,
    suffix: Callable[[], str] = random_suffix,
) -> CopyPlan:
    """kubectl debug --copy-to: a new pod from the source's spec, stripped and marked as ours."""
    meta = pod.get("metadata") or {}
    spec = copy.deepcopy(dict(pod.get("spec") or {}))
    source = str(meta.get("name") or req.pod)
    name = req.name or f"{source[:200].rstrip('-.')}-debug-{suffix()}"
    expires = now + timedelta(seconds=req.ttl_seconds)
    changes: list[str] = []
    warnings: list[str] = []

    labels = dict(meta.get("labels") or {}) if req.keep_labels else {}
    if meta.get("labels") and not req.keep_labels:
        changes.append(f"labels dropped ({len(meta['labels'])}), so Services and controllers ignore the copy")
    if req.keep_labels and meta.get("labels"):
        warnings.append(
            "labels kept: Services may send traffic to the copy, and a ReplicaSet whose selector matches may "
            "adopt it and delete a pod to restore its replica count."
        )
    labels[MANAGED_BY_LABEL] = MANAGED_BY
    annotations = dict(meta.get("annotations") or {}) if req.keep_annotations else {}
    if meta.get("annotations") and not req.keep_annotations:
        changes.append(f"annotations dropped ({len(meta['annotations'])})")
    annotations.update({ANN_SOURCE: source, ANN_CREATED: _iso(now), ANN_EXPIRES: _iso(expires)})

    if spec.pop("ephemeralContainers", None):
        changes.append("ephemeral containers not copied")
    if not req.same_node and spec.pop("nodeName", None):
        changes.append("nodeName cleared (the scheduler places the copy)")
    if spec.get("initContainers") and not req.keep_init_containers:
        changes.append(f"init containers dropped ({len(spec['initContainers'])})")
        spec.pop("initContainers")

    containers: list[dict[str, Any]] = [dict(c) for c in spec.get("containers") or []]
    names = {str(c.get("name")) for c in containers} | {str(c.get("name")) for c in spec.get("initContainers") or []}
    for wanted in [*(req.set_image or {}), *(req.replace_command or {})]:
        if wanted != "*" and wanted not in names:
            raise InvalidTarget(
                f"Pod {source} has no container named {wanted!r}. Containers: {', '.join(sorted(names))}.",
                hint="use the names of the pod's containers (or '*' in set_image).",
            )
    for c in containers:
        cname = str(c.get("name"))
        new_image = (req.set_image or {}).get(cname) or (req.set_image or {}).get("*")
        if new_image and new_image != c.get("image"):
            changes.append(f"{cname}: image {c.get('image')} -> {new_image}")
            c["image"] = new_image
        if req.replace_command and cname in req.replace_command:
            c["command"] = list(req.replace_command[cname])
            c.pop("args", None)
            changes.append(f"{cname}: command replaced by {shlex.join(c['command'])}")
        for probe, keep in (
            ("livenessProbe", req.keep_liveness),
            ("readinessProbe", req.keep_readiness),
            ("startupProbe", req.keep_startup),
        ):
            if not keep and c.pop(probe, None) is not None:
                changes.append(f"{cname}: {probe} removed")

    debugger: str | None = None
    if req.add_debugger:
        debugger = ""
        while not debugger or debugger in names:
            debugger = f"debugger-{suffix()}"
        dbg: dict[str, Any] = {
            "name": debugger,
            "image": image,
            "command": ["sleep", str(req.ttl_seconds)],
            "terminationMessagePolicy": "File",
        }
        if req.env:
            dbg["env"] = [{"name": k, "value": v} for k, v in req.env.items()]
        dbg = apply_profile(req.profile, dbg)
        containers.append(dbg)
        changes.append(f"added container {debugger} ({image}, profile {req.profile})")
    spec["containers"] = containers
    if req.share_processes and not spec.get("shareProcessNamespace"):
        spec["shareProcessNamespace"] = True
        changes.append("shareProcessNamespace: true (every container sees every process)")
    elif not req.share_processes and spec.get("shareProcessNamespace"):
        spec["shareProcessNamespace"] = False
        changes.append("shareProcessNamespace: false")

    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": req.namespace, "labels": labels, "annotations": annotations},
        "spec": spec,
    }
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
    return CopyPlan(
        name=name,
        debugger=debugger,
        manifest=manifest,
        changes=changes,
        warnings=warnings,
        expires_at=expires,
        kubectl=kubectl,
    )
