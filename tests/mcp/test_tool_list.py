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
WRITE_TOOLS = {"add_debug_container", "exec", "inspect", "copy_pod", "cleanup"}
# Opt-in surface: debug_node with node debugging on, a `context` argument with other contexts allowed.
EVERYTHING = Policy(node_debugging=True, allowed_contexts=("staging-*",))
# Budgets (issue 15): what the model reads every turn (name, description, input schema) and the
# whole tools/list with output schemas. Peers, measured by bench/peers.py: see docs/benchmarks.md.
MAX_MODEL_VISIBLE_BYTES = 8_192
MAX_TOOL_LIST_BYTES = 14_336


async def tool_list(settings: Settings) -> list[dict[str, Any]]:
    async with Client(build_server(settings)) as c:
        return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in (await c.list_tools()).tools]


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


async def test_tool_list_matches_the_reviewed_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert await tool_list(Settings(kubeconfig="/nonexistent")) == snapshot_json


async def test_read_tools_are_annotated_read_only_and_non_destructive() -> None:
    for tool in await tool_list(Settings(kubeconfig="/nonexistent", policy=EVERYTHING)):
        # Every tool hands back text written by the cluster's workloads (logs, exec output, event
        # messages): open world, the spec's default, so clients treat it as outside content.
        assert tool.get("annotations", {}).get("openWorldHint", True) is True
        if tool["name"] in READ_TOOLS:
            assert tool["annotations"]["readOnlyHint"] is True
            assert tool["annotations"]["destructiveHint"] is False
        assert "outputSchema" in tool
        assert "title" not in json.dumps(tool["inputSchema"]).replace('"title": {', "")


async def test_the_full_tool_set_is_small_and_named() -> None:
    assert {t["name"] for t in await tool_list(Settings(kubeconfig="/nonexistent"))} == READ_TOOLS | WRITE_TOOLS


async def test_opt_in_features_add_their_tool_and_argument_only_when_on() -> None:
    default = await tool_list(Settings(kubeconfig="/nonexistent"))
    everything = await tool_list(Settings(kubeconfig="/nonexistent", policy=EVERYTHING))
    assert {t["name"] for t in everything} == READ_TOOLS | WRITE_TOOLS | {"debug_node"}
    assert not any("context" in t["inputSchema"]["properties"] for t in default)
    assert all("context" in t["inputSchema"]["properties"] for t in everything)


async def test_read_only_mode_registers_only_read_tools() -> None:
    names = {t["name"] for t in await tool_list(Settings(kubeconfig="/nonexistent", policy=Policy(read_only=True)))}
    assert names == READ_TOOLS


def measured(tools: list[dict[str, Any]]) -> tuple[int, int]:
    """(model-visible bytes: name, description, input schema; the whole tools/list), compact JSON."""
    visible = sum(
        len(
            json.dumps(
                {"name": t["name"], "description": t["description"], "inputSchema": t["inputSchema"]},
                separators=(",", ":"),
            )
        )
        for t in tools
    )
    return visible, len(json.dumps(tools, separators=(",", ":")))


async def test_the_tool_list_stays_within_its_budgets() -> None:
    visible, size = measured(await tool_list(Settings(kubeconfig="/nonexistent")))
    assert visible <= MAX_MODEL_VISIBLE_BYTES, f"the model reads {visible} bytes of tool definitions"
    assert size <= MAX_TOOL_LIST_BYTES, f"tools/list is {size} bytes"


async def test_with_every_opt_in_feature_the_model_still_reads_under_its_budget() -> None:
    visible, size = measured(await tool_list(Settings(kubeconfig="/nonexistent", policy=EVERYTHING)))
    assert visible <= MAX_MODEL_VISIBLE_BYTES, f"the model reads {visible} bytes of tool definitions"
    assert size <= MAX_TOOL_LIST_BYTES + 1024, f"tools/list is {size} bytes"  # one more tool's output schema
