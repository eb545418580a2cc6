"""10,000 pods: every page through list_pods against the same pages fetched raw, on a cluster of its own
(`bench`, KWOK nodes only: the playground's tests are not disturbed), kept between runs unless
BENCH_SCALE_CLEANUP=1.

Pods are bound to the KWOK nodes directly (nodeName: no scheduler) and KWOK runs them, so each
carries a full status (two containers, conditions, IPs) like a real pod.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import anyio

from bench.common import RawApi, StdioServer, cluster_down, cluster_up, kubectl, summary, timed

CLUSTER = "bench"
NAMESPACE = "bench-10k"
PODS = int(os.environ.get("BENCH_PODS", "10000"))
PAGE = 500


def pod(i: int) -> dict[str, Any]:
    name = f"web-{i:05d}"
    container = {
        "image": "k8s-debug-mcp.local/slim-app:1",
        "env": [{"name": "MODE", "value": "bench"}, {"name": "REPLICA", "value": str(i)}],
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "64Mi"}},
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10},
        "ports": [{"containerPort": 8080, "name": "http"}],
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "labels": {"app": "web", "tier": "frontend", "shard": str(i % 16)},
            "annotations": {"bench/revision": "1"},
        },
        "spec": {
            "nodeName": f"kwok-node-{i % 2}",
            "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}],
            "containers": [{"name": "app", **container}, {"name": "sidecar", **container, "ports": []}],
        },
    }


async def populate(kubeconfig: str) -> float:
    """Creates the missing pods (50 at a time); seconds taken."""
    started = time.monotonic()
    async with RawApi(kubeconfig) as api:
        have = await api.get(f"/api/v1/namespaces/{NAMESPACE}/pods", limit=1)
        if (have["metadata"].get("remainingItemCount") or 0) + len(have["items"]) >= PODS:
            return 0.0
        limiter = anyio.Semaphore(50)

        async def create(i: int) -> None:
            async with limiter:
                await api.post(
                    f"/api/v1/namespaces/{NAMESPACE}/pods", pod(i), allow=(409,)
                )  # 409: made by an earlier run

        async with anyio.create_task_group() as tg:
            for i in range(PODS):
                tg.start_soon(create, i)
    return time.monotonic() - started


async def wait_running(kubeconfig: str, timeout_s: float = 600) -> int:
    """Pods KWOK has started (counted page by page: the API server gives no count for field selectors)."""
    deadline = time.monotonic() + timeout_s
    async with RawApi(kubeconfig) as api:
        while True:
            count, token = 0, ""
            while True:
                query: dict[str, str | int] = {"fieldSelector": "status.phase=Running", "limit": 2000}
                if token:
                    query["continue"] = token
                page = await api.get(f"/api/v1/namespaces/{NAMESPACE}/pods", **query)
                count += len(page["items"])
                token = page["metadata"].get("continue") or ""
                if not token:
                    break
            if count >= PODS or time.monotonic() > deadline:
                return count
            await anyio.sleep(5)


async def pages(kubeconfig: str, n: int) -> dict[str, Any]:
    async with RawApi(kubeconfig) as api, StdioServer(kubeconfig) as client:

        async def raw_all() -> None:
            token: str | None = None
            while True:
                query: dict[str, str | int] = {"limit": PAGE}
                if token:
                    query["continue"] = token
                page = await api.get(f"/api/v1/namespaces/{NAMESPACE}/pods", **query)
                token = page["metadata"].get("continue")
                if not token:
                    return

        sizes: dict[str, int] = {}

        async def tool_all() -> None:
            token: str | None = None
            while True:
                args: dict[str, Any] = {"namespace": NAMESPACE, "limit": PAGE}
                if token:
                    args["continue_token"] = token
                res = await client.call("list_pods", args)
                sc = res.get("structuredContent") or {}
                if not sizes:
                    text = "".join(c.get("text", "") for c in res["content"])
                    sizes.update(text=len(text.encode()), structured=len(json.dumps(sc, separators=(",", ":"))))
                token = sc.get("continue_token")
                if not token:
                    return

        raw_s, tool_s = [], []
        await raw_all()
        await tool_all()
        for _ in range(n):
            raw_s.append(await timed(raw_all))
            tool_s.append(await timed(tool_all))
        problems = summary(
            [await timed(lambda: client.call("list_pods", {"namespace": NAMESPACE, "problems_only": True}))]
        )
    r, t = summary(raw_s), summary(tool_s)
    return {
        "pods": PODS,
        "page": PAGE,
        "raw_all_pages": r,
        "list_pods_all_pages": t,
        "ratio": round(t["median_ms"] / r["median_ms"], 2),
        "first_page_text_bytes": sizes["text"],
        "first_page_structured_bytes": sizes["structured"],
        "structured_to_text": round(sizes["structured"] / sizes["text"], 2),
        "problems_only_scan": problems,
    }


def measure(n: int) -> dict[str, Any]:
    kubeconfig = cluster_up(CLUSTER, real_node=False)
    try:
        kubectl(kubeconfig, "create", "namespace", NAMESPACE) if NAMESPACE not in kubectl(
            kubeconfig, "get", "namespaces", "-o", "name"
        ) else None
        created_s = anyio.run(populate, kubeconfig)
        running = anyio.run(wait_running, kubeconfig)
        result = anyio.run(pages, kubeconfig, n)
        return {**result, "running": running, "created_in_s": round(created_s, 1)}
    finally:
        if os.environ.get("BENCH_SCALE_CLEANUP") == "1":
            cluster_down(CLUSTER)
