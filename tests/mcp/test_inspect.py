"""inspect through MCP on the simulated node (commands run on the host as `nobody`)."""

from __future__ import annotations

import pytest
from mcp import Client

from tests.conftest import Seeded
from tests.mcp.util import data, text

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]


async def test_processes_come_back_as_rows(client: Client, seeded: Seeded, debugger: str) -> None:
    res = await client.call_tool("inspect", {"namespace": seeded.namespace, "pod": seeded.slim_pod})
    sc = data(res)
    assert sc["container"] == debugger
    rows = sc["processes"]
    assert any(r["command"].startswith("ps -o pid,user,args") for r in rows)
    assert all(isinstance(r["pid"], int) for r in rows)
    assert "<untrusted-output" in text(res)


async def test_a_root_the_debugger_may_not_read_gets_the_permission_hint(
    client: Client, seeded: Seeded, debugger: str
) -> None:
    res = await client.call_tool(
        "inspect", {"namespace": seeded.namespace, "pod": seeded.slim_pod, "what": "ls", "path": "/", "pid": 1}
    )
    sc = data(res)
    assert sc["path"] == "/proc/1/root/"
    assert sc["exit_code"] != 0
    assert "CAP_SYS_PTRACE" in sc["hint"]


async def test_a_missing_path_is_explained(client: Client, seeded: Seeded, debugger: str) -> None:
    res = await client.call_tool(
        "inspect",
        {
            "namespace": seeded.namespace,
            "pod": seeded.slim_pod,
            "what": "cat",
            "path": "/etc/services",
            "pid": 999999,
            "max_bytes": 256,
        },
    )
    sc = data(res)
    assert sc["path"] == "/proc/999999/root/etc/services"
    assert "nothing at /etc/services" in sc["hint"]


async def test_ls_without_a_path_is_a_clear_error(client: Client, seeded: Seeded, debugger: str) -> None:
    res = await client.call_tool("inspect", {"namespace": seeded.namespace, "pod": seeded.slim_pod, "what": "ls"})
    assert res.is_error
    assert "what=ls needs a path" in text(res)
