"""Waiting on the cluster: bounded waits on a pod by watch (never by polling), and writes whose
outcome is settled by re-reading the target when the connection broke mid-request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Final, TypeVar

from k8s_debug_mcp.tools.deps import Deps, Gateway
from k8s_debug_mcp.tools.errors import (
    ClusterUnavailable,
    ConnectionLost,
    DebugError,
    Forbidden,
    Gone,
    KubeApiError,
    NotFound,
    OutcomeUnknown,
    WaitTimeout,
)
from k8s_debug_mcp.tools.kube import Json, JsonDict, Pod, obj, objs
from k8s_debug_mcp.tools.redact import mask_text
from k8s_debug_mcp.tools.text import one_line

__all__ = [
    "create_our_pod",
    "create_verdict",
    "discard",
    "events_named",
    "kubelet_activity",
    "settled",
    "ticking",
    "wait_for_our_pod",
    "wait_for_pod",
]

# While a wait or a command runs, progress goes out this often (to a client that asked for it).
TICK_S: Final = 2.0

T = TypeVar("T")
REREAD_ATTEMPTS = 3


async def discard(task: asyncio.Task[Any]) -> None:
    """Cancel a helper task and wait until it is over; whatever it raised is dropped with it."""
    task.cancel()
    await asyncio.wait([task])
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not log it as never retrieved


@asynccontextmanager
async def ticking(deps: Deps, tick: Callable[[], Awaitable[str]]) -> AsyncIterator[None]:
    """While the block runs, report `await tick()` as progress every TICK_S seconds, so a client
    shows time passing even when nothing changes (an image pull, a quiet command). Progress to a
    client that passed no token is dropped by the SDK; the tick still runs (the SDK does not say
    whether a token came), so a tick must be cheap and may record what it saw."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(TICK_S)
            await deps.progress(await tick())

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        await discard(task)


async def events_named(gateway: Gateway, namespace: str, pod: str) -> list[Json]:
    """Events about any pod of this name ([] when events may not be read); an earlier pod of the
    same name has another uid (pods.pod_events keeps the current one's)."""
    try:
        listing = await gateway.list_events(
            namespace, field_selector=f"involvedObject.kind=Pod,involvedObject.name={pod}"
        )
    except Forbidden:
        return []
    return objs(listing.get("items"))


async def kubelet_activity(gateway: Gateway, namespace: str, pod: str, field_path: str | None = None) -> str | None:
    """The newest event's message about a pod, or one of its containers (`spec.containers{app}`):
    what the kubelet is doing while a container is still being created (`Pulling image "busybox:1.37"`).
    None when there is none or events cannot be read."""
    try:
        named = await events_named(gateway, namespace, pod)
    except DebugError:  # best effort: progress never fails the wait
        return None
    newest: tuple[str, str] | None = None
    for e in named:
        if field_path is not None and obj(e.get("involvedObject")).get("fieldPath") != field_path:
            continue
        when = str(e.get("lastTimestamp") or e.get("eventTime") or e.get("firstTimestamp") or "")
        message = e.get("message")
        if isinstance(message, str) and message and (newest is None or when >= newest[0]):
            newest = (when, message)
    # Anyone who may create Events can write this text: secret shapes are masked like every API message.
    return mask_text(one_line(newest[1], 200))[0] if newest else None


async def wait_for_pod(
    gateway: Gateway,
    namespace: str,
    name: str,
    pod: Json,
    *,
    timeout_s: int,
    decide: Callable[[Json], T | None],
    on_change: Callable[[Json], Awaitable[None]] | None = None,
) -> T:
    """Watch `name` from `pod`'s resourceVersion until `decide(pod)` returns a value.

    `decide` may raise to fail fast. Raises TimeoutError after `timeout_s` in all (the
    server ends single watches on its own; they are resumed from the last version seen).
    """
    verdict = decide(pod)
    if verdict is not None:
        return verdict
    rv = Pod(pod).resource_version
    async with asyncio.timeout(timeout_s):
        while True:
            try:
                async for current in gateway.watch_pod(namespace, name, resource_version=rv, timeout_s=timeout_s):
                    rv = Pod(current).resource_version or rv
                    verdict = decide(current)
                    if verdict is not None:
                        return verdict
                    if on_change is not None:
                        await on_change(current)
            except Gone:
                # Our resourceVersion was compacted away: start again from the pod as it is now.
                current = await gateway.get_pod(namespace, name)
                rv = Pod(current).resource_version
                verdict = decide(current)
                if verdict is not None:
                    return verdict


