"""Without a reachable cluster the server still starts and lists tools; calls say what is wrong."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from mcp import Client
from mcp.types import TextContent

from k8s_debug_mcp.server import Settings, build_server

pytestmark = pytest.mark.anyio


async def first_text(settings: Settings, tool: str, args: dict[str, object]) -> tuple[bool, str]:
    async with Client(build_server(settings)) as c:
        assert (await c.list_tools()).tools
        res = await c.call_tool(tool, args)
    block = res.content[0]
    assert isinstance(block, TextContent)
    return bool(res.is_error), block.text


async def test_missing_kubeconfig_is_reported_when_a_tool_is_called(tmp_path: Path) -> None:
    is_error, body = await first_text(
        Settings(kubeconfig=str(tmp_path / "absent")), "list_pods", {"namespace": "default"}
    )
    assert is_error
    assert f"No kubeconfig file found at {tmp_path / 'absent'}." in body
    assert "--kubeconfig" in body  # a hint that works for an installed server (no repo scripts)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_unreachable_api_server_is_a_clear_error(tmp_path: Path) -> None:
    port = closed_port()
    cfg = tmp_path / "kubeconfig"
    cfg.write_text(
        f"""apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "https://127.0.0.1:{port}", insecure-skip-tls-verify: true}}}}]
users: [{{name: u, user: {{token: not-a-real-token}}}}]
contexts: [{{name: x, context: {{cluster: c, user: u}}}}]
current-context: x
"""
    )
    is_error, body = await first_text(Settings(kubeconfig=str(cfg)), "pod_status", {"namespace": "a", "pod": "b"})
    assert is_error
    assert body.startswith(
        f"Error executing tool pod_status: Cannot reach the Kubernetes API server at https://127.0.0.1:{port}"
    )
    assert "not-a-real-token" not in body


async def test_unknown_context_is_a_clear_error(tmp_path: Path) -> None:
    cfg = tmp_path / "kubeconfig"
    cfg.write_text("apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\ncurrent-context: ''\n")
    is_error, body = await first_text(
        Settings(kubeconfig=str(cfg), context="prod"), "list_pods", {"namespace": "default"}
    )
    assert is_error
    assert "No usable Kubernetes credentials" in body
