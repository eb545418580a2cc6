"""What every benchmark section shares: the test clusters, kubectl, the raw API baseline, statistics."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from k8s_debug_mcp.server import Settings, build_server
from k8s_debug_mcp.server.logs import configure_logging
from k8s_debug_mcp.tools.policy import Policy

ROOT = Path(__file__).resolve().parents[1]


def cluster_up(name: str | None = None, *, real_node: bool = True) -> str:
    """Starts (or finds) a test cluster; its kubeconfig path. `name` selects a second cluster."""
    env = dict(os.environ)
    if name is not None:
        env |= {"K8S_DEBUG_MCP_CLUSTER_NAME": name, "K8S_DEBUG_MCP_REAL_NODE": "1" if real_node else "0"}
    out = subprocess.run([str(ROOT / "scripts/cluster"), "up"], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def cluster_down(name: str) -> None:
    env = {**os.environ, "K8S_DEBUG_MCP_CLUSTER_NAME": name, "K8S_DEBUG_MCP_REAL_NODE": "0"}
    subprocess.run([str(ROOT / "scripts/cluster"), "down"], env=env, capture_output=True, text=True, check=False)


def kubectl(kubeconfig: str, *args: str, stdin: str | None = None) -> str:
    bin_dir = subprocess.run(
        [str(ROOT / "scripts/build-cluster-bins"), "--print-dir"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return subprocess.run(
        [f"{bin_dir}/kubectl", "--kubeconfig", kubeconfig, *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000, 2),
    }


async def timed(fn: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await fn()
    return time.perf_counter() - started


@asynccontextmanager
async def our_server(kubeconfig: str) -> AsyncIterator[Client]:
    """An in-memory MCP client on our server (no confirmation, warnings-only logs)."""
    configure_logging("warning")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(kubeconfig=kubeconfig, audit_log=f"{tmp}/audit.jsonl", policy=Policy(confirm=False))
        async with Client(build_server(settings)) as client:
            yield client


class RawApi:
    """The baseline: the same HTTP requests with the same client library (kubernetes_asyncio's ApiClient,
    its auth and TLS), the JSON parsed and nothing else, as a hand-written script would do."""

    def __init__(self, kubeconfig: str) -> None:
        self.kubeconfig = kubeconfig
        self.api: Any = None

    async def __aenter__(self) -> RawApi:
        from kubernetes_asyncio import config
        from kubernetes_asyncio.client import ApiClient, Configuration

        cfg = Configuration()
        await config.load_kube_config(config_file=self.kubeconfig, client_configuration=cfg)
        self.api = ApiClient(cfg)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.api.close()

    async def get(self, path: str, **query: str | int) -> Any:
        return await self.send("GET", path, query)

    async def post(self, path: str, body: dict[str, Any], *, allow: tuple[int, ...] = ()) -> Any:
        return await self.send("POST", path, {}, body, allow=allow)

    async def send(
        self, method: str, path: str, query: dict[str, str | int], body: Any = None, *, allow: tuple[int, ...] = ()
    ) -> Any:
        response = await self.api.call_api(
            path,
            method,
            query_params=list(query.items()),
            header_params={"Accept": "application/json", "Content-Type": "application/json"},
            body=body,
            auth_settings=["BearerToken"],
            _preload_content=False,
        )
        async with response:
            data = await response.read()
            if response.status >= 300 and response.status not in allow:
                raise RuntimeError(f"{method} {path}: {response.status} {data[:300]!r}")
        return json.loads(data) if data[:1] == b"{" else data


class StdioServer:
    """Our server as clients run it: a subprocess spoken to in raw JSON-RPC over stdio. A call's time
    is the server's whole cost (validation, API calls, rendering, serialisation, the pipe) and
    none of a client library's (the SDK client re-validates structuredContent against the schema)."""

    def __init__(self, kubeconfig: str, *extra: str) -> None:
        self.argv = [sys.executable, "-m", "k8s_debug_mcp", "--kubeconfig", kubeconfig, "--no-confirm", *extra]
        self.proc: Any = None
        self.buffer = b""
        self.next_id = 1

    async def __aenter__(self) -> StdioServer:
        self.proc = await anyio.open_process(self.argv, stderr=subprocess.DEVNULL)
        await self.request("initialize", INIT_PARAMS)
        await self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.proc.stdin.aclose()
        with anyio.move_on_after(10):
            await self.proc.wait()
        if self.proc.returncode is None:
            self.proc.kill()

    async def send(self, message: dict[str, Any]) -> None:
        await self.proc.stdin.send(json.dumps(message).encode() + b"\n")

    async def line(self) -> bytes:
        while b"\n" not in self.buffer:
            self.buffer += await self.proc.stdout.receive(1 << 20)
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self.next_id += 1
        await self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        while True:
            message = json.loads(await self.line())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message["result"])

    async def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result = await self.request("tools/call", {"name": tool, "arguments": arguments})
        if result.get("isError"):
            raise RuntimeError(f"{tool}: {result['content']}")
        return result


INIT_PARAMS = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}
