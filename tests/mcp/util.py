"""Small readers for tool results."""

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
