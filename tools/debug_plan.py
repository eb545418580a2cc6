"""Planning an ephemeral debugger: small pure steps, composed by `plan_debug_container`.

The dict a plan holds IS the preview shown to the user, the body sent to the API server
and the unit tests' snapshot. Steps, in kubectl's order and then ours:

1. `check_debuggable`    the pod can take an ephemeral container (not mirror, not completed)
2. `find_target`         --target names a regular or init container
3. `choose_name`         -c, or debugger-xxxxx unique across all three container lists
4. `kubectl_container`   image, command/args (or our sleeper), env (sorted), pull policy, stdin/tty
5. `apply_profile`       kubectl's profile (tools/profiles.py)
6. `mounts_like`, `user_of`   beyond kubectl: the target's volume mounts, its non-root user
7. `merge_container`     `custom` strategic-merged last, like kubectl --custom
8. `mark`                our markers: spec fingerprint (reuse), sleeper expiry, owner proof
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
from typing import Final

from k8s_debug_mcp.tools.errors import InvalidTarget
from k8s_debug_mcp.tools.kube import (
    ANN_CREATED,
    ANN_EXPIRES,
    ANN_OWNER,
    ENV_EXPIRES,
    ENV_KEY,
    ENV_OWNER,
    MARKER_PREFIX,
    Container,
    Json,
    JsonDict,
    Pod,
    iso,
    parse_time,
)
from k8s_debug_mcp.tools.models import AddDebugContainerRequest
from k8s_debug_mcp.tools.ownership import Ownership
from k8s_debug_mcp.tools.profiles import adds_privileges, apply_profile

__all__ = [
    "NAME_ALPHABET",
    "REUSE_MARGIN",
    "DebugPlan",
    "check_debuggable",
    "choose_name",
    "ephemeral_patch",
    "find_target",
    "kubectl_container",
    "merge_container",
    "mounts_like",
    "plan_debug_container",
    "random_suffix",
    "reusable",
    "seeded_suffix",
    "spec_key",
    "timeless",
    "user_of",
]

# kubectl's alphabet for generated names (no vowels, no confusable characters).
NAME_ALPHABET: Final = "bcdfghjklmnpqrstvwxz2456789"
SLEEPER: Final = "<sleeper>"
REUSE_MARGIN: Final = timedelta(seconds=60)
# Strategic-merge keys of list fields in a Container (patchMergeKey in the API types).
_MERGE_KEYS: Final = {
    "env": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
    "volumeDevices": "devicePath",
}


# -- names --------------------------------------------------------------------------------------


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


def choose_name(taken: set[str], requested: str | None, suffix: Callable[[], str], pod_name: str) -> str:
    if requested is not None:
        if requested in taken:
            raise InvalidTarget(
                f"Pod {pod_name} already has a container named {requested!r}; names are unique across "
                "containers, init containers and ephemeral containers.",
                hint="choose another name or omit name for debugger-xxxxx.",
            )
        return requested
    name = ""
    while not name or name in taken:
        name = f"debugger-{suffix()}"
    return name


def timeless(body: object) -> object:
    """A change body without its clock-dependent parts (expiry markers, creation stamps, the owner mark)."""
    if isinstance(body, dict):
        return {
            k: timeless(v)
            for k, v in body.items()
            if k not in (ANN_CREATED, ANN_EXPIRES, ANN_OWNER) and not (k == "value" and body.get("name") == ENV_EXPIRES)
        }
    if isinstance(body, list):
        return [timeless(v) for v in body]
    return body


# -- the steps ------------------------------------------------------------------------------------


def check_debuggable(pod: Pod) -> None:
    if pod.is_mirror:
        raise InvalidTarget(
            f"Pod {pod.name} is a static (mirror) pod; the API server refuses ephemeral containers for it.",
            hint="debug its node with debug_node, or copy the pod.",
        )
    if pod.phase in ("Succeeded", "Failed"):
        raise InvalidTarget(
            f"Pod {pod.name} has completed (phase {pod.phase}); an ephemeral container cannot start in it.",
            hint="copy the pod with copy_pod to reproduce, or read pod_logs previous=true.",
        )


def find_target(pod: Pod, target: str) -> Container:
    found = pod.container(target)
    if found is None or found.kind == "ephemeral":
        raise InvalidTarget(
            f"Pod {pod.name} has no regular or init container named {target!r} to target. "
            f"Containers: {', '.join(c.name for c in pod.containers('init', 'regular'))}.",
            hint="pass one of those as target.",
        )
    return found


def kubectl_container(
    req: AddDebugContainerRequest, *, name: str, image: str, now: datetime
) -> tuple[JsonDict, datetime | None]:
    """The container kubectl debug builds from its flags (before the profile); and the sleeper's expiry."""
    container: JsonDict = {"name": name, "image": image}
    expires: datetime | None = None
    if req.command is not None:  # kubectl: everything after -- is the command, args only with --arguments-only
        container["command"] = [*req.command, *(req.args or [])]
    elif req.args is not None:
        container["args"] = list(req.args)
    if req.command is None and req.args is None:
        container["command"] = ["sleep", str(req.ttl_seconds)]
        expires = now + timedelta(seconds=req.ttl_seconds)
    if req.env:
        container["env"] = [{"name": k, "value": req.env[k]} for k in sorted(req.env)]  # kubectl sorts --env
    if req.image_pull_policy:
        container["imagePullPolicy"] = req.image_pull_policy
    if req.tty and not req.stdin:
        raise InvalidTarget("tty requires stdin (as with kubectl debug -t without -i).", hint="set stdin=true too.")
    if req.stdin:
        container["stdin"] = True
    if req.tty:
        container["tty"] = True
    container["terminationMessagePolicy"] = "File"
    if req.target is not None:
        container["targetContainerName"] = req.target
    return container, expires


