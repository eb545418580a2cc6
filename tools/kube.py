"""The Kubernetes vocabulary every tool speaks: typed views over raw API objects, and the facts
that several tools need (container states, our markers, start failures, exit codes, times).

API objects arrive as plain JSON dicts (camelCase keys, exactly as the API server sent them).
Instead of a safe-get idiom in every module, tools wrap them once in a view:

    pod = Pod(raw)
    for c in pod.containers():          # init, regular, ephemeral: spec and status together
        if c.state.phase == "waiting" and c.state.reason in START_FAILURES: ...

Views never copy or validate the object; a missing or mistyped field reads as empty.
Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

__all__ = [
    "ANN_CREATED",
    "ANN_DEBUGGER",
    "ANN_EXPIRES",
    "ANN_NODE",
    "ANN_OWNER",
    "ANN_SOURCE",
    "CREATE_FAILURES",
    "ENV_EXPIRES",
    "ENV_KEY",
    "ENV_OWNER",
    "IMAGE_PULL_FAILURES",
    "MANAGED_BY",
    "MANAGED_BY_LABEL",
    "MARKER_PREFIX",
    "START_FAILURES",
    "Container",
    "ContainerKind",
    "Json",
    "JsonDict",
    "Pod",
    "State",
    "controller_of",
    "exit_meaning",
    "format_age",
    "format_duration",
    "integer",
    "iso",
    "obj",
    "objs",
    "parse_time",
    "text",
    "utc_now",
]

Json = Mapping[str, Any]
"""An API object or part of one, as read (never mutated)."""
JsonDict = dict[str, Any]
"""A body we build: a patch, a manifest, a container."""

ContainerKind = Literal["init", "regular", "ephemeral"]

# -- our markers ------------------------------------------------------------------------
# Labels, annotations and env vars say what this server made; only ANN_OWNER / ENV_OWNER
# (keyed, see tools/ownership.py) prove it. The rest is bookkeeping anyone could copy.
MANAGED_BY_LABEL: Final = "app.kubernetes.io/managed-by"
MANAGED_BY: Final = "k8s-debug-mcp"
ANN_SOURCE: Final = "k8s-debug-mcp/source-pod"
ANN_CREATED: Final = "k8s-debug-mcp/created-at"
ANN_EXPIRES: Final = "k8s-debug-mcp/expires-at"
ANN_OWNER: Final = "k8s-debug-mcp/owner"
ANN_DEBUGGER: Final = "k8s-debug-mcp/debugger"
"""On a pod we created: the container to exec into by default."""
ANN_NODE: Final = "k8s-debug-mcp/node"
"""On a node debugger pod we created: the node it debugs (its root filesystem is at /host)."""
MARKER_PREFIX: Final = "K8S_DEBUG_MCP_"
ENV_KEY: Final = "K8S_DEBUG_MCP_KEY"
"""A debugger's spec fingerprint: the same request finds the same debugger (reuse)."""
ENV_EXPIRES: Final = "K8S_DEBUG_MCP_EXPIRES"
ENV_OWNER: Final = "K8S_DEBUG_MCP_OWNER"

# -- why a container will not start (waiting reasons that do not fix themselves) ---------------
IMAGE_PULL_FAILURES: Final = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"})
CREATE_FAILURES: Final = frozenset({"CreateContainerConfigError", "CreateContainerError", "RunContainerError"})
START_FAILURES: Final = IMAGE_PULL_FAILURES | CREATE_FAILURES


# -- reading raw JSON ---------------------------------------------------------------------


def obj(value: object) -> Json:
    """`value` if it is an object, else an empty one."""
    # `type(...) is dict` first: JSON objects are dicts, and the Mapping ABC check is slow in bulk.
    return value if type(value) is dict or isinstance(value, Mapping) else {}


def objs(value: object) -> list[Json]:
    """The objects of a list (anything else in it is skipped); [] for a non-list."""
    if not isinstance(value, list):
        return []
    return [v for v in value if type(v) is dict or isinstance(v, Mapping)]


def text(value: object) -> str | None:
    """A non-empty string as it is (not capped: capping is the output boundary's job), else None."""
    if type(value) is str:
        return value or None
    if value is None or isinstance(value, Mapping | list):
        return None
    return value if isinstance(value, str) else str(value)


