"""Command line: flags (with environment defaults) -> Settings -> logging -> run."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from k8s_debug_mcp import __version__
from k8s_debug_mcp.server.logging import configure_logging, get_logger
from k8s_debug_mcp.server.settings import Settings

__all__ = ["main", "parse_settings"]

ENV_PREFIX = "K8S_DEBUG_MCP_"
_TRUE = {"1", "true", "yes", "on"}


def _env(name: str) -> str | None:
    value = os.environ.get(ENV_PREFIX + name)
    return value if value not in (None, "") else None


def _env_bool(name: str) -> bool:
    return (_env(name) or "").lower() in _TRUE


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="k8s-debug-mcp",
        description="MCP server for debugging Kubernetes workloads (ephemeral debug containers, pod copies, logs).",
        epilog=f"Every flag also reads {ENV_PREFIX}<FLAG> from the environment, e.g. {ENV_PREFIX}CONTEXT.",
    )
    p.add_argument(
        "--kubeconfig", default=_env("KUBECONFIG"), help="kubeconfig path (default $KUBECONFIG or ~/.kube/config)"
    )
    p.add_argument("--context", default=_env("CONTEXT"), help="kubeconfig context (default: current context)")
    p.add_argument(
        "--in-cluster", action="store_true", default=_env_bool("IN_CLUSTER"), help="use the pod's service account"
    )
    p.add_argument("--transport", choices=["stdio", "streamable-http"], default=_env("TRANSPORT") or "stdio")
    p.add_argument("--host", default=_env("HOST") or "127.0.0.1", help="HTTP bind address (loopback only)")
    p.add_argument("--port", type=int, default=int(_env("PORT") or 8000), help="HTTP port")
    p.add_argument("--log-level", choices=["debug", "info", "warning", "error"], default=_env("LOG_LEVEL") or "info")
    p.add_argument("--read-only", action="store_true", default=_env_bool("READ_ONLY"), help="expose only read tools")
    p.add_argument("--debug-image", default=_env("DEBUG_IMAGE") or "busybox:1.37", help="default debug image")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def parse_settings(argv: Sequence[str] | None = None) -> Settings:
    args = _parser().parse_args(argv)
    try:
        return Settings(
            kubeconfig=args.kubeconfig,
            context=args.context,
            in_cluster=args.in_cluster,
            transport=args.transport,
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            read_only=args.read_only,
            debug_image=args.debug_image,
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()
        )
        print(f"k8s-debug-mcp: invalid settings: {problems}", file=sys.stderr)
        raise SystemExit(2) from None


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_settings(argv)
    configure_logging(settings.log_level)
    log = get_logger()
    from k8s_debug_mcp.server.app import build_server  # after logging: imports are slow and may log

    server = build_server(settings)
    log.info(
        "starting",
        version=__version__,
        transport=settings.transport,
        read_only=settings.read_only,
        context=settings.context,
        kubeconfig=settings.kubeconfig,
    )
    try:
        if settings.transport == "stdio":
            server.run()
        else:
            server.run(transport="streamable-http", host=settings.host, port=settings.port)
    except KeyboardInterrupt:
        pass
    return 0
