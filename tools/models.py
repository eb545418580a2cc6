"""Request and result models shared by the tools, and the validated input aliases.

Every tool takes one request model and returns one result model; the MCP adapter
derives the tool's input schema from the request model's fields and its output
schema from the result model.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import WithJsonSchema

from k8s_debug_mcp.tools.boundary import Cap
from k8s_debug_mcp.tools.kube import ContainerKind

__all__ = [
    "ContainerInfo",
    "ContainerKind",
    "ContainerName",
    "EventInfo",
    "FieldSelector",
    "LabelSelector",
    "ListPodsRequest",
    "ListPodsResult",
    "Namespace",
    "OwnerInfo",
    "PodConditionInfo",
    "PodLogsRequest",
    "PodLogsResult",
    "PodName",
    "PodRow",
    "PodStatusRequest",
    "PodStatusResult",
    "Request",
    "Result",
    "Termination",
]

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL = re.compile(rf"^{_LABEL}$")
_DNS1123_SUBDOMAIN = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")


def _dns_label(value: str) -> str:
    if len(value) > 63 or not _DNS1123_LABEL.fullmatch(value):
        raise ValueError(
            "must be a DNS-1123 label: at most 63 lowercase letters, digits or '-', "
            "starting and ending with a letter or digit"
        )
    return value


def _dns_subdomain(value: str) -> str:
    if len(value) > 253 or not _DNS1123_SUBDOMAIN.fullmatch(value):
        raise ValueError(
            "must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', "
            "starting and ending with a letter or digit, at most 253 characters"
        )
    return value


# A label key: optional DNS subdomain prefix + "/" + name (63 chars, alnum at both ends, -_. inside).
_KEY = r"(?:[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_VALUE = r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?"
_LABEL_REQ = re.compile(
    rf"""^\s*(?:
        !\s*{_KEY}                                           # !key
      | {_KEY}\s*(?:==?|!=)\s*{_VALUE}                        # key=value, key==value, key!=value
      | {_KEY}\s+(?:in|notin)\s*\(\s*{_VALUE}(?:\s*,\s*{_VALUE})*\s*\)  # key in (a,b)
      | {_KEY}                                               # key (exists)
    )\s*$""",
    re.VERBOSE,
)
_FIELD_REQ = re.compile(r"^\s*[A-Za-z][A-Za-z0-9.]*\s*(?:==?|!=)\s*[^,=!\s]*\s*$")


def _split_top_level(selector: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _label_selector(value: str) -> str:
    if len(value) > 1024:
        raise ValueError("label selector is longer than 1024 characters")
    for part in _split_top_level(value):
        if not _LABEL_REQ.fullmatch(part):
            raise ValueError(
                f"invalid label selector term {part.strip()[:80]!r}; use e.g. 'app=slim', "
                "'tier!=db', 'env in (prod,staging)', 'release' or '!canary', joined by commas"
            )
    return value


def _field_selector(value: str) -> str:
    if len(value) > 1024:
        raise ValueError("field selector is longer than 1024 characters")
    for part in value.split(","):
        if not _FIELD_REQ.fullmatch(part):
            raise ValueError(
                f"invalid field selector term {part.strip()[:80]!r}; use e.g. "
                "'status.phase=Running' or 'spec.nodeName=node-1', joined by commas"
            )
    return value


Namespace = Annotated[
    str,
    Field(max_length=63),
    AfterValidator(_dns_label),
]
ContextNamespace = Annotated[
    str,
    Field(max_length=63),
    AfterValidator(lambda v: v if v == "" else _dns_label(v)),
]
"""A namespace, or "" for the kubeconfig context's (the registry fills it in before the tool runs)."""
PodName = Annotated[
    str,
    Field(max_length=253),
    AfterValidator(_dns_subdomain),
]
ContainerName = Annotated[
    str,
    Field(max_length=63),
    AfterValidator(_dns_label),
]
LabelSelector = Annotated[
    str,
    Field(max_length=1024),
    AfterValidator(_label_selector),
]
FieldSelector = Annotated[
    str,
    Field(max_length=1024),
    AfterValidator(_field_selector),
]

