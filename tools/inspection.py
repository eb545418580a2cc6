"""inspect: what a debugger sees — processes (and whose container each is), and files through
/proc/<pid>/root, or under /host in a node debugger.

Built on exec with fixed argv (busybox ps, grep, ls, head); nothing is interpolated into a shell.
A process's container is read from its cgroup path (`/proc/<pid>/cgroup` names the runtime's
container id with the cgroupfs and systemd drivers, cgroup v1 and v2) and matched against the
pod's container statuses; with shared processes, pid 1 is the pod's sandbox (pause).
"""

from __future__ import annotations

import re
from typing import Final

from k8s_debug_mcp.tools.commands import default_container, exec_command
from k8s_debug_mcp.tools.deps import Deps
from k8s_debug_mcp.tools.errors import InvalidRequest
from k8s_debug_mcp.tools.kube import ANN_NODE, Pod, objs, text
from k8s_debug_mcp.tools.models import ExecRequest, InspectRequest, InspectResult, ProcessRow
from k8s_debug_mcp.tools.node_plan import HOST_MOUNT

__all__ = ["container_ids", "inspect", "parse_cgroups", "parse_ps"]

PERMISSION_HINT = (
    "reading another container's files needs CAP_SYS_PTRACE (profile general, the default, or sysadmin) or "
    "the target's user (add_debug_container run_as_target=true); it cannot work when the pod sets hostUsers: false."
)
SANDBOX: Final = "(sandbox)"
PS: Final = ("ps", "-o", "pid,user,args")
EXEC_MAX_BYTES: Final = 262_144
"""exec's own cap per stream (ExecRequest.max_output_bytes)."""
_ID: Final = re.compile(r"[0-9a-f]{64}")
_CGROUP_LINE: Final = re.compile(r"^/proc/(\d+)/cgroup:([0-9a-f]{64})$")


def parse_ps(output: str) -> list[ProcessRow]:
    """Rows of `ps -o pid,user,args` (busybox or procps); the header and junk lines are skipped."""
    rows: list[ProcessRow] = []
    for line in output.splitlines():
        parts = line.split(None, 2)
        if len(parts) < 2 or not parts[0].isdigit():
            continue
        rows.append(ProcessRow(pid=int(parts[0]), user=parts[1], command=parts[2] if len(parts) > 2 else ""))
    return rows


def parse_cgroups(output: str) -> dict[int, str]:
    """pid -> container id from `grep -H -o -m 1 '[0-9a-f]{64}' /proc/<pid>/cgroup ...`."""
    found: dict[int, str] = {}
    for line in output.splitlines():
        m = _CGROUP_LINE.match(line.strip())
        if m:
            found.setdefault(int(m.group(1)), m.group(2))
    return found


def container_ids(pod: Pod) -> dict[str, str]:
    """Runtime container id (`containerd://<id>` without the scheme) -> container name, every kind."""
    out: dict[str, str] = {}
    for c in pod.containers():
        cid = text(c.status.get("containerID")) or ""
        m = _ID.search(cid)
        if m:
            out[m.group(0)] = c.name
    return out


def _is_node_debugger(pod: Pod, container: str | None, deps: Deps) -> bool:
    return bool(pod.annotations.get(ANN_NODE)) and deps.owner.owns_pod(pod) and container is not None


def _host_mounted(pod: Pod, container: str) -> bool:
    found = pod.container(container)
    return found is not None and any(m.get("mountPath") == HOST_MOUNT for m in objs(found.spec.get("volumeMounts")))


async def _containers_of(
    req: InspectRequest, pod: Pod, debugger: str, rows: list[ProcessRow], deps: Deps
) -> list[ProcessRow]:
    """Each row with the name of the pod's container it runs in (None when its cgroup names none of them)."""
    ids = container_ids(pod)
    if not rows or not ids:
        return rows
    argv = ["grep", "-H", "-s", "-o", "-m", "1", "-E", "[0-9a-f]{64}", *(f"/proc/{r.pid}/cgroup" for r in rows)]
    res = await exec_command(
        ExecRequest(namespace=req.namespace, pod=req.pod, container=debugger, command=argv, timeout_seconds=15),
        deps,
    )
    by_pid = parse_cgroups(res.stdout)
    shared = bool(pod.spec.get("shareProcessNamespace"))
    out: list[ProcessRow] = []
    for r in rows:
        name = ids.get(by_pid.get(r.pid, ""))
        if name is None and shared and r.pid == 1:
            name = SANDBOX
        elif name is None and r.command == " ".join(PS):
            name = debugger  # our own ps, gone by now: it ran in the debugger
        out.append(r.model_copy(update={"container": name or ""}))
    return out


async def inspect(req: InspectRequest, deps: Deps) -> InspectResult:
    pod = Pod(await deps.gateway.get_pod(req.namespace, req.pod))
    chosen = req.container or default_container(pod, deps)
    on_node = _is_node_debugger(pod, chosen, deps)
    path: str | None = None
    if req.what == "processes":
        argv = list(PS)
    else:
        if req.path is None:
            raise InvalidRequest(f"what={req.what} needs a path.", hint="pass an absolute path, e.g. /etc.")
        if on_node and chosen is not None and _host_mounted(pod, chosen) and req.pid == 1:
            path = f"{HOST_MOUNT}{req.path.rstrip('/') or '/'}"  # the node's root filesystem
        else:
            path = f"/proc/{req.pid}/root{req.path.rstrip('/') or '/'}"
        argv = ["ls", "-la", path] if req.what == "ls" else ["head", "-c", str(req.max_bytes + 1), path]
    res = await exec_command(
        ExecRequest(
            namespace=req.namespace,
            pod=req.pod,
            container=req.container,
            command=argv,
            timeout_seconds=30,
            max_output_bytes=min(req.max_bytes + 1, EXEC_MAX_BYTES),  # one more, to see that a file goes on
        ),
        deps,
    )
    hint = res.hint
    if "permission denied" in res.stderr.lower():
        hint = PERMISSION_HINT
    elif "no such file" in res.stderr.lower() and path is not None:
        where = "on the node" if path.startswith(HOST_MOUNT) else f"in the filesystem of pid {req.pid}"
        hint = f"nothing at {req.path} {where}; list the parent with what=ls."
    text_out = res.stdout
    truncated = res.truncated
    if req.what == "cat" and res.stdout_bytes > req.max_bytes:
        text_out, truncated = res.stdout.encode()[: req.max_bytes].decode("utf-8", errors="ignore"), True
    error = res.error or (res.stderr.strip() or None if res.exit_code else None)
    processes: list[ProcessRow] | None = None
    if req.what == "processes" and res.exit_code == 0:
        processes = parse_ps(res.stdout)
        if not on_node:
            processes = await _containers_of(req, pod, res.container, processes, deps)
    return InspectResult(
        namespace=req.namespace,
        pod=req.pod,
        container=res.container,
        what=req.what,
        path=path,
        processes=processes,
        text=None if req.what == "processes" else text_out,
        truncated=truncated,
        exit_code=res.exit_code,
        error=error,
        hint=hint,
    )