def mounts_like(target: Container) -> tuple[list[JsonDict], list[str]]:
    """The target's volume mounts (subPath ones cannot be: the API forbids them); (mounts, skipped paths)."""
    mounts: list[JsonDict] = []
    skipped: list[str] = []
    for m in target.spec.get("volumeMounts") or []:
        if not isinstance(m, Mapping):
            continue
        if m.get("subPath") or m.get("subPathExpr"):
            skipped.append(str(m.get("mountPath")))
            continue
        mounts.append({k: m[k] for k in ("name", "mountPath", "readOnly", "mountPropagation") if k in m})
    return mounts, skipped


def user_of(pod: Pod, target: Container) -> tuple[int | None, int | None]:
    """The target's effective runAsUser / runAsGroup (container over pod)."""
    pod_sc, sc = pod.security_context, target.security_context
    user = sc.get("runAsUser", pod_sc.get("runAsUser"))
    group = sc.get("runAsGroup", pod_sc.get("runAsGroup"))
    return (user if isinstance(user, int) else None, group if isinstance(group, int) else None)


def merge_container(base: JsonDict, custom: Json) -> JsonDict:
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


def spec_key(container: JsonDict, *, default_sleeper: bool, profile: str) -> str:
    """A stable fingerprint of what the debugger is, independent of its generated name and lifetime.

    The default sleeper's duration is left out (a retry later must find the same debugger);
    a command the caller chose, `sleep 100` included, is part of the key, and so is the profile
    asked for (legacy and baseline build the same container, but a request for one is not the other).
    """
    c = copy.deepcopy(container)
    c.pop("name", None)
    c["env"] = [e for e in c.get("env", []) if not str(e.get("name", "")).startswith(MARKER_PREFIX)]
    if default_sleeper:
        c["command"] = [SLEEPER]
    c[SLEEPER] = profile
    return hashlib.sha256(json.dumps(c, sort_keys=True).encode()).hexdigest()[:16]


def mark(container: JsonDict, *, key: str, expires: datetime | None, owner: str | None) -> JsonDict:
    markers: list[JsonDict] = [{"name": ENV_KEY, "value": key}]
    if expires is not None:
        markers.append({"name": ENV_EXPIRES, "value": iso(expires)})
    if owner is not None:
        markers.append({"name": ENV_OWNER, "value": owner})
    return {**container, "env": [*container.get("env", []), *markers]}


def ephemeral_patch(pod: Pod, container: JsonDict) -> JsonDict:
    """kubectl's body: CreateTwoWayMergePatch(pod, pod + container) on the subresource."""
    existing = [{"name": c.name} for c in pod.containers("ephemeral")]
    return {
        "spec": {
            "$setElementOrder/ephemeralContainers": [*existing, {"name": container["name"]}],
            "ephemeralContainers": [container],
        }
    }


