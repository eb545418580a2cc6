"""Server settings: one validated, immutable `Settings`, layered by pydantic-settings.

Precedence, highest first: command-line flags (server/cli.py passes them as init values),
`K8S_DEBUG_MCP_*` environment variables, the TOML file of `--config` (tables `[server]` and
`[policy]`), then the defaults below. Policy settings read flat variables
(`K8S_DEBUG_MCP_READ_ONLY`, `K8S_DEBUG_MCP_PROFILES=restricted,baseline`; lists are
comma-separated) and `K8S_DEBUG_MCP_NO_CONFIRM` turns confirmation off.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, SettingsError

from k8s_debug_mcp.tools.gateway import KubeSettings
from k8s_debug_mcp.tools.kube import JsonDict
from k8s_debug_mcp.tools.policy import Policy

__all__ = ["ENV_PREFIX", "LogLevel", "Settings", "Transport", "is_loopback", "load_settings"]

ENV_PREFIX = "K8S_DEBUG_MCP_"
Transport = Literal["stdio", "streamable-http"]
LogLevel = Literal["debug", "info", "warning", "error"]
HttpAuth = Literal["static", "tokenreview"]
PlanLedger = Literal["memory", "cluster"]
DEFAULT_AUDIENCE = "k8s-debug-mcp"

_config_file: ContextVar[str | None] = ContextVar("k8s_debug_mcp_config_file", default=None)
# Flat environment names of policy settings that differ from the field name.
_POLICY_ENV_ALIASES = {"ALLOW_NAMESPACES": "allowed_namespaces", "DENY_NAMESPACES": "denied_namespaces"}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _TomlTables(PydanticBaseSettingsSource):
    """The `--config` file: `[server]` keys at the top level, `[policy]` as the policy."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[object, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> JsonDict:
        path = _config_file.get()
        if path is None:
            return {}
        try:
            data = tomllib.loads(Path(path).expanduser().read_text())
        except OSError as exc:
            raise SettingsError(f"cannot read config {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"config {path} is not valid TOML: {exc}") from None
        unknown = set(data) - {"server", "policy"}
        if unknown:
            raise SettingsError(f"config {path}: unknown tables {sorted(unknown)}; use [server] and [policy]")
        out: JsonDict = dict(data.get("server") or {})
        if data.get("policy"):
            out["policy"] = dict(data["policy"])
        return out


class _PolicyEnv(PydanticBaseSettingsSource):
    """Flat `K8S_DEBUG_MCP_<POLICY FIELD>` variables; comma-separated lists; NO_CONFIRM."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[object, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> JsonDict:
        policy: JsonDict = {}
        names = {name.upper(): name for name in Policy.model_fields} | _POLICY_ENV_ALIASES
        for env_name, field in names.items():
            value = os.environ.get(ENV_PREFIX + env_name)
            if value in (None, ""):
                continue
            annotation = str(Policy.model_fields[field].annotation)
            policy[field] = [v.strip() for v in value.split(",") if v.strip()] if "tuple" in annotation else value
        no_confirm = os.environ.get(ENV_PREFIX + "NO_CONFIRM")
        if no_confirm not in (None, ""):
            policy["confirm"] = no_confirm.strip().lower() not in {"1", "true", "yes", "on"}
        return {"policy": policy} if policy else {}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid", env_ignore_empty=True)

    kubeconfig: str | None = Field(None, description="kubeconfig path; default $KUBECONFIG or ~/.kube/config")
    context: str | None = Field(None, description="kubeconfig context; default the current context")
    in_cluster: bool = Field(False, description="use the pod's service account")
    transport: Transport = Field("stdio", description="stdio or streamable-http")
    host: str = Field("127.0.0.1", description="HTTP bind address")
    port: int = Field(8000, ge=1, le=65535, description="HTTP port")
    log_level: LogLevel = Field("info", description="JSON log lines on stderr from this level up")
    api_timeout: float = Field(30.0, gt=0, le=600, description="seconds one Kubernetes API request may take")
    debug_image: str = Field("busybox:1.37", description="default image of debug containers (e.g. a local mirror)")
    debug_image_pull_policy: Literal["Always", "IfNotPresent", "Never"] | None = Field(
        None, description="imagePullPolicy of debuggers when a request names none; unset: the API server's default"
    )
    audit_log: str | None = Field(None, description="append-only JSON lines of every mutation attempt")
    http_token: SecretStr | None = Field(None, description="bearer token HTTP clients must send")
    http_read_timeout: float = Field(30.0, gt=0, description="seconds a request may take to send its body (408)")
    http_idle_timeout: float = Field(75.0, gt=0, description="seconds an idle keep-alive connection stays open")
    http_max_connections: int = Field(500, ge=1, description="concurrent connections beyond which HTTP answers 503")
    http_token_file: str | None = Field(None, description="file holding the HTTP bearer token")
    http_auth: HttpAuth = Field(
        "static",
        description="static: one shared bearer token (http_token), or none on loopback; tokenreview: each caller's "
        "own Kubernetes token for the audience below, checked with a TokenReview, and every API request "
        "impersonates that caller (team mode)",
    )
    token_audience: str = Field(
        DEFAULT_AUDIENCE, min_length=1, description="tokenreview: the audience callers' tokens must be issued for"
    )
    token_cache_seconds: float = Field(
        30.0, ge=0, le=300, description="tokenreview: how long a verdict is reused (never past the token's expiry)"
    )
    public_url: str | None = Field(
        None,
        description="the MCP endpoint's URL as clients reach it (RFC 9728 resource); default http://HOST:PORT/mcp",
    )
    auth_issuer_url: str | None = Field(
        None,
        description="tokenreview: the authorization server that issues callers' tokens, as advertised in the "
        "protected-resource metadata (e.g. your OIDC issuer); default: the public URL's origin",
    )
    http_stateless: bool = Field(
        False,
        description="streamable HTTP without sessions: any replica answers any request; 2025-era clients "
        "then confirm with plan ids (no elicitation back-channel)",
    )
    plan_ledger: PlanLedger | None = Field(
        None,
        description="where used plan ids are recorded: memory (one process) or cluster (ConfigMaps, shared by "
        "replicas); default: cluster with tokenreview, else memory",
    )
    plan_ledger_namespace: str | None = Field(
        None, description="namespace of the cluster plan ledger; default: the server's own (or its context's)"
    )
    owner_key: SecretStr | None = Field(None, description="key proving what this server created (>= 32 bytes)")
    owner_key_file: str | None = Field(
        None, description="file holding the owner key (e.g. a mounted Secret); default a generated local file"
    )
    metrics_port: int | None = Field(
        None, ge=0, le=65535, description="Prometheus /metrics on this port (streamable HTTP); unset: no metrics"
    )
    metrics_host: str | None = Field(None, description="bind address of the metrics port; default: host")
    policy: Policy = Field(default_factory=Policy, description="what this server may do")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _PolicyEnv(settings_cls), _TomlTables(settings_cls))

    @model_validator(mode="after")
    def _token_from_file_and_loopback_unless_authenticated(self) -> Settings:
        if self.http_token_file and self.http_token is None:
            try:
                token = Path(self.http_token_file).expanduser().read_text().strip()
            except OSError as exc:
                raise ValueError(f"cannot read http_token_file {self.http_token_file}: {exc.strerror}") from None
            object.__setattr__(self, "http_token", SecretStr(token) if token else None)
        for name in ("public_url", "auth_issuer_url"):
            url = getattr(self, name)
            if url is not None and not url.startswith(("http://", "https://")):
                raise ValueError(f"{name} must be an http:// or https:// URL")
        if self.http_auth == "tokenreview" and self.http_token is not None:
            raise ValueError(
                "http_auth=tokenreview checks each caller's own token: remove the static http_token "
                "(K8S_DEBUG_MCP_HTTP_TOKEN / --http-token-file), or use http_auth=static"
            )
        if not is_loopback(self.host) and self.http_token is None and self.http_auth == "static":
            raise ValueError(
                f"refusing to listen on {self.host!r} without authentication: set a bearer token "
                "(K8S_DEBUG_MCP_HTTP_TOKEN or --http-token-file), or bind loopback only (127.0.0.1, ::1, localhost)"
            )
        return self

    @property
    def read_only(self) -> bool:
        return self.policy.read_only

    @property
    def team(self) -> bool:
        """Team mode: callers authenticate with their own tokens and act as themselves."""
        return self.http_auth == "tokenreview"

    @property
    def ledger(self) -> PlanLedger:
        return self.plan_ledger or ("cluster" if self.team else "memory")

    @property
    def resource_url(self) -> str:
        """The MCP endpoint as clients reach it: what RFC 9728 metadata names as the protected resource."""
        if self.public_url:
            return self.public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/mcp"

    @property
    def kube(self) -> KubeSettings:
        return KubeSettings(
            kubeconfig=self.kubeconfig, context=self.context, in_cluster=self.in_cluster, timeout_s=self.api_timeout
        )


def load_settings(flags: JsonDict, *, config: str | None = None) -> Settings:
    """Settings from flags (highest), environment, the config file and defaults."""
    token = _config_file.set(config or os.environ.get(ENV_PREFIX + "CONFIG") or None)
    try:
        return Settings(**flags)
    finally:
        _config_file.reset(token)
