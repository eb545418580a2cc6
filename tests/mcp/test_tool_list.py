"""The tool list is part of the product: every byte is read by the model on every turn."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from k8s_debug_mcp.server import Settings, build_server
from k8s_debug_mcp.tools.policy import Policy

pytestmark = pytest.mark.anyio

READ_TOOLS = {"diagnose", "list_pods", "pod_status", "pod_logs", "whoami"}
WRITE_TOOLS = {"add_debug_container", "exec", "inspect", "copy_pod", "debug_node", "cleanup"}
MAX_TOOL_LIST_BYTES = 23_500  # 8 tools with output schemas; peers send ~25 KB for 20 tools without


async def tool_list(settings: Settings) -> list[dict[str, Any]]:
    async with Client(build_server(settings)) as c:
        return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in (await c.list_tools()).tools]


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


async def test_tool_list_matches_the_reviewed_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert await tool_list(Settings(kubeconfig="/nonexistent")) == snapshot_json


async def test_read_tools_are_annotated_read_only_and_non_destructive() -> None:
    for tool in await tool_list(Settings(kubeconfig="/nonexistent")):
        if tool["name"] in READ_TOOLS:
            assert tool["annotations"]["readOnlyHint"] is True
            assert tool["annotations"]["destructiveHint"] is False
        assert "outputSchema" in tool
        assert "title" not in json.dumps(tool["inputSchema"]).replace('"title": {', "")


async def test_the_full_tool_set_is_small_and_named() -> None:
    assert {t["name"] for t in await tool_list(Settings(kubeconfig="/nonexistent"))} == READ_TOOLS | WRITE_TOOLS


async def test_read_only_mode_registers_only_read_tools() -> None:
    names = {t["name"] for t in await tool_list(Settings(kubeconfig="/nonexistent", policy=Policy(read_only=True)))}
    assert names == READ_TOOLS


async def test_the_tool_list_stays_small() -> None:
    size = len(json.dumps(await tool_list(Settings(kubeconfig="/nonexistent")), separators=(",", ":")))
    assert size <= MAX_TOOL_LIST_BYTES, f"tools/list is {size} bytes"
