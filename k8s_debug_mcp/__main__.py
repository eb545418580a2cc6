"""`python -m k8s_debug_mcp`: the same as the `k8s-debug-mcp` console script."""

from k8s_debug_mcp.server.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
