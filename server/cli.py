"""Command line: config file, then environment, then flags -> Settings -> logging -> run."""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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


def _env_bool(name: str) -> bool | None:
    value = _env(name)
    return None if value is None else value.lower() in _TRUE


def _csv(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="k8s-debug-mcp",
        description="MCP server for debugging Kubernetes workloads (ephemeral debug containers, pod copies, logs).",
        epilog=f"Every flag also reads {ENV_PREFIX}<FLAG> from the environment, e.g. {ENV_PREFIX}CONTEXT. "
        "Precedence: flags, then environment, then the config file.",
    )
    p.add_argument("--config", default=_env("CONFIG"), help="TOML file: [server] and [policy] tables")
    p.add_argument("--kubeconfig", default=None, help="kubeconfig path (default $KUBECONFIG or ~/.kube/config)")
    p.add_argument("--context", default=None, help="kubeconfig context (default: current context)")
    p.add_argument("--in-cluster", action="store_const", const=True, default=None, help="use the service account")
    p.add_argument("--transport", choices=["stdio", "streamable-http"], default=None)
    p.add_argument("--host", default=None, help="HTTP bind address (loopback only)")
    p.add_argument("--port", type=int, default=None, help="HTTP port")
    p.add_argument("--log-level", choices=["debug", "info", "warning", "error"], default=None)
    p.add_argument("--debug-image", default=None, help="default debug image")
    p.add_argument("--audit-log", default=None, help="append-only JSONL audit file of every mutation attempt")
    p.add_argument(
        "--http-token-file",
        default=None,
        help="file holding the bearer token HTTP clients must send (or env HTTP_TOKEN)",
    )
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
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def _load_config(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = tomllib.loads(Path(path).expanduser().read_text())
    except OSError as exc:
        raise SystemExit(f"k8s-debug-mcp: cannot read config {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SystemExit(f"k8s-debug-mcp: config {path} is not valid TOML: {exc}") from None
    unknown = set(data) - {"server", "policy"}
    if unknown:
        raise SystemExit(f"k8s-debug-mcp: config {path}: unknown tables {sorted(unknown)}; use [server] and [policy]")
    return data


def _pick(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def parse_settings(argv: Sequence[str] | None = None) -> Settings:
    args = _parser().parse_args(argv)
    config = _load_config(args.config)
    server: dict[str, Any] = dict(config.get("server") or {})
    policy: dict[str, Any] = dict(config.get("policy") or {})
    for key, flag, env in (
        ("kubeconfig", args.kubeconfig, _env("KUBECONFIG")),
        ("context", args.context, _env("CONTEXT")),
        ("in_cluster", args.in_cluster, _env_bool("IN_CLUSTER")),
        ("transport", args.transport, _env("TRANSPORT")),
        ("host", args.host, _env("HOST")),
        ("port", args.port, _env("PORT")),
        ("log_level", args.log_level, _env("LOG_LEVEL")),
        ("debug_image", args.debug_image, _env("DEBUG_IMAGE")),
        ("audit_log", args.audit_log, _env("AUDIT_LOG")),
    ):
        value = _pick(flag, env)
        if value is not None:
            server[key] = value
    token_file = _pick(args.http_token_file, _env("HTTP_TOKEN_FILE"))
    token = _env("HTTP_TOKEN")
    if token_file is not None:
        try:
            token = Path(token_file).expanduser().read_text().strip()
        except OSError as exc:
            raise SystemExit(f"k8s-debug-mcp: cannot read token file {token_file}: {exc.strerror}") from None
    if token:
        server["http_token"] = token
    no_confirm = _pick(args.no_confirm, _env_bool("NO_CONFIRM"))
    for key, value in (
        ("read_only", _pick(args.read_only, _env_bool("READ_ONLY"))),
        ("preview_only", _pick(args.preview_only, _env_bool("PREVIEW_ONLY"))),
        ("confirm", None if no_confirm is None else not no_confirm),
        ("allowed_namespaces", _csv(_pick(args.allow_namespaces, _env("ALLOW_NAMESPACES")))),
        ("denied_namespaces", _csv(_pick(args.deny_namespaces, _env("DENY_NAMESPACES")))),
        ("profiles", _csv(_pick(args.profiles, _env("PROFILES")))),
        ("debug_images", _csv(_pick(args.debug_images, _env("DEBUG_IMAGES")))),
    ):
        if value is not None:
            policy[key] = value
    try:
        return Settings(**server, policy=policy)
    except (ValidationError, TypeError) as exc:
        if isinstance(exc, ValidationError):
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()
            )
        else:
            problems = str(exc)
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
        policy=settings.policy.model_dump(mode="json"),
    )
    try:
        if settings.transport == "stdio":
            server.run()
        else:
            from k8s_debug_mcp.server.http import run_http

            run_http(server, settings)
    except KeyboardInterrupt:
        pass
    return 0
