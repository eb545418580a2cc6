"""Server settings: one validated, immutable object built from flags and environment."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from k8s_debug_mcp.tools.gateway import KubeSettings
from k8s_debug_mcp.tools.policy import Policy

__all__ = ["LogLevel", "Settings", "Transport"]

Transport = Literal["stdio", "streamable-http"]
LogLevel = Literal["debug", "info", "warning", "error"]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kubeconfig: str | None = Field(None, description="kubeconfig path; default $KUBECONFIG or ~/.kube/config")
    context: str | None = Field(None, description="kubeconfig context; default the current context")
    in_cluster: bool = Field(False, description="use the pod's service account")
    transport: Transport = "stdio"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    log_level: LogLevel = "info"
    debug_image: str = Field("busybox:1.37", description="default image of debug containers")
    policy: Policy = Field(default_factory=Policy)
    audit_log: str | None = Field(None, description="append-only JSON lines of every mutation attempt")

    @property
    def read_only(self) -> bool:
        return self.policy.read_only

    http_token: SecretStr | None = Field(None, description="bearer token HTTP clients must send")

    @model_validator(mode="after")
    def _loopback_unless_authenticated(self) -> Settings:
        if not is_loopback(self.host) and self.http_token is None:
            raise ValueError(
                f"refusing to listen on {self.host!r} without authentication: set a bearer token "
                "(K8S_DEBUG_MCP_HTTP_TOKEN or --http-token-file), or bind loopback only (127.0.0.1, ::1, localhost)"
            )
        return self

    @property
    def kube(self) -> KubeSettings:
        return KubeSettings(kubeconfig=self.kubeconfig, context=self.context, in_cluster=self.in_cluster)
