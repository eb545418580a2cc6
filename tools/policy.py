"""Policy: what this server may do, checked on every request (intent) and every write (transport).

One frozen object built at start-up from the config file, flags and environment. Each
refusal raises PolicyDenied naming the setting that refused it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

from k8s_debug_mcp.tools.errors import PolicyDenied
from k8s_debug_mcp.tools.kube import Json
from k8s_debug_mcp.tools.models import Profile
from k8s_debug_mcp.tools.podsecurity import ENVELOPES, host_violations, violations
from k8s_debug_mcp.tools.profiles import NODE_HOST_ACCESS

__all__ = ["DEFAULT_DEBUG_IMAGES", "Policy"]

DEFAULT_DEBUG_IMAGES: Final = (
    "busybox:*",
    "busybox@sha256:*",
    "docker.io/library/busybox:*",
    "nicolaka/netshoot:*",
    "docker.io/nicolaka/netshoot:*",
    "k8s-debug-mcp.local/*",
)


READ_ONLY_COMMANDS: Final = (
    "ps",
    "ls",
    "cat",
    "head",
    "tail",
    "grep",
    "wc",
    "stat",
    "id",
    "whoami",
    "hostname",
    "uname",
    "date",
    "uptime",
    "df",
    "du",
    "free",
    "env",
    "printenv",
    "pwd",
    "nslookup",
    "netstat",
    "wget",
)
"""Commands that only read, with the arguments `_ONLY_READS` allows for the ones that can also write."""

RUNNERS: Final = frozenset(
    {"sh", "ash", "bash", "dash", "zsh", "ksh", "busybox", "xargs", "nice", "nohup", "timeout", "chroot"}
    | {"nsenter", "su", "sudo", "setsid", "unshare", "strace", "watch", "find", "awk", "sed", "perl", "python"}
    | {"python3", "ruby", "node", "lua", "gdb", "ionice", "taskset", "stdbuf", "flock", "runuser", "doas"}
)
"""Programs that run other programs or scripts: always confirmed, even when listed (`env` is handled by
its argument rule: with no arguments it only prints)."""


def _wget_prints(args: list[str]) -> bool:
    """wget only fetches to stdout: -O- and nothing that writes a file, a log or sends a body."""
    to_stdout, i = False, 0
    while i < len(args):
        a = args[i]
        if a in ("-O-", "-qO-") or (a == "-O" and args[i + 1 : i + 2] == ["-"]):
            to_stdout, i = True, i + (2 if a == "-O" else 1)
            continue
        if a in ("-T", "-U", "--header", "--user-agent", "--timeout"):
            i += 2
            continue
        if not a.startswith("-") or a in ("-q", "-S", "--spider", "--no-check-certificate", "--quiet"):
            i += 1
            continue
        if a.startswith(("--timeout=", "--header=", "--user-agent=")):
            i += 1
            continue
        return False  # -o/-a/-P/--post-*/--method/-i/combined flags...: ask
    return to_stdout


_ONLY_READS: Final[dict[str, Callable[[list[str]], bool]]] = {
    "wget": _wget_prints,
    # `env CMD` runs CMD and `env -i`/assignments only matter with one: print-only is no arguments
    "env": lambda args: not args,
    # `date -s` / `date MMDDhhmm` set the clock; formats and zones only print
    "date": lambda args: all(a.startswith("+") or a in ("-u", "--utc", "-R") or a.startswith("-I") for a in args),
    # `hostname NAME` / `-F FILE` rename the pod's UTS namespace
    "hostname": lambda args: all(a in ("-i", "-f", "-s", "-d") for a in args),
}


class Policy(BaseModel):
    """Every setting with its safe default. Field names are the config file's keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    read_only: bool = Field(False, description="register only read tools; the gateway refuses every write")
    preview_only: bool = Field(False, description="writes only as server-side dry runs")
    confirm: bool = Field(True, description="mutations need the user's yes (elicitation or plan id)")
    allowed_namespaces: tuple[str, ...] = Field(("*",), description="globs")
    denied_namespaces: tuple[str, ...] = Field((), description="globs; deny wins over allow")
    debug_images: tuple[str, ...] = Field(DEFAULT_DEBUG_IMAGES, description="globs for debug and set_image images")
    profiles: tuple[Profile, ...] = Field(
        ("legacy", "general", "baseline", "restricted"), description="profiles allowed; add netadmin/sysadmin"
    )
    exec_any_container_in: tuple[str, ...] = Field(
        (), description="namespace globs where exec may enter app containers, not only our debuggers"
    )
    max_debug_containers_per_pod: int = Field(5, ge=1, le=50)
    max_ttl_seconds: int = Field(4 * 3600, ge=60, le=7 * 24 * 3600)
    allow_copies: bool = True
    allow_cleanup: bool = True
    allowed_contexts: tuple[str, ...] = Field(
        (), description="kubeconfig contexts (globs) a call may name besides the server's own; default none"
    )
    exec_without_confirm: tuple[str, ...] = Field(
        READ_ONLY_COMMANDS,
        description="commands (argv[0]) that run in this server's own debuggers without asking the user; "
        "never a shell, never in other containers",
    )
    allow_replace: bool = Field(False, description="copy_pod options.replace may delete the source pod")
    node_debugging: bool = Field(False, description="debug_node: pods with host access on nodes")
    allowed_nodes: tuple[str, ...] = Field(("*",), description="node name globs for debug_node")
    mask_secret_values: bool = Field(
        True, description="read the Secrets a pod references (when RBAC allows) to mask their values in outputs"
    )

    @field_validator(
        "allowed_namespaces",
        "denied_namespaces",
        "debug_images",
        "exec_any_container_in",
        "allowed_contexts",
        "allowed_nodes",
    )
    @classmethod
    def _no_empty_globs(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if any(not v.strip() for v in values):
            raise ValueError("empty patterns are not allowed")
        return values

    # -- intent checks ----------------------------------------------------------------

    def namespace_allowed(self, namespace: str) -> bool:
        if any(fnmatch.fnmatchcase(namespace, g) for g in self.denied_namespaces):
            return False
        return any(fnmatch.fnmatchcase(namespace, g) for g in self.allowed_namespaces)

    @property
    def all_namespaces_allowed(self) -> bool:
        return self.allowed_namespaces == ("*",) and not self.denied_namespaces

    def check_namespace(self, namespace: str) -> None:
        if not self.namespace_allowed(namespace):
            setting = (
                "denied_namespaces"
                if any(fnmatch.fnmatchcase(namespace, g) for g in self.denied_namespaces)
                else "allowed_namespaces"
            )
            raise PolicyDenied(f"Namespace {namespace} is off limits for this server", setting=setting)

    def check_write(self, *, dry_run: bool) -> None:
        if self.read_only:
            raise PolicyDenied("This server is read-only", setting="read_only")
        if self.preview_only and not dry_run:
            raise PolicyDenied(
                "This server only previews changes", setting="preview_only", hint="call again with dry_run=true."
            )

    def debug_image_allowed(self, image: str) -> bool:
        return any(fnmatch.fnmatchcase(image, g) for g in self.debug_images)

    def check_image(self, image: str) -> None:
        if not self.debug_image_allowed(image):
            raise PolicyDenied(
                f"Image {image} is not an allowed debug image",
                setting="debug_images",
                hint="allowed: " + ", ".join(self.debug_images[:8]),
            )

    def check_profile(self, requested: Profile, container: Json, pod_security_context: Json) -> None:
        """The requested profile must be allowed, and the FINAL container (after custom, run_as_target,
        mount_like_target) must fit the Pod Security envelope of some allowed profile."""
        if requested not in self.profiles:
            raise PolicyDenied(
                f"Profile {requested} is not allowed",
                setting="profiles",
                hint="allowed: " + ", ".join(self.profiles),
            )
        if any(not violations(container, pod_security_context, ENVELOPES[p]) for p in self.profiles):
            return
        broken = violations(container, pod_security_context, ENVELOPES[requested])
        raise PolicyDenied(
            f"The debug container's final securityContext goes beyond what the allowed profiles "
            f"({', '.join(self.profiles)}) permit: {'; '.join(broken[:6])}",
            setting="profiles",
            hint="drop those fields from custom (or run_as_target), or ask for a profile the policy allows.",
        )

    def check_node_profile(self, requested: Profile, container: Json, pod_spec: Json) -> None:
        """The node rule: the final container fits an allowed profile's envelope, and the pod's host access
        (host namespaces, hostPath, host ports) does not exceed what kubectl gives that profile on a node."""
        if requested not in self.profiles:
            raise PolicyDenied(
                f"Profile {requested} is not allowed", setting="profiles", hint="allowed: " + ", ".join(self.profiles)
            )
        pod_sc = pod_spec.get("securityContext") or {}

        def broken(profile: Profile) -> list[str]:
            return violations(container, pod_sc, ENVELOPES[profile]) + host_violations(
                pod_spec, NODE_HOST_ACCESS[profile]
            )

        if any(not broken(p) for p in self.profiles):
            return
        raise PolicyDenied(
            f"The node debugger goes beyond what the allowed profiles ({', '.join(self.profiles)}) permit on a "
            f"node: {'; '.join(broken(requested)[:6])}",
            setting="profiles",
            hint="drop those fields from custom, or ask for a profile the policy allows.",
        )

    def check_node(self, node: str) -> None:
        if not self.node_debugging:
            raise PolicyDenied(
                "Node debugging is disabled",
                setting="node_debugging",
                hint="an admin can enable it (node_debugging=true, allowed_nodes); or debug a pod on that node.",
            )
        if not any(fnmatch.fnmatchcase(node, g) for g in self.allowed_nodes):
            raise PolicyDenied(
                f"Node {node} is not an allowed node",
                setting="allowed_nodes",
                hint="allowed: " + ", ".join(self.allowed_nodes[:8]),
            )

    def check_replace(self) -> None:
        if not self.allow_replace:
            raise PolicyDenied(
                "Deleting the source pod (replace) is disabled",
                setting="allow_replace",
                hint="make the copy without replace and delete the source yourself if you must.",
            )

    def check_ttl(self, ttl_seconds: int) -> None:
        if ttl_seconds > self.max_ttl_seconds:
            raise PolicyDenied(
                f"ttl_seconds {ttl_seconds} is over the limit of {self.max_ttl_seconds}", setting="max_ttl_seconds"
            )

    def check_debug_container_count(self, existing: int) -> None:
        if existing >= self.max_debug_containers_per_pod:
            raise PolicyDenied(
                f"The pod already has {existing} ephemeral containers (limit {self.max_debug_containers_per_pod}); "
                "they can never be removed",
                setting="max_debug_containers_per_pod",
                hint="reuse a running debugger (same arguments) or copy the pod.",
            )

    def check_exec_target(self, namespace: str, container: str, *, ours: bool) -> None:
        if ours or any(fnmatch.fnmatchcase(namespace, g) for g in self.exec_any_container_in):
            return
        raise PolicyDenied(
            f"exec into {container}, which is not a debugger this server created, is not allowed in {namespace}",
            setting="exec_any_container_in",
            hint="add a debugger with add_debug_container target=<container> and exec there.",
        )

    def exec_needs_confirm(self, argv: list[str], *, ours: bool) -> bool:
        """Whether running argv needs the user's yes: anything outside our debuggers, any shell or command
        runner, any command not in `exec_without_confirm`, and arguments that would make a listed command
        change something (see `_ONLY_READS`)."""
        if not ours or not argv:
            return True
        name = argv[0].rsplit("/", 1)[-1]
        if name in RUNNERS or name not in self.exec_without_confirm:
            return True
        reads = _ONLY_READS.get(name)
        return reads is not None and not reads(argv[1:])

    def check_context(self, context: str) -> None:
        if not any(fnmatch.fnmatchcase(context, g) for g in self.allowed_contexts):
            raise PolicyDenied(
                f"Context {context} is not one this server may use",
                setting="allowed_contexts",
                hint="omit context to use the server's own, or add it to allowed_contexts.",
            )

    def check_copies(self) -> None:
        if not self.allow_copies:
            raise PolicyDenied("Pod copies are disabled", setting="allow_copies")

    def check_cleanup(self) -> None:
        if not self.allow_cleanup:
            raise PolicyDenied("Deleting pods is disabled", setting="allow_cleanup")

    def visible(self, namespaces: Iterable[str]) -> list[str]:
        return [ns for ns in namespaces if self.namespace_allowed(ns)]
