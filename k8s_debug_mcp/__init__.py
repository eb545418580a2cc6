"""k8s-debug-mcp: an MCP server for debugging Kubernetes workloads the way `kubectl debug` does."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("k8s-debug-mcp")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"

__all__ = ["__version__"]
