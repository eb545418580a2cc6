"""The MCP adapter: the only layer that imports `mcp`.

`build_server`, `Settings` and `AppContext` are imported on first use, so `k8s-debug-mcp --help`
and `--version` answer without loading the SDK or the Kubernetes client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["AppContext", "Settings", "build_server"]

if TYPE_CHECKING:
    from k8s_debug_mcp.server.app import AppContext, build_server
    from k8s_debug_mcp.server.settings import Settings


def __getattr__(name: str) -> Any:
    if name in ("AppContext", "build_server"):
        from k8s_debug_mcp.server import app

        return getattr(app, name)
    if name == "Settings":
        from k8s_debug_mcp.server.settings import Settings

        return Settings
    raise AttributeError(name)
