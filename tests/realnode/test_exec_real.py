"""The exec guarantees again, on real containers (runc through the kubelet's streaming server)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from mcp import Client

from k8s_debug_mcp.server import Settings, build_server
from tests.mcp.test_exec import open_sockets, sockets_settle
from tests.mcp.util import data
from tests.realnode.conftest import DEBUG_IMAGE, RealPod

pytestmark = [pytest.mark.anyio, pytest.mark.realnode, pytest.mark.cluster]


@pytest.fixture
async def debugged(
    kubeconfig: str, make_settings: Callable[..., Settings], real_slim: RealPod
) -> AsyncIterator[tuple[Client, RealPod]]:
    settings = make_settings(kubeconfig).model_copy(update={"debug_image": DEBUG_IMAGE})
    async with Client(build_server(settings)) as client:
        res = await client.call_tool(
            "add_debug_container",
            {"namespace": real_slim.namespace, "pod": real_slim.name, "target": "app", "image_pull_policy": "Never"},
        )
        assert data(res)["state"] == "running"
        yield client, real_slim


async def run(debugged: tuple[Client, RealPod], command: list[str], **args: Any) -> dict[str, Any]:
    client, pod = debugged
    return data(
        await client.call_tool("exec", {"namespace": pod.namespace, "pod": pod.name, "command": command, **args})
    )


async def test_streams_and_exit_codes_are_separate(debugged: tuple[Client, RealPod]) -> None:
    sc = await run(debugged, ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (sc["stdout"], sc["stderr"], sc["exit_code"]) == ("out\n", "err\n", 3)


async def test_stdin_reaches_the_command_and_closes(debugged: tuple[Client, RealPod]) -> None:
    sc = await run(debugged, ["wc", "-l"], stdin="a\nb\nc\n", timeout_seconds=20)
    assert sc["stdout"].strip() == "3"
    assert sc["exit_code"] == 0


async def test_fifty_megabytes_return_promptly_capped(debugged: tuple[Client, RealPod]) -> None:
    started = time.monotonic()
    sc = await run(debugged, ["sh", "-c", "head -c 50000000 /dev/zero | tr '\\0' x"], max_output_bytes=4096)
    assert time.monotonic() - started < 10
    assert sc["output_limit_hit"] is True
    assert len(sc["stdout"].encode()) <= 4096 + 64


async def test_a_hang_returns_at_the_timeout_without_leaking_connections(debugged: tuple[Client, RealPod]) -> None:
    await run(debugged, ["true"])
    before = open_sockets()
    started = time.monotonic()
    sc = await run(debugged, ["sleep", "60"], timeout_seconds=2)
    assert 2 <= time.monotonic() - started < 6
    assert sc["timed_out"] is True
    assert await sockets_settle(before)


async def test_a_missing_command_and_binary_output_are_handled(debugged: tuple[Client, RealPod]) -> None:
    missing = await run(debugged, ["no-such-command"])
    assert missing.get("exit_code") is None
    assert "does not exist in this container's image" in missing["hint"]
    binary = await run(debugged, ["head", "-c", "4096", "/bin/busybox"])
    assert binary["stdout_bytes"] == 4096
    assert "\x00" not in binary["stdout"]


async def test_a_long_command_reports_its_output_so_far_while_it_runs(debugged: tuple[Client, RealPod]) -> None:
    client, pod = debugged
    seen: list[tuple[float, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, message))

    res = await client.call_tool(
        "exec",
        {"namespace": pod.namespace, "pod": pod.name, "command": ["sh", "-c", "echo start; sleep 5; echo end"]},
        progress_callback=on_progress,
    )
    assert data(res)["stdout"] == "start\nend\n"
    assert len(seen) >= 2, seen  # every 2 s of the 5
    assert all(m is not None and m.endswith("6 bytes of output so far") for _, m in seen), seen
    assert 1.5 <= seen[0][0] < seen[-1][0] <= 6