LongText = Annotated[str, Cap(300_000)]
"""Untrusted text the tool already capped by bytes (after masking): logs, exec output, files."""
Profile = Literal["legacy", "general", "baseline", "restricted", "netadmin", "sysadmin"]


class Request(BaseModel):
    """Base of every tool request: unknown arguments are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    context: str | None = Field(None, max_length=253, pattern=r"^[^\s]+$")
    """kubeconfig context for this call (policy `allowed_contexts`); default: the server's."""

    @property
    def scope(self) -> tuple[str | None, str | None]:
        """(namespace, pod) the request is about, for policy checks, logs and the audit."""
        namespace, pod = getattr(self, "namespace", None), getattr(self, "pod", None)
        return (namespace if isinstance(namespace, str) else None, pod if isinstance(pod, str) else None)

    @property
    def is_dry_run(self) -> bool:
        return bool(getattr(self, "dry_run", False))


class Result(BaseModel):
    model_config = ConfigDict(frozen=True)


# -- list_pods ----------------------------------------------------------------------


class ListPodsRequest(Request):
    namespace: ContextNamespace = ""
    all_namespaces: bool = False
    label_selector: LabelSelector | None = None
    field_selector: FieldSelector | None = None
    problems_only: bool = Field(
        False,
        description="Only sick pods (scans all pages).",
    )
    limit: int = Field(50, ge=1, le=500)
    continue_token: str | None = Field(None, max_length=8192)


class PodRow(Result):
    namespace: str | None = Field(None, description="across namespaces only")
    name: str
    ready: str = Field(description="ready/total regular containers")
    status: str = Field(description="kubectl's STATUS column, e.g. Running, CrashLoopBackOff, OOMKilled")
    restarts: int | None = Field(None, description="absent: none")
    last_restart_at: str | None = None
    created: str | None = Field(None, description="creationTimestamp")
    node: str | None = None
    problem: str | None = Field(None, description="why the pod looks unhealthy, if it does")
    note: str | None = Field(None, description="e.g. an expired debug copy that cleanup can delete")


class ListPodsResult(Result):
    namespace: str | None = Field(None, description="absent when all namespaces were listed")
    pods: list[PodRow]
    scanned: int = Field(description="pods examined before filtering")
    hidden_by_policy: int | None = Field(None, description="pods in namespaces the policy hides; absent: none")
    problems_only: bool | None = Field(None, description="absent: all pods were listed")
    problems_not_shown: int | None = Field(None, description="problem pods beyond limit; absent: none")
    continue_token: str | None = Field(None, description="pass back to get the next page")
    remaining: int | None = Field(None, description="the API server's estimate of pods after this page")
    note: str | None = None
    observed_at: str


# -- pod_status ---------------------------------------------------------------------


class PodStatusRequest(Request):
    namespace: ContextNamespace = ""
    pod: PodName
    events_limit: int = Field(10, ge=0, le=50)


class Termination(Result):
    reason: str | None = None
    exit_code: int | None = None
    signal: int | None = None
    message: str | None = None
    started_at: str | None = None
    finished_at: str | None = None


class ContainerInfo(Result):
    kind: ContainerKind
    name: str
    image: str | None = None
    state: Literal["waiting", "running", "terminated", "unknown"]
    reason: str | None = Field(None, description="waiting or terminated reason")
    message: str | None = None
    exit_code: int | None = None
    signal: int | None = None
    started_at: str | None = None
    finished_at: str | None = None
    ready: bool | None = None
    restart_count: int = 0
    last_termination: Termination | None = None
    target: str | None = Field(None, description="ephemeral containers: the targeted container")
    ours: bool = Field(False, description="an ephemeral debugger this server created")
    expires_at: str | None = Field(None, description="when our debugger's sleeper exits")


class PodConditionInfo(Result):
    type: str
    status: str
    reason: str | None = None
    message: str | None = None
    last_transition_at: str | None = None


