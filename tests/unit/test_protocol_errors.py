"""Protocol errors as the spec says, in both eras: an unknown tool or prompt, a prompt without its
arguments and a resource that does not exist are invalid params (-32602), not results or -32603."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from k8s_debug_mcp.server import Settings, build_server
from k8s_debug_mcp.tools.policy import Policy
from tests.fakes import FakeGateway, running_pod

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["auto", "legacy"], ids=["modern", "legacy"])
def era(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def server(tmp_path: Path) -> object:
    fake = FakeGateway()
    fake.add(running_pod("web"))
    settings = Settings(kubeconfig="/nonexistent", audit_log=str(tmp_path / "a.jsonl"), policy=Policy(confirm=False))
    return build_server(settings, gateway=fake)


async def test_an_unknown_tool_is_invalid_params(tmp_path: Path, era: str) -> None:
    async with Client(server(tmp_path), mode=era) as client:  # type: ignore[arg-type]
        with pytest.raises(MCPError) as exc:
            await client.call_tool("delete_everything", {})
    assert exc.value.error.code == -32602
    assert "Unknown tool: delete_everything" in exc.value.error.message


async def test_an_unknown_prompt_or_a_missing_argument_is_invalid_params(tmp_path: Path, era: str) -> None:
    async with Client(server(tmp_path), mode=era) as client:  # type: ignore[arg-type]
        with pytest.raises(MCPError) as unknown:
            await client.get_prompt("no_such_prompt", {})
        with pytest.raises(MCPError) as missing:
            await client.get_prompt("investigate_crash", {"namespace": "ns"})
        fine = await client.get_prompt("investigate_crash", {"namespace": "ns", "workload": "web"})
    assert unknown.value.error.code == -32602
    assert missing.value.error.code == -32602
    assert "workload" in missing.value.error.message
    assert fine.messages


async def test_a_resource_that_does_not_exist_is_invalid_params(tmp_path: Path, era: str) -> None:
    async with Client(server(tmp_path), mode=era) as client:  # type: ignore[arg-type]
        with pytest.raises(MCPError) as pod:
            await client.read_resource("k8s://namespaces/ns/pods/ghost")
        with pytest.raises(MCPError) as scheme:
            await client.read_resource("k8s://nothing/here")
        ok = await client.read_resource("k8s://namespaces/ns/pods/web")
    assert pod.value.error.code == -32602
    assert scheme.value.error.code == -32602
    assert ok.contents
