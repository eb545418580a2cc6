from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from mcp import Client

from k8s_debug_mcp.server import Settings, build_server
from tests.conftest import Seeded
from tests.mcp.util import data


@pytest.fixture(params=["auto", "legacy"], ids=["modern", "legacy"])
def era(request: pytest.FixtureRequest) -> str:
    """Both protocol eras: 2026-07-28 (stateless, discover) and the initialize handshake."""
    return str(request.param)


@pytest.fixture
async def client(kubeconfig: str, era: str, make_settings: Callable[..., Settings]) -> AsyncIterator[Client]:
    async with Client(build_server(make_settings(kubeconfig)), mode=era) as c:
        yield c


@pytest.fixture
async def debugger(client: Client, seeded: Seeded) -> str:
    """A running debugger of ours targeting `app` in the seeded `slim` pod; its name."""
    res = await client.call_tool(
        "add_debug_container", {"namespace": seeded.namespace, "pod": seeded.slim_pod, "target": "app"}
    )
    return str(data(res)["container"])
