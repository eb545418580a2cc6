"""exec through MCP: the real API server's exec websocket to a KWOK node (commands run on the host
as `nobody`, so they prove the wire protocol, exit codes, stream separation, caps and timeouts)."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.types import CallToolResult

from k8s_debug_mcp.server import Settings, build_server
from tests.conftest import Kube, Seeded
from tests.integration.test_gateway import restricted_kubeconfig
from tests.mcp.util import data, text

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]


async def run(client: Client, seeded: Seeded, command: list[str], **args: Any) -> CallToolResult:
    return await client.call_tool(
        "exec", {"namespace": seeded.namespace, "pod": seeded.slim_pod, "command": command, **args}
    )


async def test_stdout_stderr_and_exit_code_come_back_separately(client: Client, seeded: Seeded, debugger: str) -> None:
    res = await run(client, seeded, ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert not res.is_error, text(res)
    sc = data(res)
    assert (sc["stdout"], sc["stderr"], sc["exit_code"]) == ("out\n", "err\n", 3)
    assert sc["container"] == debugger
    assert text(res).startswith(f"exit code 3 in {seeded.namespace}/{seeded.slim_pod} container {debugger}")
    assert re.search(
        r'<untrusted-output id="(\w+)" source="stdout, 4 bytes">\nout\n</untrusted-output id="\1">', text(res)
    )


async def test_stdin_is_delivered_and_closed(client: Client, seeded: Seeded, debugger: str) -> None:
    sc = data(await run(client, seeded, ["cat"], stdin="line one\nline two\n", timeout_seconds=20))
    assert sc["stdout"] == "line one\nline two\n"
    assert sc["exit_code"] == 0


async def test_fifty_megabytes_return_promptly_with_the_cap_honoured(
    client: Client, seeded: Seeded, debugger: str
) -> None:
    started = time.monotonic()
    sc = data(await run(client, seeded, ["sh", "-c", "head -c 50000000 /dev/zero | tr '\\0' x"], max_output_bytes=4096))
    assert time.monotonic() - started < 10
    assert sc["output_limit_hit"] is True
    assert sc["truncated"] is True
    assert sc.get("exit_code") is None
    assert len(sc["stdout"].encode()) <= 4096 + 64
    assert sc["stdout_bytes"] < 50_000_000


async def sockets_settle(limit: int, within_s: float = 5.0) -> bool:
    """True once this process holds at most `limit` sockets (a closed one may take a moment to go)."""
    deadline = time.monotonic() + within_s
    while open_sockets() > limit:
        if time.monotonic() > deadline:
            return False
        await anyio.sleep(0.1)
    return True


def open_sockets() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except FileNotFoundError:  # the listing's own descriptor
            continue
    return count


async def test_a_hanging_command_returns_at_the_timeout_and_leaves_no_connection(
    kubeconfig: str, seeded: Seeded, make_settings: Callable[..., Settings]
) -> None:
    async with Client(build_server(make_settings(kubeconfig))) as client:
        await client.call_tool("add_debug_container", {"namespace": seeded.namespace, "pod": seeded.slim_pod})
        warm = await run(client, seeded, ["true"])
        assert data(warm)["exit_code"] == 0
        before = open_sockets()
        started = time.monotonic()
        res = await run(client, seeded, ["sleep", "60"], timeout_seconds=2)
        elapsed = time.monotonic() - started
        settled = await sockets_settle(before)
    sc = data(res)
    assert sc["timed_out"] is True
    assert sc.get("exit_code") is None
    assert 2 <= elapsed < 6
    assert settled
    assert "no exit within 2s" in text(res)


async def test_a_missing_command_is_explained(client: Client, seeded: Seeded, debugger: str) -> None:
    sc = data(await run(client, seeded, ["no-such-command-here"]))
    assert sc.get("exit_code") is None
    assert "executable file not found" in sc["error"]
    assert "does not exist in this container's image" in sc["hint"]


async def test_without_a_debugger_exec_says_to_add_one(client: Client, seeded: Seeded) -> None:
    res = await run(client, seeded, ["ps"])
    assert res.is_error
    assert "No running debugger added by this server" in text(res)
    assert "add_debug_container" in text(res)


async def test_a_container_that_is_not_running_is_refused_with_its_state(client: Client, seeded: Seeded) -> None:
    res = await client.call_tool(
        "exec", {"namespace": seeded.namespace, "pod": seeded.crash_pod, "container": "app", "command": ["ps"]}
    )
    assert res.is_error
    assert "Container app of pod" in text(res)
    assert "is waiting (CrashLoopBackOff); exec needs it running" in text(res)


async def test_an_unknown_container_lists_the_real_ones(client: Client, seeded: Seeded) -> None:
    res = await client.call_tool(
        "exec", {"namespace": seeded.namespace, "pod": seeded.slim_pod, "container": "db", "command": ["ps"]}
    )
    assert res.is_error
    assert "no container named 'db'" in text(res)


async def test_exec_forbidden_by_rbac_names_get_and_create_on_pods_exec(
    kube: Kube, seeded: Seeded, tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    cfg = restricted_kubeconfig(kube, seeded.namespace, tmp_path)
    async with Client(build_server(make_settings(cfg, exec_any_container_in=["*"]))) as client:
        res = await client.call_tool(
            "exec", {"namespace": seeded.namespace, "pod": seeded.slim_pod, "container": "app", "command": ["ps"]}
        )
    assert res.is_error
    assert "may not create pods/exec, get pods/exec" in text(res)


async def test_argv_is_never_run_through_a_shell(client: Client, seeded: Seeded, debugger: str) -> None:
    sc = data(await run(client, seeded, ["echo", "$(id)", ";", "rm -rf /", "`whoami`"]))
    assert sc["stdout"] == "$(id) ; rm -rf / `whoami`\n"


async def test_exec_into_an_app_container_is_refused_by_policy_unless_enabled(
    client: Client, seeded: Seeded, kubeconfig: str, make_settings: Callable[..., Settings]
) -> None:
    args = {"namespace": seeded.namespace, "pod": seeded.slim_pod, "container": "app", "command": ["true"]}
    refused = await client.call_tool("exec", args)
    assert refused.is_error
    assert "refused by policy setting 'exec_any_container_in'" in text(refused)
    async with Client(build_server(make_settings(kubeconfig, exec_any_container_in=["t-*"]))) as allowed:
        assert data(await allowed.call_tool("exec", args))["exit_code"] == 0


async def test_secret_looking_output_is_masked_and_counted(client: Client, seeded: Seeded, debugger: str) -> None:
    res = await run(client, seeded, ["echo", "Authorization: Bearer abcdefghijklmnopqrstuvwxyz"])
    sc = data(res)
    assert sc["stdout"] == "Authorization: Bearer [masked]\n"
    assert sc["masked"] == 1
    assert "abcdefghijklmnop" not in text(res)
    assert "1 secret-looking value(s) masked" in text(res)
