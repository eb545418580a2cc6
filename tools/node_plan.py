"""Planning a node debugger (`kubectl debug node/NAME`): small pure steps, in kubectl's order.

1. `node_pod_name`     node-debugger-<node>-<5 chars>, kubectl's name (the node part cut to fit 253)
2. `node_container`    kubectl's container `debugger`: image, command/args or our sleeper, pull policy,
                       terminationMessagePolicy File (no stdin/tty: this server never attaches)
3. `node_pod`          nodeName (no scheduler), restartPolicy Never, tolerate every taint
4. `apply_node_profile`  kubectl's profile for nodes (tools/profiles.py): the container's
                       securityContext, the host's PID/network/IPC namespaces, the node's / at /host
5. `merge_container`   `custom` strategic-merged on the container, like kubectl --custom
6. `node_metadata`     our label, stamps, owner proof; the debugger and node annotations
                       (exec and inspect find the container; inspect reads files under /host)
7. `kubectl_node_command`  the same pod with kubectl (without our markers)
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from k8s_debug_mcp.tools.debug_plan import merge_container, random_suffix
from k8s_debug_mcp.tools.kube import (
    ANN_CREATED,
    ANN_DEBUGGER,
    ANN_EXPIRES,
    ANN_NODE,
    ANN_OWNER,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    JsonDict,
    iso,
)
from k8s_debug_mcp.tools.models import DebugNodeRequest
from k8s_debug_mcp.tools.ownership import Ownership
from k8s_debug_mcp.tools.profiles import HOST_ROOT_VOLUME, NODE_HOST_ACCESS, HostAccess, apply_profile

__all__ = [
    "HOST_MOUNT",
    "NodePlan",
    "apply_node_profile",
    "kubectl_node_command",
    "node_container",
    "node_metadata",
    "node_pod",
    "node_pod_name",
    "plan_node_debugger",
]

HOST_MOUNT: Final = "/host"
DEFAULT_CONTAINER: Final = "debugger"
_PREFIX: Final = "node-debugger-"


def node_pod_name(node: str, suffix: Callable[[], str]) -> str:
    room = 253 - len(_PREFIX) - 6
    return f"{_PREFIX}{node[:room].rstrip('-.')}-{suffix()}"


def node_container(req: DebugNodeRequest, *, image: str, pull_policy: str | None) -> tuple[JsonDict, bool]:
    """kubectl's node debug container before the profile; and whether it runs our sleeper."""
    opts = req.opts
    c: JsonDict = {"name": DEFAULT_CONTAINER, "image": image}
    sleeper = opts.command is None and opts.args is None
    if opts.command is not None:
        c["command"] = [*opts.command, *(opts.args or [])]  # kubectl: everything after -- is the command
    elif opts.args is not None:
        c["args"] = list(opts.args)
    else:
        c["command"] = ["sleep", str(req.ttl_seconds)]
    policy = opts.image_pull_policy or pull_policy
    if policy:
        c["imagePullPolicy"] = policy
    c["terminationMessagePolicy"] = "File"
    return c, sleeper


def node_pod(node: str, container: JsonDict) -> JsonDict:
    return {
        "containers": [container],
        "nodeName": node,
        "restartPolicy": "Never",
        "tolerations": [{"operator": "Exists"}],
    }


def apply_node_profile(req: DebugNodeRequest, spec: JsonDict) -> HostAccess:
    """kubectl's node profile: the container's securityContext, then host namespaces and /host."""
    spec["containers"][0] = apply_profile(req.profile, spec["containers"][0], "node")
    access = NODE_HOST_ACCESS[req.profile]
    if access.root:
        spec["volumes"] = [{"name": HOST_ROOT_VOLUME, "hostPath": {"path": "/"}}]
        container = spec["containers"][0]
        container["volumeMounts"] = [
            *container.get("volumeMounts", []),
            {"mountPath": HOST_MOUNT, "name": HOST_ROOT_VOLUME},
        ]
    if access.namespaces:
        spec.update({"hostNetwork": True, "hostPID": True, "hostIPC": True})
    return access


def node_metadata(
    req: DebugNodeRequest, *, name: str, container: str, now: datetime, expires: datetime, owner: Ownership | None
) -> JsonDict:
    created = iso(now)
    annotations: JsonDict = {
        ANN_NODE: req.node,
        ANN_DEBUGGER: container,
        ANN_CREATED: created,
        ANN_EXPIRES: iso(expires),
    }
    if owner is not None:
        annotations[ANN_OWNER] = owner.pod_mark(req.namespace, name, created)
    return {
        "name": name,
        "namespace": req.namespace,
        "labels": {MANAGED_BY_LABEL: MANAGED_BY},
        "annotations": annotations,
    }


def kubectl_node_command(req: DebugNodeRequest, *, image: str, container: JsonDict) -> str:
    opts = req.opts
    argv = ["kubectl", "debug", f"node/{req.node}", "-n", req.namespace, f"--image={image}", f"--profile={req.profile}"]
    if container.get("imagePullPolicy"):
        argv.append(f"--image-pull-policy={container['imagePullPolicy']}")
    if opts.command is None and opts.args is not None:
        tail = ["--arguments-only", "--", *opts.args]
    else:
        tail = ["--", *container.get("command", [])]
    parts = [shlex.quote(a) for a in argv]
    if opts.custom:
        parts.append("--custom=<(echo " + shlex.quote(json.dumps(opts.custom, separators=(",", ":"))) + ")")
    return " ".join(parts + [shlex.quote(a) for a in tail])


@dataclass(frozen=True, slots=True)
class NodePlan:
    name: str
    container: JsonDict
    manifest: JsonDict
    access: HostAccess
    expires_at: datetime
    sleeper: bool
    kubectl: str


def plan_node_debugger(
    req: DebugNodeRequest,
    *,
    image: str,
    now: datetime,
    owner: Ownership | None,
    suffix: Callable[[], str] = random_suffix,
    pull_policy: str | None = None,
) -> NodePlan:
    """kubectl debug node/NAME: a pod pinned to the node, with the host access the profile gives."""
    name = node_pod_name(req.node, suffix)
    container, sleeper = node_container(req, image=image, pull_policy=pull_policy)
    spec = node_pod(req.node, container)
    access = apply_node_profile(req, spec)
    if req.opts.custom:
        spec["containers"][0] = merge_container(spec["containers"][0], {**req.opts.custom, "name": container["name"]})
    final: JsonDict = spec["containers"][0]
    expires = now + timedelta(seconds=req.ttl_seconds)
    meta = node_metadata(req, name=name, container=final["name"], now=now, expires=expires, owner=owner)
    return NodePlan(
        name=name,
        container=final,
        manifest={"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec},
        access=access,
        expires_at=expires,
        sleeper=sleeper,
        kubectl=kubectl_node_command(req, image=image, container=final),
    )