class OwnerInfo(Result):
    kind: str
    name: str
    detail: str | None = Field(None, description="e.g. replicas ready/desired")


class EventInfo(Result):
    type: str
    reason: str
    message: str
    count: int
    last_seen_at: str | None = None
    source: str | None = None
    container: str | None = Field(None, description="the container the event is about")


class PodStatusResult(Result):
    namespace: str
    name: str
    phase: str
    status: str
    node: str | None = None
    pod_ip: str | None = None
    qos_class: str | None = None
    created: str | None = Field(None, description="creationTimestamp")
    deleting: bool = False
    note: str | None = None
    owners: list[OwnerInfo] = Field(description="controller chain, nearest first")
    conditions: list[PodConditionInfo]
    containers: list[ContainerInfo]
    events: list[EventInfo] = Field(description="distinct events, newest first")
    events_omitted: int = 0
    observed_at: str


# -- pod_logs -----------------------------------------------------------------------


class PodLogsRequest(Request):
    namespace: ContextNamespace = ""
    pod: PodName
    container: ContainerName | None = Field(None, description="Any kind; default: the pod's default.")
    previous: bool = False
    tail_lines: int = Field(200, ge=1, le=5000)
    since_seconds: int | None = Field(None, ge=1, le=7 * 24 * 3600)
    limit_bytes: int = Field(16_384, ge=256, le=262_144)
    timestamps: bool = False


class PodLogsResult(Result):
    namespace: str
    pod: str
    container: str
    previous: bool
    text: LongText = Field(description="untrusted log text, control characters stripped")
    lines: int
    truncated: bool = Field(description="older output was cut to honour limit_bytes")
    masked: int = Field(0, description="secret-looking values replaced by [masked]")
    note: str | None = None


# -- add_debug_container ------------------------------------------------------------

_IMAGE = re.compile(
    r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?/)?"  # optional registry host[:port]/
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"  # path
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"  # :tag
    r"(?:@sha256:[a-f0-9]{64})?$"  # @digest
)
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


def _image_ref(value: str) -> str:
    if len(value) > 512 or not _IMAGE.fullmatch(value):
        raise ValueError(
            "must be an image reference like 'busybox:1.37', 'registry.local:5000/team/tool:v1' "
            "or 'busybox@sha256:<64 hex>'"
        )
    return value


def _env_map(value: dict[str, str]) -> dict[str, str]:
    if len(value) > 64:
        raise ValueError("at most 64 variables")
    for key, val in value.items():
        if not _ENV_NAME.fullmatch(key) or len(key) > 256:
            raise ValueError(f"invalid variable name {key[:40]!r}")
        if key.startswith("K8S_DEBUG_MCP_"):
            raise ValueError(f"{key[:40]} is reserved for the server's own markers")
        if len(val) > 4096:
            raise ValueError(f"value of {key} is longer than 4096 characters")
    return value


def _argv(value: list[str]) -> list[str]:
    if len(value) > 256:
        raise ValueError("at most 256 arguments")
    if any(len(a) > 8192 or "\x00" in a for a in value):
        raise ValueError("each argument must be under 8192 characters without NUL bytes")
    return value


ImageRef = Annotated[str, Field(max_length=512), AfterValidator(_image_ref)]
Argv = Annotated[list[str], Field(min_length=1), AfterValidator(_argv)]
CUSTOM_FORBIDDEN = ("name", "command", "image", "lifecycle", "volumeDevices")


def _custom(value: dict[str, object]) -> dict[str, object]:
    bad = sorted(k for k in value if k in CUSTOM_FORBIDDEN)
    if bad:
        raise ValueError(f"{', '.join(bad)} cannot be set through custom (as with kubectl debug --custom)")
    if len(repr(value)) > 16_384:
        raise ValueError("custom spec is larger than 16 KiB")
    return value


PullPolicy = Literal["Always", "IfNotPresent", "Never"]
CustomSpec = Annotated[dict[str, object], AfterValidator(_custom)]


