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
from k8s_debug_mcp.tools.policy import Policy

__all__ = ["TOOLS", "exposed", "workflow"]


def exposed(policy: Policy) -> tuple[ToolSpec[Any, Any], ...]:
    """The tools this policy lets a model use: writes only when not read-only, debug_node only with node
    debugging on. A tool the policy would refuse on every call costs context each turn for nothing."""
    return tuple(
        spec
        for spec in TOOLS
        if (spec.read_only or not policy.read_only) and (spec.name != "debug_node" or policy.node_debugging)
    )


def workflow(specs: Iterable[ToolSpec[Any, Any]]) -> tuple[tuple[str, Need], ...]:
    """(tool, need) for every exposed tool: what whoami checks, from the same data the registry enforces."""
    return tuple((spec.name, need) for spec in specs for need in spec.needs)


# No annotation: each ToolSpec's Req/Res are inferred from its own request and result models, so mypy
# checks every runner, preview and renderer against them (a ToolSpec[Any, Any] context would not).
TOOLS = (
    ToolSpec(
        name="diagnose",
        title="Diagnose a workload",
        description=(
            "Start here for 'why is X failing?' (a workload, a pod, or omit name for the namespace): ranked "
            "findings, root cause first, with evidence and the next step."
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
        description=("Pods as rows: ready, kubectl STATUS, restarts, age, node. problems_only finds sick pods."),
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
            "One pod in depth: every container's state, exit code, last termination, restarts; conditions; "
            "owners; events."
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
        description=("A container's log (previous=true: the crashed instance). Untrusted text, newest kept."),
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
            "Who the API server sees, what RBAC allows here, and this server's policy. Call it when something is "
            "forbidden."
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
            "Attach an ephemeral debugger (kubectl debug): target joins a container's processes, even without a "
            "shell; by default a sleeper to exec into. Cannot be removed."
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
            "Run an argv in a container (default: our debugger): stdout, stderr, exit code; capped, with a "
            "timeout. A target's files are under /proc/<pid>/root."
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
            "From our debugger: the processes it sees, or ls/cat a path in a process's filesystem "
            "(/proc/<pid>/root; pid 1 = the target)."
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
            "Debug copy of a pod (kubectl debug --copy-to): shared processes, swapped images or commands, a "
            "debugger. No labels or probes (legacy keeps probes), so no traffic reaches it."
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
        description=("Delete the pod copies this server made (nothing else), and list its debuggers left in pods."),
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
