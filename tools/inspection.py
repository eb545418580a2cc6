"""inspect: what a debugger sees — processes, and a target's files through /proc/<pid>/root.

Built on exec with fixed argv (busybox ps, ls, head); nothing is interpolated into a shell.
"""

from __future__ import annotations

from k8s_debug_mcp.tools.commands import exec_command
from k8s_debug_mcp.tools.deps import Deps
from k8s_debug_mcp.tools.errors import InvalidRequest
from k8s_debug_mcp.tools.models import ExecRequest, InspectRequest, InspectResult, ProcessRow

__all__ = ["inspect", "parse_ps"]

PERMISSION_HINT = (
    "reading another container's files needs CAP_SYS_PTRACE (profile general, the default, or sysadmin) or "
    "the target's user (add_debug_container run_as_target=true); it cannot work when the pod sets hostUsers: false."
)


def parse_ps(output: str) -> list[ProcessRow]:
    """Rows of `ps -o pid,user,args` (busybox or procps); the header and junk lines are skipped."""
    rows: list[ProcessRow] = []
    for line in output.splitlines():
        parts = line.split(None, 2)
        if len(parts) < 2 or not parts[0].isdigit():
            continue
        rows.append(ProcessRow(pid=int(parts[0]), user=parts[1], command=parts[2] if len(parts) > 2 else ""))
    return rows


async def inspect(req: InspectRequest, deps: Deps) -> InspectResult:
    path: str | None = None
    if req.what == "processes":
        argv = ["ps", "-o", "pid,user,args"]
    else:
        if req.path is None:
            raise InvalidRequest(f"what={req.what} needs a path.", hint="pass an absolute path, e.g. /etc.")
        path = f"/proc/{req.pid}/root{req.path.rstrip('/') or '/'}"
        argv = ["ls", "-la", path] if req.what == "ls" else ["head", "-c", str(req.max_bytes + 1), path]
    res = await exec_command(
        ExecRequest(
            namespace=req.namespace,
            pod=req.pod,
            container=req.container,
            command=argv,
            timeout_seconds=30,
            max_output_bytes=req.max_bytes + 1,
        ),
        deps,
    )
    hint = res.hint
    if "permission denied" in res.stderr.lower():
        hint = PERMISSION_HINT
    elif "no such file" in res.stderr.lower() and path is not None:
        hint = f"nothing at {req.path} in the filesystem of pid {req.pid}; list the parent with what=ls."
    text = res.stdout
    truncated = res.truncated
    if req.what == "cat" and res.stdout_bytes > req.max_bytes:
        text, truncated = res.stdout.encode()[: req.max_bytes].decode("utf-8", errors="ignore"), True
    error = res.error or (res.stderr.strip() or None if res.exit_code else None)
    return InspectResult(
        namespace=req.namespace,
        pod=req.pod,
        container=res.container,
        what=req.what,
        path=path,
        processes=parse_ps(res.stdout) if req.what == "processes" and res.exit_code == 0 else None,
        text=None if req.what == "processes" else text,
        truncated=truncated,
        exit_code=res.exit_code,
        error=error,
        hint=hint,
    )
