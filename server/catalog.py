"""The tool catalogue: names, descriptions and annotations are static text, never cluster data."""

from __future__ import annotations

from typing import Any

from k8s_debug_mcp.server.registry import ToolSpec
from k8s_debug_mcp.tools import pods, render
from k8s_debug_mcp.tools.models import (
    ListPodsRequest,
    ListPodsResult,
    PodLogsRequest,
    PodLogsResult,
    PodStatusRequest,
    PodStatusResult,
)

__all__ = ["TOOLS"]


async def _list_pods(req: ListPodsRequest, app: Any) -> ListPodsResult:
    return await pods.list_pods(req, gateway=app.gateway)


async def _pod_status(req: PodStatusRequest, app: Any) -> PodStatusResult:
    return await pods.pod_status(req, gateway=app.gateway)


async def _pod_logs(req: PodLogsRequest, app: Any) -> PodLogsResult:
    return await pods.pod_logs(req, gateway=app.gateway)


TOOLS: tuple[ToolSpec[Any, Any], ...] = (
    ToolSpec(
        name="list_pods",
        title="List pods",
        description=(
            "List pods as compact rows (ready, kubectl status such as CrashLoopBackOff, restarts, age, node). "
            "Use problems_only to find sick pods; page with limit and continue_token."
        ),
        request=ListPodsRequest,
        result=ListPodsResult,
        run=_list_pods,
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
        run=_pod_status,
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
        run=_pod_logs,
        render=render.render_pod_logs,
        read_only=True,
    ),
)
