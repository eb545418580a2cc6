"""Errors raised by the tools layer; each message is short, model-facing and says what to do next.

```
DebugError                      the base: .message (what happened) + .hint (what to do next)
├─ ClusterUnavailable           no kubeconfig, bad context, API server unreachable, TLS failure
│  └─ ConnectionLost            the connection broke mid-request (a write may have been applied)
├─ PolicyDenied(setting)        names the policy setting that refused the request
├─ InvalidRequest               arguments that are well-formed but unusable together
├─ InvalidTarget                pod/container missing from the pod, completed pod, name clash
├─ KubeApiError(status, reason) built only from a meta/v1 Status body, never str(ApiException)
│  ├─ Unauthorized              401: credentials rejected or expired
│  ├─ Forbidden                 403: names the verb and resource that RBAC refused
│  ├─ NotFound                  404 naming an object
│  │  └─ EphemeralContainersUnsupported   404 with empty details.name on the subresource
│  ├─ Conflict                  409
│  ├─ Gone                      410: an expired continue token or resourceVersion
│  ├─ StorageUnavailable        5xx: the API server is up, its etcd is not
│  └─ Invalid                   422: with the field causes
├─ ExecFailed(exit_code)        a command ran and failed in a way the caller must see
├─ StartFailed                  a container will not start (ErrImagePull, CreateContainerConfigError, …)
├─ WaitTimeout                  with the last waiting reason/message seen
└─ OutcomeUnknown               a write whose connection broke and whose target could not be re-read
```

`.applied` says what became of a write the error interrupted: True (the API server applied
it; found by re-reading the target after a transport error), False (not applied), None
(not a write, or unknown). The audit's outcome line records it.

Only the gateway turns library exceptions into these; only the server turns these into
MCP tool errors.
"""

from __future__ import annotations

__all__ = [
    "ClusterUnavailable",
    "Conflict",
    "ConnectionLost",
    "DebugError",
    "EphemeralContainersUnsupported",
    "ExecFailed",
    "Forbidden",
    "Gone",
    "Invalid",
    "InvalidRequest",
    "InvalidTarget",
    "KubeApiError",
    "NotFound",
    "OutcomeUnknown",
    "PolicyDenied",
    "StartFailed",
    "StorageUnavailable",
    "Unauthorized",
    "WaitTimeout",
]


class DebugError(Exception):
    """A failure the model can read and act on."""

    def __init__(self, message: str, *, hint: str | None = None, applied: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.applied = applied

    def __str__(self) -> str:
        text = self.message if self.message.endswith((".", "?", "!")) else self.message + "."
        if self.hint:
            return f"{text} Next: {self.hint}"
        return text

    @property
    def kind(self) -> str:
        return type(self).__name__


class ClusterUnavailable(DebugError):
    """The Kubernetes API cannot be reached or no credentials are configured."""


class ConnectionLost(ClusterUnavailable):
    """The connection broke while a request was in flight: the API server may have acted on it."""


class PolicyDenied(DebugError):
    """The server's policy refused the request."""

    def __init__(self, message: str, *, setting: str, hint: str | None = None) -> None:
        super().__init__(f"{message} (refused by policy setting '{setting}')", hint=hint)
        self.setting = setting


class InvalidRequest(DebugError):
    """Arguments that validate one by one but cannot be served together."""


class InvalidTarget(DebugError):
    """The pod or container named cannot be used for this request."""


class KubeApiError(DebugError):
    """The API server refused a request; built from its Status object."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        reason: str = "",
        hint: str | None = None,
        applied: bool | None = None,
    ) -> None:
        super().__init__(message, hint=hint, applied=applied)
        self.status = status
        self.reason = reason


class Unauthorized(KubeApiError):
    pass


class Forbidden(KubeApiError):
    pass


class NotFound(KubeApiError):
    pass


class EphemeralContainersUnsupported(NotFound):
    pass


class Conflict(KubeApiError):
    pass


class Gone(KubeApiError):
    pass


class StorageUnavailable(KubeApiError):
    """The API server answers but its storage (etcd) does not: 5xx naming etcd or a storage timeout."""


class Invalid(KubeApiError):
    pass


class ExecFailed(DebugError):
    def __init__(self, message: str, *, exit_code: int | None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.exit_code = exit_code


class StartFailed(DebugError):
    pass


class WaitTimeout(DebugError):
    pass


class OutcomeUnknown(DebugError):
    """The connection broke during a write and the target could not be re-read to tell."""
