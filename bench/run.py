"""Benchmarks: rerun with `.venv/bin/python -m bench.run` (starts the playground cluster if needed).

Measures, on this machine:
- stdio cold start: spawn `python -m k8s_debug_mcp` -> initialize answered (median of N);
- the tools/list the model reads every turn: tool count and compact JSON bytes;
- per-call latency through an in-memory MCP client against the real test cluster
  (median and p95 of N calls): list_pods, pod_status, pod_logs, exec in a debugger.
Prints a Markdown table and writes bench/results/latest.json.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from k8s_debug_mcp.server import Settings, build_server
from k8s_debug_mcp.tools.policy import Policy

ROOT = Path(__file__).resolve().parents[1]
N_START = int(os.environ.get("BENCH_STARTS", "5"))
N_CALLS = int(os.environ.get("BENCH_CALLS", "30"))


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


def stdio_start_seconds() -> list[float]:
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "bench", "version": "0"},
        },
    }
    samples = []
    for _ in range(N_START):
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "k8s_debug_mcp", "--kubeconfig", "/nonexistent"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.write(json.dumps(init) + "\n")
        proc.stdin.flush()
        json.loads(proc.stdout.readline())
        samples.append(time.perf_counter() - started)
        proc.stdin.close()
        proc.wait(timeout=10)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000, 1),
    }


async def tool_calls(kubeconfig: str, namespace: str, pod: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(kubeconfig=kubeconfig, audit_log=f"{tmp}/audit.jsonl", policy=Policy(confirm=False))
        async with Client(build_server(settings)) as client:
            tools = [
                t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in (await client.list_tools()).tools
            ]
            add = await client.call_tool("add_debug_container", {"namespace": namespace, "pod": pod, "target": "app"})
            assert not add.is_error, add.content
            calls: dict[str, tuple[str, dict[str, Any]]] = {
                "list_pods": ("list_pods", {"namespace": namespace}),
                "pod_status": ("pod_status", {"namespace": namespace, "pod": pod}),
                "pod_logs": ("pod_logs", {"namespace": namespace, "pod": pod, "container": "app"}),
                "exec true (debugger)": ("exec", {"namespace": namespace, "pod": pod, "command": ["true"]}),
            }
            results: dict[str, Any] = {}
            for label, (tool, args) in calls.items():
                samples = []
                for _ in range(N_CALLS):
                    started = time.perf_counter()
                    res = await client.call_tool(tool, args)
                    samples.append(time.perf_counter() - started)
                    assert not res.is_error, res.content
                results[label] = summary(samples)
    return {"tools": len(tools), "tools_list_bytes": len(json.dumps(tools, separators=(",", ":"))), "calls": results}


def main() -> None:
    kubeconfig = (
        subprocess.run([str(ROOT / "scripts/cluster"), "up"], capture_output=True, text=True, check=True)
        .stdout.strip()
        .splitlines()[-1]
    )
    namespace = f"bench-{uuid.uuid4().hex[:6]}"
    kubectl(kubeconfig, "create", "namespace", namespace)
    try:
        kubectl(
            kubeconfig,
            "-n",
            namespace,
            "run",
            "slim",
            "--image=k8s-debug-mcp.local/slim-app:1",
            "--overrides",
            json.dumps(
                {
                    "spec": {
                        "nodeSelector": {"type": "kwok"},
                        "containers": [{"name": "app", "image": "k8s-debug-mcp.local/slim-app:1"}],
                    }
                }
            ),
        )
        kubectl(kubeconfig, "-n", namespace, "wait", "--for=condition=Ready", "pod/slim", "--timeout=60s")
        start = summary(stdio_start_seconds())
        calls = anyio.run(tool_calls, kubeconfig, namespace, "slim")
    finally:
        kubectl(kubeconfig, "delete", "namespace", namespace, "--wait=false")
    result = {"date": time.strftime("%Y-%m-%d"), "python": sys.version.split()[0], "stdio_start": start, **calls}
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(result, indent=2) + "\n")
    print("| measure | n | median | p95 |\n|---|---|---|---|")
    print(f"| stdio spawn -> initialize | {start['n']} | {start['median_ms']} ms | {start['p95_ms']} ms |")
    for label, s in calls["calls"].items():
        print(f"| {label} | {s['n']} | {s['median_ms']} ms | {s['p95_ms']} ms |")
    print(f"\ntools/list: {calls['tools']} tools, {calls['tools_list_bytes']} bytes (compact JSON)")


if __name__ == "__main__":
    main()
