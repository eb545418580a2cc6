"""Debug profiles for an ephemeral container, exactly as kubectl's profiles.go sets them.

Each profile is composed from tiny mutators that change one thing. They act on a
container dict (API field names) and return a new dict; nothing is mutated in place.

| profile    | what the ephemeral container gets                                        |
|------------|--------------------------------------------------------------------------|
| legacy     | nothing                                                                  |
| general    | capabilities.add += SYS_PTRACE                                           |
| baseline   | securityContext cleared                                                  |
| restricted | cleared, then runAsNonRoot, drop ALL, no privilege escalation, seccomp RuntimeDefault |
| netadmin   | capabilities.add += NET_ADMIN, NET_RAW                                   |
| sysadmin   | privileged: true                                                         |
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Final

from k8s_debug_mcp.tools.kube import JsonDict
from k8s_debug_mcp.tools.models import Profile

__all__ = ["PROFILES", "adds_privileges", "apply_profile"]

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


def apply_profile(profile: Profile, container: Container) -> Container:
    out = copy.deepcopy(container)
    for mutate in PROFILES[profile]:
        mutate(out)
    return out


def adds_privileges(container: Container) -> bool:
    """True when the container asks for added capabilities or privileged mode."""
    sc = container.get("securityContext") or {}
    return bool(sc.get("privileged")) or bool((sc.get("capabilities") or {}).get("add"))