def privilege_warnings(pod: Pod, container: JsonDict, profile: str) -> list[str]:
    warnings: list[str] = []
    sc = container.get("securityContext") or {}
    if (pod.security_context.get("runAsUser") or 0) and sc.get("runAsUser") != 0 and adds_privileges(container):
        warnings.append(
            "the pod runs as a non-root user, so capabilities or privileged mode from the profile may not "
            "take effect; set custom securityContext.runAsUser: 0 if the cluster allows it."
        )
    if profile == "restricted" and not sc.get("runAsUser"):
        warnings.append(
            "restricted sets runAsNonRoot: the image must declare a non-root user, or pass run_as_target=true "
            "(or custom securityContext.runAsUser), else the container fails with CreateContainerConfigError."
        )
    return warnings


# -- the plan ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DebugPlan:
    name: str
    container: JsonDict
    patch: JsonDict
    key: str
    expires_at: datetime | None
    warnings: list[str]
    kubectl: str


def plan_debug_container(
    pod: Pod,
    req: AddDebugContainerRequest,
    *,
    image: str,
    now: datetime,
    owner: Ownership | None,
    suffix: Callable[[], str] = random_suffix,
) -> DebugPlan:
    """Validate the request against the pod and build the ephemeral container and its patch."""
    check_debuggable(pod)
    target = find_target(pod, req.target) if req.target is not None else None
    name = choose_name(pod.container_names(), req.name, suffix, pod.name)
    container, expires = kubectl_container(req, name=name, image=image, now=now)
    container = apply_profile(req.profile, container)

    warnings: list[str] = []
    beyond_kubectl: JsonDict = {}
    if req.mount_like_target:
        if target is None:
            raise InvalidTarget("mount_like_target needs a target container.", hint="pass target.")
        mounts, skipped = mounts_like(target)
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
        user, group = user_of(pod, target)
        if user:
            beyond_kubectl["securityContext"] = {
                "runAsUser": user,
                **({"runAsGroup": group} if group is not None else {}),
            }
        else:
            warnings.append(f"run_as_target: target {req.target} runs as root or an image default; nothing set.")
    container = merge_container(container, beyond_kubectl)
    if req.custom:
        container = merge_container(container, {**req.custom, "name": name})
    warnings += privilege_warnings(pod, container, req.profile)

    key = spec_key(container, default_sleeper=req.command is None and req.args is None, profile=req.profile)
    owner_mark = owner.container_mark(pod.uid, name) if owner is not None else None
    container = mark(container, key=key, expires=expires, owner=owner_mark)
    return DebugPlan(
        name=name,
        container=container,
        patch=ephemeral_patch(pod, container),
        key=key,
        expires_at=expires,
        warnings=warnings,
        kubectl=kubectl_debug_command(
            req, name=name, image=image, extra_custom={**beyond_kubectl, **(req.custom or {})}
        ),
    )


def reusable(pod: Pod, key: str, now: datetime, owner: Ownership, name: str | None = None) -> Container | None:
    """The newest debugger of ours with the same spec key (and name, when one was asked for) that runs or
    is still starting: a retry returns it instead of adding a duplicate."""
    for c in reversed(owner.debuggers(pod)):
        if c.env(ENV_KEY) != key or (name is not None and c.name != name):
            continue
        expires = parse_time(c.env(ENV_EXPIRES))
        if expires is not None and expires - now < REUSE_MARGIN:
            continue
        state = c.state
        if state.phase == "running" or (state.phase == "waiting" and not state.cannot_start):
            return c
    return None


def session_flags(*, stdin: bool, tty: bool, env: Mapping[str, str] | None) -> list[str]:
    """kubectl debug's -i/-t/--env flags, as this server applies them (it never attaches)."""
    flags = ["-i", "--attach=false"] if stdin else []  # kubectl would attach; this server never does
    if tty:
        flags.append("-t")
    env = env or {}
    return flags + [f"--env={k}={env[k]}" for k in sorted(env)]


def kubectl_debug_command(req: AddDebugContainerRequest, *, name: str, image: str, extra_custom: JsonDict) -> str:
    """The same debugger with kubectl; our additions travel in --custom (bash process substitution)."""
    head = ["kubectl", "debug", "-n", req.namespace, req.pod, f"--image={image}", "-c", name]
    head.append(f"--profile={req.profile}")
    if req.target:
        head.append(f"--target={req.target}")
    if req.image_pull_policy:
        head.append(f"--image-pull-policy={req.image_pull_policy}")
    head += session_flags(stdin=req.stdin, tty=req.tty, env=req.env)
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
