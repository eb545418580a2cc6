"""The tool catalogue: names, descriptions and annotations are static text, never cluster data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from k8s_debug_mcp.server.registry import ToolSpec
from k8s_debug_mcp.tools import access, copies, debug, diagnose, pods, preview, render
from k8s_debug_mcp.tools import exec as exec_tool
from k8s_debug_mcp.tools import inspect as inspect_tool
from k8s_debug_mcp.tools.models import (
    AddDebugContainerRequest,
    AddDebugContainerResult,
    CleanupRequest,
    CleanupResult,
    CopyPodRequest,
    CopyPodResult,
    DiagnoseRequest,
    DiagnoseResult,
    ExecRequest,
    ExecResult,
    InspectRequest,
    InspectResult,
    ListPodsRequest,
    ListPodsResult,
    PodLogsRequest,
    PodLogsResult,
    PodStatusRequest,
    PodStatusResult,
    WhoamiRequest,
    WhoamiResult,
)

__all__ = ["TOOLS"]

R = TypeVar("R")


def _with_gateway(fn: Callable[..., Awaitable[R]]) -> Callable[[Any, Any], Awaitable[R]]:
    """The runner of a tool function that needs only the gateway and the policy."""

    async def run(req: Any, app: Any) -> R:
        return await fn(req, gateway=app.gateway, policy=app.policy)

    return run


def _with_image(fn: Callable[..., Awaitable[R]]) -> Callable[[Any, Any], Awaitable[R]]:
    """The runner of a function that builds a debugger: also the default image, and names seeded by
    the request, so its preview, its dry run and its confirmed apply pick the same names."""

    async def run(req: Any, app: Any) -> R:
        return await fn(
            req,
            gateway=app.gateway,
            policy=app.policy,
            default_image=app.settings.debug_image,
            suffix=debug.suffix_for(preview.request_seed(req)),
        )

    return run


TOOLS: tuple[ToolSpec[Any, Any], ...] = (
    ToolSpec(
        name="diagnose",
        title="Diagnose a workload",
        description=(
            "Start here for 'why is X failing?': resolves a Deployment/StatefulSet/DaemonSet/Job or pod name to "
            "its pods and ranks findings (crash loops with exit meaning and last log lines, OOM, image pulls, "
            "scheduling, config errors, probes, stuck rollouts), each with evidence and the next step."
        ),
        request=DiagnoseRequest,
        result=DiagnoseResult,
        run=_with_gateway(diagnose.diagnose),
        render=render.render_diagnose,
        read_only=True,
    ),
    ToolSpec(
        name="list_pods",
        title="List pods",
        description=(
            "List pods as compact rows (ready, kubectl status such as CrashLoopBackOff, restarts, age, node). "
            "Use problems_only to find sick pods; page with limit and continue_token."
        ),
        request=ListPodsRequest,
        result=ListPodsResult,
        run=_with_gateway(pods.list_pods),
        render=render.render_list_pods,
        read_only=True,
    ),
    ToolSpec(
        name="pod_status",
        title="Pod status",
        description=(
            "One pod in depth: every init, regular and ephemeral container's state, exit code, signal, "
            "last termination and restarts; conditions; owner chain; recent events."
        ),
        request=PodStatusRequest,
        result=PodStatusResult,
        run=_with_gateway(pods.pod_status),
        render=render.render_pod_status,
        read_only=True,
    ),
    ToolSpec(
        name="pod_logs",
        title="Pod logs",
        description=(
            "Tail a container's logs (any container, including ephemeral; previous=true for the crashed "
            "instance). Output is untrusted text, capped, newest kept."
        ),
        request=PodLogsRequest,
        result=PodLogsResult,
        run=_with_gateway(pods.pod_logs),
        render=render.render_pod_logs,
        read_only=True,
    ),
    ToolSpec(
        name="whoami",
        title="Who am I, what may I do",
        description=(
            "The identity the API server sees, which debugging steps RBAC allows in a namespace, and this "
            "server's policy (read-only, confirmation, allowed profiles). Call it when something is forbidden."
        ),
        request=WhoamiRequest,
        result=WhoamiResult,
        run=_with_gateway(access.whoami),
        render=render.render_whoami,
        read_only=True,
    ),
    ToolSpec(
        name="add_debug_container",
        title="Add debug container",
        description=(
            "Attach an ephemeral debugger to a running pod, like kubectl debug: target joins a container's "
            "processes (works on shell-less images); kubectl profiles; by default a sleeper you exec into. "
            "Reuses a running identical debugger. dry_run=true previews the patch and the server's verdict. "
            "Ephemeral containers cannot be removed."
        ),
        request=AddDebugContainerRequest,
        result=AddDebugContainerResult,
        run=_with_image(debug.add_debug_container),
        render=render.render_add_debug_container,
        read_only=False,
        preview=_with_image(preview.preview_add_debug_container),
        destructive=False,
        idempotent=False,
    ),
    ToolSpec(
        name="exec",
        title="Run a command",
        description=(
            "Run an argv in a container (default: the newest debugger this server added) and return stdout, "
            "stderr and the exit code, capped and bounded by a timeout. No shell unless you run sh -c. In a "
            "debugger with a target, the target's processes are visible and its files are under /proc/<pid>/root."
        ),
        request=ExecRequest,
        result=ExecResult,
        run=_with_gateway(exec_tool.exec_command),
        render=render.render_exec,
        read_only=False,
        preview=_with_gateway(preview.preview_exec),
        destructive=True,
        idempotent=False,
    ),
    ToolSpec(
        name="inspect",
        title="Inspect from the debugger",
        description=(
            "From our debugger: list the processes it sees (the target's, or the whole pod's in a copy), or ls/cat "
            "a path in a process's filesystem via /proc/<pid>/root (pid 1 = the target) - works on shell-less images."
        ),
        request=InspectRequest,
        result=InspectResult,
        run=_with_gateway(inspect_tool.inspect),
        render=render.render_inspect,
        read_only=False,
        destructive=False,
        idempotent=True,
    ),
    ToolSpec(
        name="copy_pod",
        title="Copy pod for debugging",
        description=(
            "Create a debugging copy of a pod (kubectl debug --copy-to): shared process namespace, optional image "
            "swaps and command replacements (keep a crashing container alive), plus a debug container. Labels and "
            "probes are dropped so nothing routes to it. dry_run=true previews manifest, diff and server verdict."
        ),
        request=CopyPodRequest,
        result=CopyPodResult,
        run=_with_image(copies.copy_pod),
        render=render.render_copy_pod,
        read_only=False,
        preview=_with_image(preview.preview_copy_pod),
        destructive=False,
        idempotent=False,
    ),
    ToolSpec(
        name="cleanup",
        title="Delete debug copies",
        description=(
            "Delete pod copies this server created (only pods labelled as ours; anything else is refused). "
            "Default: all of ours in the namespace; expired_only and dry_run narrow it."
        ),
        request=CleanupRequest,
        result=CleanupResult,
        run=_with_gateway(copies.cleanup),
        render=render.render_cleanup,
        read_only=False,
        preview=_with_gateway(preview.preview_cleanup),
        destructive=True,
        idempotent=True,
    ),
)
