"""Bounded waits on a pod by watch (never by polling)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from k8s_debug_mcp.tools.errors import Gone
from k8s_debug_mcp.tools.gateway import KubeGateway

__all__ = ["wait_for_pod"]

T = TypeVar("T")
Json = Mapping[str, Any]


async def wait_for_pod(
    gateway: KubeGateway,
    namespace: str,
    name: str,
    pod: Json,
    *,
    timeout_s: int,
    decide: Callable[[Json], T | None],
) -> T:
    """Watch `name` from `pod`'s resourceVersion until `decide(pod)` returns a value.

    `decide` may raise to fail fast. Raises TimeoutError after `timeout_s` in all (the
    server ends single watches on its own; they are resumed from the last version seen).
    """
    verdict = decide(pod)
    if verdict is not None:
        return verdict
    rv = str((pod.get("metadata") or {}).get("resourceVersion") or "")
    async with asyncio.timeout(timeout_s):
        while True:
            try:
                async for current in gateway.watch_pod(namespace, name, resource_version=rv, timeout_s=timeout_s):
                    rv = str((current.get("metadata") or {}).get("resourceVersion") or rv)
                    verdict = decide(current)
                    if verdict is not None:
                        return verdict
            except Gone:
                # Our resourceVersion was compacted away: start again from the pod as it is now.
                current = await gateway.get_pod(namespace, name)
                rv = str((current.get("metadata") or {}).get("resourceVersion") or "")
                verdict = decide(current)
                if verdict is not None:
                    return verdict
