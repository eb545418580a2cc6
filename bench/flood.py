"""On the real node (kubelet + containerd): a 50 MB exec flood in our debugger, beside `kubectl exec`
streaming the same command; and the progress notifications a client sees while a debugger starts."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
import uuid
from typing import Any

import anyio
from mcp import Client

from bench.common import ROOT, StdioServer, kubectl
from k8s_debug_mcp.server import Settings, build_server
from k8s_debug_mcp.server.logs import configure_logging
from k8s_debug_mcp.tools.policy import Policy
from tests.conftest import slim_deployment

DEBUG_IMAGE = "k8s-debug-mcp.local/busybox:1"  # imported on the real node; never pulled
FLOOD = ["sh", "-c", "head -c 50000000 /dev/zero | tr '\\0' a"]


def real_slim(kubeconfig: str, namespace: str) -> str:
    kubectl(kubeconfig, "create", "namespace", namespace)
    kubectl(kubeconfig, "apply", "-n", namespace, "-f", "-", stdin=json.dumps(slim_deployment("slim", real=True)))
    kubectl(kubeconfig, "-n", namespace, "wait", "--for=condition=Available", "deployment/slim", "--timeout=180s")
    return kubectl(
        kubeconfig, "-n", namespace, "get", "pods", "-l", "app=slim", "-o", "jsonpath={.items[0].metadata.name}"
    )


async def progress_seen(kubeconfig: str, namespace: str, pod: str) -> dict[str, Any]:
    """add_debug_container on a fresh pod through an in-memory client that asked for progress."""
    configure_logging("warning")
    seen: list[str] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(message or "")

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            kubeconfig=kubeconfig, audit_log=f"{tmp}/a.jsonl", debug_image=DEBUG_IMAGE, policy=Policy(confirm=False)
        )
        async with Client(build_server(settings)) as client:
            started = time.perf_counter()
            res = await client.call_tool(
                "add_debug_container",
                {"namespace": namespace, "pod": pod, "target": "app", "image_pull_policy": "Never"},
                progress_callback=on_progress,
            )
            elapsed = time.perf_counter() - started
    if res.is_error:
        raise RuntimeError(f"add_debug_container: {res.content}")
    return {"notifications": len(seen), "messages": sorted(set(seen)), "wait_ms": round(elapsed * 1000)}


async def flood(kubeconfig: str, namespace: str, pod: str) -> dict[str, Any]:
    async with StdioServer(kubeconfig, "--debug-image", DEBUG_IMAGE) as server:
        out: dict[str, Any] = {}
        await server.call("exec", {"namespace": namespace, "pod": pod, "command": ["true"]})  # connections warm
        for label, cap in (("default cap", None), ("4 KiB cap", 4096)):
            args: dict[str, Any] = {"namespace": namespace, "pod": pod, "command": FLOOD}
            if cap is not None:
                args["max_output_bytes"] = cap
            started = time.perf_counter()
            res = await server.call("exec", args)
            elapsed = time.perf_counter() - started
            sc = res["structuredContent"]
            out[label] = {
                "ms": round(elapsed * 1000),
                "output_limit_hit": sc.get("output_limit_hit"),
                "bytes_read": sc.get("stdout_bytes"),
                "bytes_returned": len(sc.get("stdout", "").encode()),
            }
    return out


def kubectl_stream_ms(kubeconfig: str, namespace: str, pod: str, container: str) -> int:
    bin_dir = subprocess.run(
        [str(ROOT / "scripts/build-cluster-bins"), "--print-dir"], capture_output=True, text=True, check=True
    ).stdout.strip()
    started = time.perf_counter()
    subprocess.run(
        [f"{bin_dir}/kubectl", "--kubeconfig", kubeconfig, "exec", "-n", namespace, pod, "-c", container, "--", *FLOOD],
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return round((time.perf_counter() - started) * 1000)


def measure(kubeconfig: str) -> dict[str, Any]:
    namespace = f"bench-flood-{uuid.uuid4().hex[:6]}"
    try:
        pod = real_slim(kubeconfig, namespace)
        progress = anyio.run(progress_seen, kubeconfig, namespace, pod)
        result = anyio.run(flood, kubeconfig, namespace, pod)
        debugger = json.loads(kubectl(kubeconfig, "-n", namespace, "get", "pod", pod, "-o", "json"))["spec"][
            "ephemeralContainers"
        ][0]["name"]
        result["kubectl exec, all 50 MB"] = {"ms": kubectl_stream_ms(kubeconfig, namespace, pod, debugger)}
        return {"exec_flood": result, "progress": progress}
    finally:
        kubectl(kubeconfig, "delete", "namespace", namespace, "--wait=false")