def integer(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


# -- time -----------------------------------------------------------------------------------


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_time(value: object) -> datetime | None:
    """RFC 3339 as the API server writes it (Z or offset, optional fraction)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def iso(value: datetime) -> str:
    """RFC 3339 with a Z, to the second, as the API server writes it."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def format_age(then: datetime | None, now: datetime) -> str:
    """kubectl-like short durations: 45s, 5m30s, 42m, 3h20m, 20h, 2d4h, 40d, 3y."""
    if then is None:
        return "<unknown>"
    return format_duration(now - then)


def format_duration(span: timedelta) -> str:
    seconds = max(int(span.total_seconds()), 0)
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if hours < 3:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    return f"{days // 365}y"


# -- exit codes and signals ---------------------------------------------------------------------

_SIGNALS: Final = {
    1: "SIGHUP",
    2: "SIGINT",
    3: "SIGQUIT",
    4: "SIGILL",
    6: "SIGABRT",
    7: "SIGBUS",
    8: "SIGFPE",
    9: "SIGKILL",
    11: "SIGSEGV",
    13: "SIGPIPE",
    15: "SIGTERM",
}
_SIGNAL_MEANING: Final = {
    9: "killed by SIGKILL: out of memory, a failed liveness probe, or a kill from outside",
    15: "terminated by SIGTERM: asked to stop (probe, rollout, eviction or delete)",
    11: "crashed with a segmentation fault (SIGSEGV)",
    6: "aborted (SIGABRT): an assertion or a fatal runtime error",
    7: "bus error (SIGBUS)",
    4: "illegal instruction (SIGILL): often a binary built for another CPU",
}


def exit_meaning(code: int | None, signal: int | None = None, reason: str | None = None) -> str | None:
    """What an exit code (or signal, or terminated reason) means; None when it says nothing special."""
    if reason == "OOMKilled":
        return "killed for exceeding its memory limit (OOMKilled)"
    if reason == "ContainerCannotRun" or reason == "StartError":
        return "the runtime could not start the command (missing executable or bad entrypoint)"
    sig = signal or (code - 128 if code is not None and 128 < code < 160 else None)
    if sig is not None:
        meaning = _SIGNAL_MEANING.get(sig)
        name = _SIGNALS.get(sig, f"signal {sig}")
        return meaning or f"killed by {name}"
    if code == 127:
        return "exit 127: the command was not found in the image"
    if code == 126:
        return "exit 126: the command exists but cannot be executed (permissions or wrong architecture)"
    return None


# -- container states ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class State:
    """One container state: waiting, running or terminated (or unknown when the kubelet said nothing)."""

    phase: Literal["waiting", "running", "terminated", "unknown"]
    reason: str | None = None
    message: str | None = None
    exit_code: int | None = None
    signal: int | None = None
    started_at: str | None = None
    finished_at: str | None = None

    @staticmethod
    def of(raw: object) -> State:
        """Read a ContainerState (`state` or `lastState`); no status yet reads as waiting, without reason."""
        state = obj(raw)
        if "running" in state:
            return State("running", started_at=text(obj(state["running"]).get("startedAt")))
        if "terminated" in state:
            t = obj(state["terminated"])
            return State(
                "terminated",
                reason=text(t.get("reason")),
                message=text(t.get("message")),
                exit_code=integer(t.get("exitCode")),
                signal=integer(t.get("signal")) or None,
                started_at=text(t.get("startedAt")),
                finished_at=text(t.get("finishedAt")),
            )
        if "waiting" in state:
            w = obj(state["waiting"])
            return State("waiting", reason=text(w.get("reason")), message=text(w.get("message")))
        return State("waiting")

    @property
    def cannot_start(self) -> bool:
        return self.phase == "waiting" and self.reason in START_FAILURES

    @property
    def failed(self) -> bool:
        """Terminated with a non-zero code, a signal, or an OOM kill."""
        return self.phase == "terminated" and (
            bool(self.exit_code) or bool(self.signal) or self.reason in ("OOMKilled", "Error")
        )

    def describe(self) -> str:
        """Short: `running`, `waiting (ErrImagePull)`, `terminated (Error, exit 1)`."""
        if self.phase == "terminated":
            parts = [p for p in (self.reason, f"exit {self.exit_code}" if self.exit_code is not None else None) if p]
            return f"terminated ({', '.join(parts) or 'no reason'})"
        if self.phase == "waiting":
            return f"waiting ({self.reason or 'no status yet'})"
        return self.phase


# -- containers and pods ---------------------------------------------------------------------------

_KINDS: Final[tuple[tuple[ContainerKind, str, str], ...]] = (
    ("init", "initContainers", "initContainerStatuses"),
    ("regular", "containers", "containerStatuses"),
    ("ephemeral", "ephemeralContainers", "ephemeralContainerStatuses"),
)


@dataclass(frozen=True, slots=True)
class Container:
    """A container's spec and its status (empty before the kubelet reported one)."""

    kind: ContainerKind
    spec: Json
    status: Json

    @property
    def name(self) -> str:
        return str(self.spec.get("name") or "")

    @property
    def image(self) -> str | None:
        return text(self.status.get("image")) or text(self.spec.get("image"))

    @property
    def has_status(self) -> bool:
        return bool(self.status)

    @property
    def state(self) -> State:
        if not self.status:
            return State("waiting")
        state = obj(self.status.get("state"))
        return State.of(state) if state else State("unknown")

    @property
    def last_termination(self) -> State | None:
        last = obj(self.status.get("lastState"))
        return State.of(last) if "terminated" in last else None

    @property
    def restarts(self) -> int:
        return integer(self.status.get("restartCount")) or 0

    @property
    def ready(self) -> bool | None:
        ready = self.status.get("ready")
        return ready if isinstance(ready, bool) else None

    @property
    def target(self) -> str | None:
        return text(self.spec.get("targetContainerName"))

    @property
    def is_sidecar(self) -> bool:
        return self.kind == "init" and self.spec.get("restartPolicy") == "Always"

    @property
    def security_context(self) -> Json:
        return obj(self.spec.get("securityContext"))

    @property
    def memory_limit(self) -> str | None:
        return text(obj(obj(self.spec.get("resources")).get("limits")).get("memory"))

    def env(self, name: str) -> str | None:
        """The literal value of an env var (None when unset or taken from a reference)."""
        for entry in objs(self.spec.get("env")):
            if entry.get("name") == name:
                return text(entry.get("value"))
        return None


@dataclass(frozen=True, slots=True)
class Pod:
    """A Pod object as the API server sent it."""

    raw: Json

    @property
    def meta(self) -> Json:
        return obj(self.raw.get("metadata"))

    @property
    def spec(self) -> Json:
        return obj(self.raw.get("spec"))

    @property
    def status(self) -> Json:
        return obj(self.raw.get("status"))

    @property
    def name(self) -> str:
        return str(self.meta.get("name") or "")

    @property
    def namespace(self) -> str:
        return str(self.meta.get("namespace") or "")

    @property
    def uid(self) -> str:
        return str(self.meta.get("uid") or "")

    @property
    def resource_version(self) -> str:
        return str(self.meta.get("resourceVersion") or "")

    @property
    def labels(self) -> Json:
        return obj(self.meta.get("labels"))

    @property
    def annotations(self) -> Json:
        return obj(self.meta.get("annotations"))

    @property
    def created_at(self) -> datetime | None:
        return parse_time(self.meta.get("creationTimestamp"))

    @property
    def deleting(self) -> bool:
        return bool(self.meta.get("deletionTimestamp"))

    @property
    def phase(self) -> str:
        return str(self.status.get("phase") or "Unknown")

    @property
    def node(self) -> str | None:
        return text(self.spec.get("nodeName"))

    @property
    def is_mirror(self) -> bool:
        return bool(self.annotations.get("kubernetes.io/config.mirror"))

    @property
    def security_context(self) -> Json:
        return obj(self.spec.get("securityContext"))

    def containers(self, *kinds: ContainerKind) -> Iterator[Container]:
        """Every container of the given kinds (default all), in spec order: init, regular, ephemeral."""
        spec, status = self.spec, self.status
        for kind, spec_key, status_key in _KINDS:
            if kinds and kind not in kinds:
                continue
            statuses = {str(s.get("name")): s for s in objs(status.get(status_key))}
            for c in objs(spec.get(spec_key)):
                yield Container(kind, c, statuses.get(str(c.get("name")), {}))

    def container(self, name: str) -> Container | None:
        return next((c for c in self.containers() if c.name == name), None)

    def container_names(self) -> set[str]:
        """Names across containers, initContainers and ephemeralContainers (one namespace of names)."""
        return {c.name for c in self.containers()}

    def listing(self, *kinds: ContainerKind) -> str:
        """`app (regular), dbg (ephemeral)` for messages that name the choices."""
        return ", ".join(f"{c.name} ({c.kind})" for c in self.containers(*kinds)) or "none"

    def condition(self, kind: str) -> Json | None:
        return next((c for c in objs(self.status.get("conditions")) if c.get("type") == kind), None)

    def controller(self) -> Json | None:
        """The ownerReference of the controller (or the first owner)."""
        refs = objs(self.meta.get("ownerReferences"))
        return next((r for r in refs if r.get("controller")), refs[0] if refs else None)


def controller_of(meta: Json) -> Json | None:
    """The controller ownerReference in any object's metadata."""
    return Pod({"metadata": meta}).controller()
