"""tools/waiting.py: a pod this server created that never runs ends the wait with an error that says
the pod exists (applied), names it and says how to get rid of it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from k8s_debug_mcp.tools.errors import WaitTimeout
from k8s_debug_mcp.tools.waiting import discard, wait_for_our_pod

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


async def test_a_created_pod_that_never_runs_times_out_as_applied_naming_it() -> None:
    gateway = NeverRuns()
    with pytest.raises(WaitTimeout) as caught:
        await wait_for_our_pod(
            gateway,  # type: ignore[arg-type]
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
