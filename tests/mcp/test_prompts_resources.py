"""Prompts render with their arguments; resource templates read pod status and logs."""

from __future__ import annotations

import pytest
from mcp import Client
from mcp.types import TextContent, TextResourceContents

from tests.conftest import Seeded

pytestmark = pytest.mark.anyio

PROMPTS = {"investigate_crash", "debug_distroless", "compare_with_copy", "clean_up"}


async def test_prompts_are_listed_and_render_with_their_arguments(client: Client) -> None:
    listed = {p.name for p in (await client.list_prompts()).prompts}
    assert listed == PROMPTS
    got = await client.get_prompt("investigate_crash", {"namespace": "shop", "workload": "slim"})
    message = got.messages[0].content
    assert isinstance(message, TextContent)
    assert "diagnose(namespace='shop', name='slim')" in message.text
    distroless = await client.get_prompt("debug_distroless", {"namespace": "shop", "workload": "slim"})
    content = distroless.messages[0].content
    assert isinstance(content, TextContent)
    assert "target='app'" in content.text


@pytest.mark.cluster
async def test_resource_templates_read_status_and_logs(client: Client, seeded: Seeded) -> None:
    templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
    assert templates == {
        "k8s://namespaces/{namespace}/pods/{pod}",
        "k8s://namespaces/{namespace}/pods/{pod}/logs/{container}",
    }
    status = await client.read_resource(f"k8s://namespaces/{seeded.namespace}/pods/{seeded.crash_pod}")
    first = status.contents[0]
    assert isinstance(first, TextResourceContents)
    assert f"pod {seeded.namespace}/{seeded.crash_pod}: phase Running, status CrashLoopBackOff" in first.text
    logs = await client.read_resource(f"k8s://namespaces/{seeded.namespace}/pods/{seeded.slim_pod}/logs/app")
    assert isinstance(logs.contents[0], TextResourceContents)
    assert "<untrusted-output" in logs.contents[0].text
