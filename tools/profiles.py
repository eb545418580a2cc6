"""Debug profiles exactly as kubectl's profiles.go (v1.36) sets them, for its three styles.

Each profile is composed from tiny mutators that change one thing. They act on a
container dict (API field names) and return a new dict; nothing is mutated in place.

| profile    | the debug container (ephemeral, copy)     | copy pod          | node pod                      |
|------------|-------------------------------------------|-------------------|-------------------------------|
| legacy     | nothing                                   | labels dropped    | host namespaces, /host        |
| general    | capabilities.add += SYS_PTRACE            | strip; share      | host ns, /host, sc cleared    |
| baseline   | securityContext cleared                   | strip; share      | securityContext cleared       |
| restricted | cleared, runAsNonRoot, drop ALL, no       | strip; share      | as the container              |
|            | privilege escalation, seccomp RuntimeDefault |                |                               |
| netadmin   | capabilities.add += NET_ADMIN, NET_RAW    | strip; share      | + host namespaces (no /host)  |
| sysadmin   | privileged: true                          | strip; share      | + host namespaces, /host      |

"strip" drops labels, annotations, probes and init containers unless a --keep-* flag keeps
them (legacy drops labels whatever the flags say); "share" is `shareProcessNamespace: true`
when the copy leaves it unset. A copy made with only --set-image gets no profile at all
(kubectl returns before applying one).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from k8s_debug_mcp.tools.kube import JsonDict
from k8s_debug_mcp.tools.models import Keepable, Profile

__all__ = [
    "COPY_DROPS",
    "HOST_ROOT_VOLUME",
    "NODE_HOST_ACCESS",
    "PROFILES",
    "HostAccess",
    "Style",
    "adds_privileges",
    "apply_profile",
    "shares_processes",
]

Style = Literal["ephemeral", "copy", "node"]

Container = JsonDict
Mutator = Callable[[Container], None]


def _security_context(c: Container) -> JsonDict:
    sc = c.get("securityContext")
    if not isinstance(sc, dict):
        sc = c["securityContext"] = {}
    return sc


def _add_capability(name: str) -> Mutator:
    def mutate(c: Container) -> None:
        caps = _security_context(c).setdefault("capabilities", {})
        caps["add"] = [*caps.get("add", []), name]

    return mutate


def _clear_security_context(c: Container) -> None:
    c.pop("securityContext", None)


def _disallow_root(c: Container) -> None:
    _security_context(c)["runAsNonRoot"] = True


def _drop_all_capabilities(c: Container) -> None:
    caps = _security_context(c).setdefault("capabilities", {})
    caps["drop"] = ["ALL"]
    caps.pop("add", None)


def _disallow_privilege_escalation(c: Container) -> None:
    _security_context(c)["allowPrivilegeEscalation"] = False


def _runtime_default_seccomp(c: Container) -> None:
    _security_context(c)["seccompProfile"] = {"type": "RuntimeDefault"}


def _privileged(c: Container) -> None:
    _security_context(c)["privileged"] = True


PROFILES: Final[dict[Profile, tuple[Mutator, ...]]] = {
    "legacy": (),
    "general": (_add_capability("SYS_PTRACE"),),
    "baseline": (_clear_security_context,),
    "restricted": (
        _clear_security_context,
        _disallow_root,
        _drop_all_capabilities,
        _disallow_privilege_escalation,
        _runtime_default_seccomp,
    ),
    "netadmin": (_add_capability("NET_ADMIN"), _add_capability("NET_RAW")),
    "sysadmin": (_privileged,),
}


# On a node, general clears the securityContext instead of adding SYS_PTRACE (host PID gives the view).
NODE_PROFILES: Final[dict[Profile, tuple[Mutator, ...]]] = {**PROFILES, "general": (_clear_security_context,)}


def apply_profile(profile: Profile, container: Container, style: Style = "ephemeral") -> Container:
    """The profile's changes to the debug container itself (ephemeral and copy styles are the same)."""
    out = copy.deepcopy(container)
    for mutate in (NODE_PROFILES if style == "node" else PROFILES)[profile]:
        mutate(out)
    return out


_ALL_KEEPABLE: Final[frozenset[Keepable]] = frozenset(
    ("labels", "annotations", "liveness", "readiness", "startup", "init_containers")
)
COPY_DROPS: Final[dict[Profile, frozenset[Keepable]]] = {
    "legacy": frozenset({"labels"}),
    **{p: _ALL_KEEPABLE for p in ("general", "baseline", "restricted", "netadmin", "sysadmin")},
}
"""What a profile removes from a copy unless a --keep-* flag says otherwise (legacy: labels, flags ignored)."""


def shares_processes(profile: Profile) -> bool:
    """Whether the profile sets shareProcessNamespace: true on a copy that leaves it unset."""
    return profile != "legacy"


@dataclass(frozen=True, slots=True)
class HostAccess:
    """What a profile gives a node debugger: the host's PID/network/IPC namespaces, its root at /host."""

    namespaces: bool
    root: bool


NODE_HOST_ACCESS: Final[dict[Profile, HostAccess]] = {
    "legacy": HostAccess(namespaces=True, root=True),
    "general": HostAccess(namespaces=True, root=True),
    "baseline": HostAccess(namespaces=False, root=False),
    "restricted": HostAccess(namespaces=False, root=False),
    "netadmin": HostAccess(namespaces=True, root=False),
    "sysadmin": HostAccess(namespaces=True, root=True),
}
HOST_ROOT_VOLUME: Final = "host-root"
"""kubectl's name for the hostPath volume of the node's / (mounted at /host)."""


def adds_privileges(container: Container) -> bool:
    """True when the container asks for added capabilities or privileged mode."""
    sc = container.get("securityContext") or {}
    return bool(sc.get("privileged")) or bool((sc.get("capabilities") or {}).get("add"))