async def settled(
    action: str,
    write: Callable[[], Awaitable[Json]],
    applied: Callable[[], Awaitable[Json | None]],
) -> tuple[Json, bool]:
    """Run a write; when the connection breaks mid-request, re-read the target to learn what happened.

    Returns (the response, or the re-read object showing the change, and whether it was recovered
    that way). Raises ClusterUnavailable (applied=False) when the re-read shows no change, and
    OutcomeUnknown when the target cannot be re-read: never "failed" for a change that was made.
    """
    try:
        return await write(), False
    except ConnectionLost as lost:
        for attempt in range(REREAD_ATTEMPTS):
            try:
                found = await applied()
            except ClusterUnavailable:
                await asyncio.sleep(0.2 * (attempt + 1))  # bounded: three short tries
                continue
            if found is not None:
                return found, True
            raise ClusterUnavailable(
                f"{lost.message} The change was not applied (checked by re-reading the target).",
                hint="retry when the API server is reachable.",
                applied=False,
            ) from None
        raise OutcomeUnknown(
            f"{action}: the connection broke mid-request and the target could not be re-read, so it is unknown "
            "whether the change was applied.",
            hint="check with pod_status before retrying (a retry with the same arguments reuses what exists).",
        ) from None


async def create_verdict(gateway: Gateway, namespace: str, manifest: JsonDict) -> str:
    """The API server's verdict on a pod manifest (a server-side dry run: validation and admission)."""
    try:
        await gateway.create_pod(namespace, manifest, dry_run=True)
    except KubeApiError as exc:
        return f"rejected (HTTP {exc.status}): {exc.message}"
    return "accepted: validation and admission passed; nothing was created"


async def create_our_pod(deps: Deps, namespace: str, name: str, manifest: JsonDict) -> tuple[Json, bool]:
    """Create a pod this server marks as its own; when the answer is lost, a re-read that finds the pod
    with our owner mark proves it was made (`settled`). (The pod, whether it was recovered that way.)"""
    gateway = deps.gateway

    async def applied() -> Json | None:
        try:
            current = await gateway.get_pod(namespace, name)
        except NotFound:
            return None
        return current if deps.owner.owns_pod(Pod(current)) else None

    return await settled(
        f"create pod {namespace}/{name}",
        lambda: gateway.create_pod(namespace, manifest, dry_run=False),
        applied,
    )


async def wait_for_our_pod(
    deps: Deps, namespace: str, created: Json, *, what: str, timeout_s: int, decide: Callable[[Json], str | None]
) -> str:
    """Wait for a pod this server just created (a copy, a node debugger) to run, with progress (what
    the kubelet is doing, every TICK_S); `what` names it in the progress and the error."""
    name = Pod(created).name
    waiting = f"waiting for the {what.lower()} to run"
    await deps.progress(waiting)

    kubelet: str | None = None

    async def tick() -> str:
        nonlocal kubelet
        kubelet = await kubelet_activity(deps.gateway, namespace, name) or kubelet
        return f"{waiting}: {kubelet}" if kubelet else waiting

    try:
        async with ticking(deps, tick):
            return await wait_for_pod(deps.gateway, namespace, name, created, timeout_s=timeout_s, decide=decide)
    except TimeoutError:
        last = f"; the kubelet's last event: {kubelet}" if kubelet else ""
        raise WaitTimeout(
            f"{what} {name} was created but is not running after {timeout_s}s{last}.",
            hint=f"check pod_status {name}; delete it with cleanup if it is stuck.",
            applied=True,
        ) from None
