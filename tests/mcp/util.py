"""Small readers for tool results, and the raw JSON-RPC messages tests send by hand."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
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


def post_initialize(url: str, token: str | None = None, *, timeout: float = 15) -> tuple[int, dict[str, str], str]:
    """POST an `initialize` to a streamable-HTTP endpoint (with a bearer token if given):
    the status, headers and body, errors included."""
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=json.dumps(initialize("t")).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return int(resp.status), dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return int(exc.code), dict(exc.headers), exc.read().decode()
