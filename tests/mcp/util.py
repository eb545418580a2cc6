"""Small readers for tool results, and the raw JSON-RPC messages tests send by hand."""

from __future__ import annotations

from typing import Any

from mcp.types import CallToolResult, TextContent


def text(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def data(result: CallToolResult) -> dict[str, Any]:
    assert result.structured_content is not None, text(result)
    sc: dict[str, Any] = result.structured_content
    return sc


def initialize(client: str = "raw", version: str = "2025-11-25") -> dict[str, Any]:
    """The `initialize` request a raw client sends first (id 1)."""
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": client, "version": "0"}},
    }


INITIALIZED: dict[str, Any] = {"jsonrpc": "2.0", "method": "notifications/initialized"}
