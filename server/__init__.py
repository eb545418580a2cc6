"""The MCP adapter: the only layer that imports `mcp`."""

from k8s_debug_mcp.server.app import AppContext, build_server
from k8s_debug_mcp.server.settings import Settings

__all__ = ["AppContext", "Settings", "build_server"]
