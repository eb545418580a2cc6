"""Typed Kubernetes debugging capabilities; framework-free (never imports `mcp`)."""
