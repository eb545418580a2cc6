"""The tool catalogue: names, descriptions and annotations are static text, never cluster data."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from k8s_debug_mcp.server.registry import ToolSpec
from k8s_debug_mcp.tools import access, commands, copies, debug, diagnose, inspection, nodes, pods, render
from k8s_debug_mcp.tools.access import Need
from k8s_debug_mcp.tools.models import (
    AddDebugContainerRequest,
    AddDebugContainerResult,
    CleanupRequest,
    CleanupResult,
    CopyPodRequest,
    CopyPodResult,
    DebugNodeRequest,
    DebugNodeResult,
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

__all__ = ["TOOLS", "workflow"]


def workflow(specs: Iterable[ToolSpec[Any, Any]], *, read_only: bool) -> tuple[tuple[str, Need], ...]:
    """(tool, need) for every exposed tool: what whoami checks, from the same data the registry enforces."""
    return tuple((spec.name, need) for spec in specs if spec.read_only or not read_only for need in spec.needs)


# No annotation: each ToolSpec's Req/Res are inferred from its own request and result models, so mypy
# checks every runner, preview and renderer against them (a ToolSpec[Any, Any] context would not).
TOOLS = (
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
        run=diagnose.diagnose,
        needs=diagnose.NEEDS,
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
        run=pods.list_pods,
        needs=pods.LIST_NEEDS,
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
        run=pods.pod_status,
        needs=pods.STATUS_NEEDS,
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
        run=pods.pod_logs,
        needs=pods.LOGS_NEEDS,
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
        run=access.whoami,
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
        run=debug.add_debug_container,
        needs=debug.NEEDS,
        render=render.render_add_debug_container,
        read_only=False,
        preview=debug.preview_add_debug_container,
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
        run=commands.exec_command,
        needs=commands.NEEDS,
        render=render.render_exec,
        read_only=False,
        preview=commands.preview_exec,
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
        run=inspection.inspect,
        needs=commands.NEEDS,
        render=render.render_inspect,
        read_only=False,
        destructive=False,
        idempotent=True,
    ),
    ToolSpec(
        name="copy_pod",
        title="Copy pod for debugging",
        description=(
            "kubectl debug --copy-to: a copy with shared processes, image swaps, replaced commands (keep a "
            "crashing container alive) and a debugger. Labels and probes are dropped (legacy keeps probes) so "
            "nothing routes to it."
        ),
        request=CopyPodRequest,
        result=CopyPodResult,
        run=copies.copy_pod,
        needs=copies.COPY_NEEDS,
        render=render.render_copy_pod,
        read_only=False,
        preview=copies.preview_copy_pod,
        destructive=True,  # options.replace deletes the source pod (policy allow_replace)
        idempotent=False,
    ),
    ToolSpec(
        name="debug_node",
        title="Debug a node",
        description=(
            "kubectl debug node/NAME: a pod with the host's processes, network and files at /host (by profile); "
            "exec, inspect and cleanup use it."
        ),
        request=DebugNodeRequest,
        result=DebugNodeResult,
        run=nodes.debug_node,
        needs=nodes.NEEDS,
        render=render.render_debug_node,
        read_only=False,
        preview=nodes.preview_debug_node,
        destructive=False,
        idempotent=False,
    ),
    ToolSpec(
        name="cleanup",
        title="Delete debug copies",
        description=(
            "Delete pod copies this server made (proved by its owner mark; anything else is refused). "
            "Default: all ours in the namespace; expired_only and dry_run narrow it."
        ),
        request=CleanupRequest,
        result=CleanupResult,
        run=copies.cleanup,
        needs=copies.CLEANUP_NEEDS,
        render=render.render_cleanup,
        read_only=False,
        preview=copies.preview_cleanup,
        destructive=True,
        idempotent=True,
    ),
)