class NodeOptions(BaseModel):
    """kubectl debug's rarer flags for a node debugger."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    command: Argv | None = None
    args: Argv | None = None
    image_pull_policy: PullPolicy | None = None
    custom: CustomSpec | None = None


class CopyOptions(NodeOptions):
    """kubectl debug's rarer flags for a copy's debugger, and --replace."""

    name: ContainerName | None = None
    stdin: bool = False
    tty: bool = False
    replace: bool = False

    @model_validator(mode="after")
    def _tty_needs_stdin(self) -> CopyOptions:
        if self.tty and not self.stdin:
            raise ValueError("tty requires stdin (as with kubectl debug -t without -i)")
        return self


def _inline(model: type[BaseModel], description: str) -> WithJsonSchema:
    """A nested options object published inline (tools/list takes no $defs) and terse: described once,
    each property by its type only (the model still validates every limit)."""
    props: dict[str, object] = {}
    for name, prop in model.model_json_schema()["properties"].items():
        branch = next((b for b in prop.get("anyOf", [prop]) if b.get("type") != "null"), prop)
        terse = {k: v for k, v in branch.items() if k in ("type", "enum")}
        if "items" in branch:
            terse["items"] = {"type": branch["items"].get("type", "string")}
        props[name] = terse
    return WithJsonSchema({"type": "object", "description": description, "properties": props})


class AddDebugContainerRequest(Request):
    namespace: ContextNamespace = ""
    pod: PodName
    image: ImageRef | None = None
    target: ContainerName | None = Field(None, description="Container whose processes it joins.")
    profile: Profile = "general"
    command: Argv | None = Field(None, description="Default: a sleeper for ttl_seconds; then exec.")
    args: Argv | None = Field(None, description="To the entrypoint (--arguments-only).")
    env: Annotated[dict[str, str], AfterValidator(_env_map)] | None = None
    image_pull_policy: PullPolicy | None = None
    name: ContainerName | None = None
    stdin: bool = False
    tty: bool = False
    mount_like_target: bool = Field(False, description="The target's volume mounts.")
    run_as_target: bool = Field(False, description="The target's user/group.")
    custom: CustomSpec | None = Field(None, description="Partial container merged last (kubectl --custom).")
    ttl_seconds: int = Field(3600, ge=60, le=86_400)
    reuse: bool = Field(True, description="Return a running identical one.")
    dry_run: bool = Field(False, description="Patch + server verdict; no change.")
    timeout_seconds: int = Field(60, ge=5, le=600)
    plan_id: str | None = Field(None, max_length=100)


class AddDebugContainerResult(Result):
    namespace: str
    pod: str
    container: str
    image: str
    target: str | None = None
    profile: str
    dry_run: bool
    reused: bool = Field(description="an existing debugger with the same spec was returned")
    state: str = Field(description="running, terminated, waiting, or dry-run")
    reason: str | None = None
    message: str | None = None
    expires_at: str | None = Field(None, description="when the default sleeper exits")
    warnings: list[str]
    patch: dict[str, object] = Field(description="the strategic merge patch body (the preview)")
    api_request: str
    kubectl: Annotated[str, Cap(8000)] | None = Field(
        None, description="the equivalent kubectl debug command, where one exists"
    )
    server_dry_run: str | None = Field(None, description="the API server's verdict on the dry run")


# -- exec ---------------------------------------------------------------------------


class ExecRequest(Request):
    namespace: ContextNamespace = ""
    pod: PodName
    command: Argv = Field(description="argv, no shell (use sh -c).")
    container: ContainerName | None = None
    timeout_seconds: int = Field(30, ge=1, le=300)
    max_output_bytes: int = Field(16_384, ge=256, le=262_144)
    stdin: str | None = Field(None, max_length=65_536)
    plan_id: str | None = Field(None, max_length=100)


class ExecResult(Result):
    namespace: str
    pod: str
    container: str
    command: list[str]
    exit_code: int | None = Field(None, description="absent when the command did not finish (timeout, output limit)")
    stdout: LongText = Field(description="untrusted text")
    stderr: LongText = Field(description="untrusted text")
    stdout_bytes: int
    stderr_bytes: int
    truncated: bool
    timed_out: bool
    output_limit_hit: bool = Field(description="reading stopped because the output was far over the cap")
    masked: int = Field(0, description="secret-looking values replaced by [masked]")
    duration_ms: int
    error: str | None = Field(None, description="why the command could not run, from the runtime")
    hint: str | None = None


# -- inspect ------------------------------------------------------------------------


def _abs_path(value: str) -> str:
    if not value.startswith("/") or "\x00" in value or "\n" in value or len(value) > 4096:
        raise ValueError("must be an absolute path such as /etc/app/config.yaml")
    if ".." in value.split("/"):
        raise ValueError("must not contain '..'")
    return value


class InspectRequest(Request):
    namespace: ContextNamespace = ""
    pod: PodName
    what: Literal["processes", "ls", "cat"] = Field("processes", description="ls/cat: path in pid's filesystem.")
    path: Annotated[str, AfterValidator(_abs_path)] | None = None
    pid: int = Field(1, ge=1, le=4_194_304, description="1: the target.")
    container: ContainerName | None = None
    max_bytes: int = Field(16_384, ge=256, le=262_144)


class ProcessRow(Result):
    pid: int
    user: str
    command: str
    container: str = Field("", description="the pod's container it runs in, when known")


class InspectResult(Result):
    namespace: str
    pod: str
    container: str
    what: str
    path: str | None = Field(None, description="the path as read from the debugger: /proc/<pid>/root/...")
    processes: list[ProcessRow] | None = None
    text: LongText | None = Field(None, description="untrusted text: the listing or file content")
    truncated: bool = False
    exit_code: int | None = None
    error: str | None = None
    hint: str | None = None


# -- copy_pod / cleanup -------------------------------------------------------------


def _image_map(value: dict[str, str]) -> dict[str, str]:
    if len(value) > 32:
        raise ValueError("at most 32 entries")
    for name, image in value.items():
        if name != "*":
            _dns_label(name)
        _image_ref(image)
    return value


def _command_map(value: dict[str, list[str]]) -> dict[str, list[str]]:
    if len(value) > 32:
        raise ValueError("at most 32 entries")
    for name, argv in value.items():
        _dns_label(name)
        if not argv:
            raise ValueError(f"command for {name} is empty")
        _argv(argv)
    return value


Keepable = Literal["labels", "annotations", "liveness", "readiness", "startup", "init_containers"]


class CopyPodRequest(Request):
    namespace: ContextNamespace = ""
    pod: PodName
    name: PodName | None = None
    share_processes: bool | None = Field(None, description="Default: kubectl's.")
    set_image: Annotated[dict[str, str], AfterValidator(_image_map)] | None = Field(
        None, description="container -> image ('*' for all)."
    )
    replace_command: Annotated[dict[str, list[str]], AfterValidator(_command_map)] | None = Field(
        None, description="container -> argv (keep a crashing container alive)."
    )
    add_debugger: bool = True
    image: ImageRef | None = Field(None, description="Debugger image; default the server's.")
    profile: Profile = "general"
    env: Annotated[dict[str, str], AfterValidator(_env_map)] | None = None
    same_node: bool = False
    keep: list[Keepable] | None = Field(None, description="kubectl --keep-* (default: kubectl's).")
    options: Annotated[
        CopyOptions | None,
        _inline(
            CopyOptions,
            "kubectl flags; name may be a container of the pod (-c); replace deletes the source.",
        ),
    ] = None
    ttl_seconds: int = Field(3600, ge=60, le=86_400, description="Sleeper and expiry.")
    dry_run: bool = False
    timeout_seconds: int = Field(90, ge=5, le=600)
    plan_id: str | None = Field(None, max_length=100)

    @property
    def opts(self) -> CopyOptions:
        return self.options or CopyOptions()


class CopyPodResult(Result):
    namespace: str
    source: str
    name: str
    debugger: str | None = None
    dry_run: bool
    phase: str = Field(description="Running, Pending, or dry-run")
    node: str | None = None
    expires_at: str
    changes: list[str] = Field(description="how the copy differs from the source")
    warnings: list[str]
    manifest: dict[str, object]
    kubectl: Annotated[str, Cap(8000)] | None = None
    server_dry_run: str | None = None


class CleanupRequest(Request):
    namespace: ContextNamespace = ""
    pods: Annotated[list[PodName], Field(min_length=1, max_length=100)] | None = Field(
        None, description="Default: all ours."
    )
    expired_only: bool = False
    dry_run: bool = False
    plan_id: str | None = Field(None, max_length=100)


class CleanupResult(Result):
    namespace: str
    dry_run: bool
    deleted: list[str]
    refused: list[str] = Field(description="'name: reason' for pods that are not ours or not found")
    kept: list[str] = Field(description="ours but not expired (with expired_only)")
    debuggers: list[str] = Field(
        default_factory=list, description="our ephemeral debuggers left in pods: they stay until the pod is replaced"
    )


# -- debug_node ---------------------------------------------------------------------


class DebugNodeRequest(Request):
    namespace: ContextNamespace = ""
    node: Annotated[str, Field(max_length=253), AfterValidator(_dns_subdomain)]
    image: Annotated[str, AfterValidator(_image_ref)] | None = Field(None, max_length=512)
    profile: Profile = "general"
    options: Annotated[NodeOptions | None, _inline(NodeOptions, "kubectl flags.")] = None
    ttl_seconds: int = Field(3600, ge=60, le=86_400)
    dry_run: bool = False
    timeout_seconds: int = Field(90, ge=5, le=600)
    plan_id: str | None = Field(None, max_length=100)

    @property
    def opts(self) -> NodeOptions:
        return self.options or NodeOptions()


class DebugNodeResult(Result):
    name: str
    phase: str = Field(description="Running, Succeeded, Failed (exit N), or dry-run")
    warnings: list[str]
    manifest: dict[str, object]
    kubectl: Annotated[str, Cap(8000)]
    server_dry_run: str = ""


# -- whoami -------------------------------------------------------------------------


class WhoamiRequest(Request):
    namespace: ContextNamespace = ""


class AccessCheck(Result):
    tool: str
    permission: str
    allowed: bool


class WhoamiResult(Result):
    server: str
    namespace: str
    user: str
    groups: list[str]
    checks: list[AccessCheck]
    read_only: bool
    preview_only: bool
    confirm: bool
    profiles: list[str]
    debug_images: list[str]
    secret_masking: str = Field(description="whether values of Secrets that pods reference are masked")


# -- confirmation (clients without elicitation) --------------------------------------


class ConfirmationNeeded(Result):
    """A write that waits for the user's yes: show them the change; call again with plan_id to apply it."""

    plan_id: str
    summary: str
    change: object = Field(description="the exact patch, manifest summary or argv that would be applied")
    server_dry_run: str | None = None
    kubectl: Annotated[str, Cap(8000)] | None = None
    expires_in_s: int


# -- diagnose -----------------------------------------------------------------------


class DiagnoseRequest(Request):
    namespace: ContextNamespace = ""
    name: PodName | None = Field(
        None,
        description="Workload or pod; omit for the whole namespace.",
    )
    max_pods: int = Field(5, ge=1, le=20)


class Finding(Result):
    severity: Literal["critical", "warning", "info"]
    pod: str | None = None
    container: str | None = None
    title: str
    evidence: str
    excerpt: Annotated[str, Cap(4000)] | None = Field(
        None, description="untrusted text from the workload: log lines, termination message, event message"
    )
    next_step: str


class DiagnoseResult(Result):
    namespace: str
    target: str = Field(description="what the name resolved to, e.g. Deployment/slim")
    pods: list[str]
    findings: list[Finding] = Field(description="most severe first")
    pod_security: str | None = Field(None, description="the namespace's enforced Pod Security level")
