"""tools/waiting.py: a pod this server created that never runs ends the wait with an error that says
the pod exists (applied), names it and says how to get rid of it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from k8s_debug_mcp.tools import waiting
from k8s_debug_mcp.tools.deps import Deps
from k8s_debug_mcp.tools.errors import Forbidden, WaitTimeout
from k8s_debug_mcp.tools.ownership import Ownership
from k8s_debug_mcp.tools.policy import Policy
from k8s_debug_mcp.tools.waiting import discard, kubelet_activity, ticking, wait_for_our_pod

pytestmark = pytest.mark.anyio

PENDING: dict[str, Any] = {"metadata": {"name": "slim-copy", "resourceVersion": "7"}, "status": {"phase": "Pending"}}


class NeverRuns:
    """A gateway whose watch sees the pod stay Pending until the server ends the watch."""

    def __init__(self) -> None:
        self.watches = 0

    async def watch_pod(
        self, namespace: str, name: str, *, resource_version: str, timeout_s: int
    ) -> AsyncIterator[Any]:
        self.watches += 1
        yield PENDING
        await anyio.sleep(0.3)


def deps_of(gateway: Any, seen: list[str] | None = None) -> Deps:
    async def progress(message: str) -> None:
        if seen is not None:
            seen.append(message)

    return Deps(
        gateway=gateway,
        policy=Policy(),
        owner=Ownership(b"k" * 32),
        progress=progress,
    )


def event(message: str, at: str, field_path: str | None = None) -> dict[str, Any]:
    about = {"kind": "Pod", "name": "slim-copy"} | ({"fieldPath": field_path} if field_path else {})
    return {"involvedObject": about, "message": message, "lastTimestamp": at}


class Events:
    def __init__(self, items: list[dict[str, Any]] | None = None, *, forbidden: bool = False) -> None:
        self.items, self.forbidden = items or [], forbidden
        self.selectors: list[str | None] = []

    async def list_events(self, namespace: str, *, field_selector: str | None = None, limit: int = 200) -> Any:
        self.selectors.append(field_selector)
        if self.forbidden:
            raise Forbidden("events are not for you", status=403)
        return {"items": self.items}


async def test_the_kubelets_latest_word_on_a_pod_or_one_container() -> None:
    gateway = Events(
        [
            event('Pulling image "busybox:1.37"', "2026-11-29T10:00:05Z", "spec.ephemeralContainers{debugger-a}"),
            event("Started container app", "2026-11-29T10:00:09Z", "spec.containers{app}"),
            event("Scheduled\nonto\tnode-0", "2026-11-29T10:00:01Z"),
            event("Created container debugger-a", "2026-11-29T09:00:00Z", "spec.ephemeralContainers{debugger-a}"),
        ]
    )
    debugger = await kubelet_activity(gateway, "ns", "slim-copy", "spec.ephemeralContainers{debugger-a}")  # type: ignore[arg-type]
    assert debugger == 'Pulling image "busybox:1.37"'
    assert await kubelet_activity(gateway, "ns", "slim-copy") == "Started container app"  # type: ignore[arg-type]
    assert gateway.selectors[0] == "involvedObject.kind=Pod,involvedObject.name=slim-copy"
    assert await kubelet_activity(Events(), "ns", "slim-copy") is None  # type: ignore[arg-type]
    planted = Events([event("pulled with key AKIAABCDEFGHIJKLMNOP", "2026-11-29T10:00:00Z")])
    assert await kubelet_activity(planted, "ns", "slim-copy") == "pulled with key [masked]"  # type: ignore[arg-type]
    assert await kubelet_activity(Events(forbidden=True), "ns", "slim-copy") is None  # type: ignore[arg-type]


async def test_ticking_reports_while_the_block_runs_and_stops_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(waiting, "TICK_S", 0.05)
    calls = 0

    async def tick() -> str:
        nonlocal calls
        calls += 1
        return f"tick {calls}"

    seen: list[str] = []
    async with ticking(deps_of(None, seen), tick):
        await asyncio.sleep(0.28)
    await asyncio.sleep(0.15)
    assert seen == [f"tick {i}" for i in range(1, len(seen) + 1)]
    assert 3 <= len(seen) <= 6, seen


async def test_a_created_pod_reports_what_the_kubelet_does_while_it_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(waiting, "TICK_S", 0.1)

    class Pulling(NeverRuns, Events):
        def __init__(self) -> None:
            NeverRuns.__init__(self)
            pulling = event('Pulling image "busybox:1.37"', "2026-11-29T10:00:05Z", "spec.containers{x}")
            Events.__init__(self, [pulling])

    seen: list[str] = []
    with pytest.raises(WaitTimeout) as caught:
        await wait_for_our_pod(
            deps_of(Pulling(), seen), "ns", PENDING, what="Copy", timeout_s=1, decide=lambda pod: None
        )
    assert seen[0] == "waiting for the copy to run"
    assert len(seen) >= 5, seen
    assert set(seen[1:]) == {'waiting for the copy to run: Pulling image "busybox:1.37"'}
    assert caught.value.message == (
        "Copy slim-copy was created but is not running after 1s; "
        'the kubelet\'s last event: Pulling image "busybox:1.37".'
    )


async def test_a_created_pod_that_never_runs_times_out_as_applied_naming_it() -> None:
    gateway = NeverRuns()
    with pytest.raises(WaitTimeout) as caught:
        await wait_for_our_pod(
            deps_of(gateway),
            "ns",
            PENDING,
            what="Copy",
            timeout_s=1,
            decide=lambda pod: "Running" if pod["status"]["phase"] == "Running" else None,
        )
    assert caught.value.message == "Copy slim-copy was created but is not running after 1s."
    assert caught.value.applied is True
    assert "cleanup" in (caught.value.hint or "")
    assert gateway.watches >= 2  # a watch the server ended is resumed until the deadline


async def test_discard_cancels_a_running_helper_and_swallows_what_a_finished_one_raised() -> None:
    async def forever() -> None:
        await asyncio.sleep(3600)

    async def fails() -> None:
        raise ValueError("from the helper")

    running = asyncio.create_task(forever())
    failed = asyncio.create_task(fails())
    await asyncio.sleep(0)
    await discard(running)
    await discard(failed)
    assert running.cancelled()
    assert isinstance(failed.exception(), ValueError)
