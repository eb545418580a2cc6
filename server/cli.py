"""Command line: flags -> Settings (pydantic-settings layers env and the config file below them) ->
logging -> run. Only the standard library is imported before the flags are parsed, so `--help`
and `--version` answer at once."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcp.server import MCPServer

    from k8s_debug_mcp.server.app import AppContext
    from k8s_debug_mcp.server.settings import Settings

__all__ = ["main", "parse_settings"]

ENV_PREFIX = "K8S_DEBUG_MCP_"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("k8s-debug-mcp")
    except PackageNotFoundError:
        return "0.0.0"


class _Version(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(f"k8s-debug-mcp {_version()}")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="k8s-debug-mcp",
        description="MCP server for debugging Kubernetes workloads (ephemeral debug containers, pod copies, logs).",
        epilog=f"Every flag also reads {ENV_PREFIX}<FLAG> from the environment, e.g. {ENV_PREFIX}CONTEXT. "
        "Precedence: flags, then environment, then the config file, then defaults.",
        allow_abbrev=False,
    )
    p.add_argument("--config", default=None, help="TOML file: [server] and [policy] tables")
    p.add_argument("--kubeconfig", default=None, help="kubeconfig path (default $KUBECONFIG or ~/.kube/config)")
    p.add_argument("--context", default=None, help="kubeconfig context (default: current context)")
    p.add_argument("--in-cluster", action="store_const", const=True, default=None, help="use the service account")
    p.add_argument("--transport", choices=["stdio", "streamable-http"], default=None)
    p.add_argument("--host", default=None, help="HTTP bind address (non-loopback needs a token)")
    p.add_argument("--port", type=int, default=None, help="HTTP port")
    p.add_argument("--log-level", choices=["debug", "info", "warning", "error"], default=None)
    p.add_argument("--debug-image", default=None, help="default debug image (e.g. a local mirror's)")
    p.add_argument(
        "--debug-image-pull-policy", choices=["Always", "IfNotPresent", "Never"], default=None, help="of debuggers"
    )
    p.add_argument("--api-timeout", type=float, default=None, help="seconds one API request may take (default 30)")
    p.add_argument("--audit-log", default=None, help="append-only JSONL audit file of every mutation attempt")
    p.add_argument("--metrics-port", type=int, default=None, help="Prometheus /metrics port (streamable HTTP)")
    p.add_argument("--metrics-host", default=None, help="metrics bind address (default: --host)")
    p.add_argument("--http-token-file", default=None, help="file holding the bearer token HTTP clients must send")
    p.add_argument("--owner-key-file", default=None, help="file holding the key that proves what this server made")
    t = p.add_argument_group("team mode (streamable HTTP: each caller acts as themselves)")
    t.add_argument(
        "--http-auth",
        choices=["static", "tokenreview"],
        default=None,
        help="static: one shared token (default); tokenreview: callers' own Kubernetes tokens, impersonated",
    )
    t.add_argument("--token-audience", default=None, help="audience callers' tokens must carry (k8s-debug-mcp)")
    t.add_argument("--public-url", default=None, help="the MCP URL as clients reach it (RFC 9728 resource)")
    t.add_argument("--auth-issuer-url", default=None, help="authorization server named in the resource metadata")
    t.add_argument(
        "--http-stateless",
        action="store_const",
        const=True,
        default=None,
        help="no HTTP sessions: any replica answers any request",
    )
    t.add_argument("--plan-ledger", choices=["memory", "cluster"], default=None, help="where used plan ids are kept")
    t.add_argument("--plan-ledger-namespace", default=None, help="namespace of the cluster plan ledger")
    g = p.add_argument_group("policy (also the [policy] table of --config)")
    g.add_argument("--read-only", action="store_const", const=True, default=None, help="expose only read tools")
    g.add_argument("--preview-only", action="store_const", const=True, default=None, help="writes only as dry runs")
    g.add_argument(
        "--no-confirm",
        action="store_const",
        const=True,
        default=None,
        help="mutations without the user's confirmation (automation)",
    )
    g.add_argument("--allow-namespaces", default=None, help="comma-separated globs (default *)")
    g.add_argument("--deny-namespaces", default=None, help="comma-separated globs")
    g.add_argument("--profiles", default=None, help="allowed debug profiles, comma-separated")
    g.add_argument("--debug-images", default=None, help="allowed image globs, comma-separated")
    g.add_argument(
        "--node-debugging", action="store_const", const=True, default=None, help="allow debug_node (host access)"
    )
    g.add_argument("--allowed-nodes", default=None, help="node name globs for debug_node, comma-separated")
    p.add_argument("--version", action=_Version, nargs=0, help="print the version and exit")
    return p


def _csv(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


def _flags(args: argparse.Namespace) -> dict[str, object]:
    server = {
        key: getattr(args, key)
        for key in (
            "kubeconfig",
            "context",
            "in_cluster",
            "transport",
            "host",
            "port",
            "log_level",
            "debug_image",
            "api_timeout",
            "debug_image_pull_policy",
            "audit_log",
            "http_token_file",
            "owner_key_file",
            "metrics_port",
            "metrics_host",
            "http_auth",
            "token_audience",
            "public_url",
            "auth_issuer_url",
            "http_stateless",
            "plan_ledger",
            "plan_ledger_namespace",
        )
        if getattr(args, key) is not None
    }
    policy = {
        key: value
        for key, value in (
            ("read_only", args.read_only),
            ("preview_only", args.preview_only),
            ("confirm", False if args.no_confirm else None),
            ("allowed_namespaces", _csv(args.allow_namespaces)),
            ("denied_namespaces", _csv(args.deny_namespaces)),
            ("profiles", _csv(args.profiles)),
            ("debug_images", _csv(args.debug_images)),
            ("node_debugging", args.node_debugging),
            ("allowed_nodes", _csv(args.allowed_nodes)),
        )
        if value is not None
    }
    return {**server, "policy": policy} if policy else server


def parse_settings(argv: Sequence[str] | None = None) -> Settings:
    args = _parser().parse_args(argv)
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from k8s_debug_mcp.server.settings import load_settings

    try:
        return load_settings(_flags(args), config=args.config)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
    except SettingsError as exc:
        problems = str(exc)
    print(f"k8s-debug-mcp: invalid settings: {problems}", file=sys.stderr)
    raise SystemExit(2)


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_settings(argv)
    from k8s_debug_mcp.server.logs import configure_logging, get_logger

    configure_logging(settings.log_level)
    log = get_logger()
    from k8s_debug_mcp.server.app import build_server  # after logging: imports are slow and may log

    if settings.transport == "streamable-http":
        from k8s_debug_mcp.server.observability import configure_tracing

        try:
            configure_tracing()
        except RuntimeError as exc:  # an OTLP endpoint without the otel extra: run without traces
            log.warning("tracing_unavailable", error=str(exc))
    server = build_server(settings)
    log.info(
        "starting",
        version=_version(),
        transport=settings.transport,
        read_only=settings.read_only,
        http_auth=settings.http_auth if settings.transport == "streamable-http" else None,
        plan_ledger=settings.ledger,
        context=settings.context,
        kubeconfig=settings.kubeconfig,
        policy=settings.policy.model_dump(mode="json"),
    )
    try:
        if settings.transport == "stdio":
            _run_stdio(server)
        else:
            from k8s_debug_mcp.server.web import run_http

            run_http(server, settings)
    except KeyboardInterrupt:
        pass
    return 0


def _run_stdio(server: MCPServer[AppContext]) -> None:
    """A client that vanishes (its end of stdout closed) ends the session quietly: one log line, exit 0."""
    import os

    import anyio

    from k8s_debug_mcp.server.logs import get_logger
    from k8s_debug_mcp.server.pipes import serve_stdio

    async def serve() -> None:
        lowlevel = server._lowlevel_server  # the SDK's run_stdio_async, with our transport
        async with serve_stdio() as (read, write):
            await lowlevel.run(read, write, lowlevel.create_initialization_options())  # type: ignore[arg-type]

    try:
        anyio.run(serve)
    except* (BrokenPipeError, ConnectionResetError):
        get_logger().info("client_gone", detail="stdout closed by the client; work in flight was cancelled")
        # the interpreter flushes stdout on exit: point it at /dev/null so that flush cannot fail too
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
