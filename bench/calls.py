"""Per-call cost against the raw API calls the tool makes, measured in the same run and interleaved
(raw, tool, raw, tool...) so machine load falls on both alike.

- pod_status: GET the pod + LIST its events;
- pod_logs: GET the pod + GET its log (tail);
- exec `true` in a debugger (SSAR + websocket), for reference (no raw twin: kubectl exec is a process);
- ping: the stdio round trip alone (JSON-RPC in and out, no tool), the floor under every call.
The tool side is our server as a client runs it (bench.common.StdioServer: a subprocess over stdio):
validation, policy, the output boundary, the text and structured rendering, the pipe, all of it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bench.common import RawApi, StdioServer, summary, timed

WARM = 5


async def interleaved(n: int, raw: Callable[[], Awaitable[Any]], tool: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    for _ in range(WARM):
        await raw()
        await tool()
    raw_s, tool_s = [], []
    for _ in range(n):
        raw_s.append(await timed(raw))
        tool_s.append(await timed(tool))
    r, t = summary(raw_s), summary(tool_s)
    return {"raw": r, "tool": t, "ratio": round(t["median_ms"] / r["median_ms"], 2)}


def checked(server: StdioServer, name: str, args: dict[str, Any]) -> Callable[[], Awaitable[Any]]:
    async def call() -> Any:
        return await server.call(name, args)

    return call


async def measure(kubeconfig: str, namespace: str, pod: str, n: int) -> dict[str, Any]:
    pod_path = f"/api/v1/namespaces/{namespace}/pods/{pod}"
    async with RawApi(kubeconfig) as api, StdioServer(kubeconfig) as client:

        async def raw_status() -> None:
            await api.get(pod_path)
            await api.get(f"/api/v1/namespaces/{namespace}/events", fieldSelector=f"involvedObject.name={pod}")

        async def raw_logs() -> None:
            await api.get(pod_path)
            await api.get(f"{pod_path}/log", container="app", tailLines=100)

        out = {
            "pod_status": await interleaved(
                n, raw_status, checked(client, "pod_status", {"namespace": namespace, "pod": pod})
            ),
            "pod_logs": await interleaved(
                n, raw_logs, checked(client, "pod_logs", {"namespace": namespace, "pod": pod, "container": "app"})
            ),
        }
        await client.call("add_debug_container", {"namespace": namespace, "pod": pod, "target": "app"})
        exec_true = checked(client, "exec", {"namespace": namespace, "pod": pod, "command": ["true"]})
        out["exec true (debugger)"] = {"tool": summary([await timed(exec_true) for _ in range(n)])}
        # The transport's floor: a request the server answers without any work of its own.
        out["ping"] = {"tool": summary([await timed(lambda: client.request("ping", {})) for _ in range(n)])}
    return out
