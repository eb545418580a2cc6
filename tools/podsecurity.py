"""Pod Security Standards for one container, as Pod Security admission judges it.

The rules follow `k8s.io/pod-security-admission/policy` (check_*.go) for the fields a
container carries; pod-level fields are consulted where the standard lets the pod
decide for its containers (runAsNonRoot, runAsUser, seccomp, SELinux, AppArmor).

A debug profile is an envelope: the Pod Security level it stays within plus the
capabilities it adds (kubectl's `general` adds SYS_PTRACE, `netadmin` NET_ADMIN and
NET_RAW). `sysadmin` is privileged and has no envelope. The policy's profile ceiling
judges the final container (after `custom`, `run_as_target`, `mount_like_target`)
against the envelopes of the allowed profiles, so no partial spec can step outside.

A node debugger is outside Pod Security baseline by design (host namespaces, the node's
root as a hostPath). It is judged by the node rule: its container must fit a profile's
envelope AND the pod's host access must not exceed what kubectl gives that profile on a
node (`host_violations` against `profiles.NODE_HOST_ACCESS`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from k8s_debug_mcp.tools.kube import Json, obj, objs
from k8s_debug_mcp.tools.profiles import HOST_ROOT_VOLUME, HostAccess

__all__ = [
    "BASELINE_CAPABILITIES",
    "ENVELOPES",
    "Envelope",
    "Level",
    "host_violations",
    "violations",
]

Level = Literal["baseline", "restricted"]

BASELINE_CAPABILITIES: Final = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
_SELINUX_TYPES: Final = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})


@dataclass(frozen=True, slots=True)
class Envelope:
    """What a profile may produce: None for anything (sysadmin)."""

    level: Level | None
    extra_capabilities: frozenset[str] = frozenset()


ENVELOPES: Final[dict[str, Envelope]] = {
    "restricted": Envelope("restricted"),
    "baseline": Envelope("baseline"),
    "legacy": Envelope("baseline"),
    "general": Envelope("baseline", frozenset({"SYS_PTRACE"})),
    "netadmin": Envelope("baseline", frozenset({"NET_ADMIN", "NET_RAW"})),
    "sysadmin": Envelope(None),
}


def _caps(values: Iterable[object]) -> list[str]:
    return [str(v).upper().removeprefix("CAP_") for v in values]


def violations(container: Json, pod_security_context: Json, envelope: Envelope) -> list[str]:
    """The rules the container breaks within `envelope`, as `field: what is wrong`; [] when it fits."""
    if envelope.level is None:
        return []
    sc, pod_sc = obj(container.get("securityContext")), pod_security_context
    out: list[str] = []

    if sc.get("privileged") is True:
        out.append("privileged: true is not allowed")
    for where, ctx in (("securityContext", sc), ("pod securityContext", pod_sc)):
        if obj(ctx.get("windowsOptions")).get("hostProcess") is True:
            out.append(f"{where}.windowsOptions.hostProcess: true is not allowed")
    if sc.get("procMount") not in (None, "", "Default"):
        out.append(f"procMount: {sc.get('procMount')} is not allowed (only Default)")

    caps = obj(sc.get("capabilities"))
    added = _caps(caps.get("add") or [])
    allowed_caps = (
        frozenset({"NET_BIND_SERVICE"}) if envelope.level == "restricted" else BASELINE_CAPABILITIES
    ) | envelope.extra_capabilities
    extra = sorted({c for c in added if c not in allowed_caps})
    if extra:
        out.append(f"capabilities.add: {', '.join(extra)} not allowed (allowed: {', '.join(sorted(allowed_caps))})")

    for where, ctx in (("securityContext", sc), ("pod securityContext", pod_sc)):
        selinux = obj(ctx.get("seLinuxOptions"))
        if str(selinux.get("type") or "") not in _SELINUX_TYPES:
            out.append(f"{where}.seLinuxOptions.type: {selinux.get('type')} is not allowed")
        for key in ("user", "role"):
            if selinux.get(key):
                out.append(f"{where}.seLinuxOptions.{key} may not be set")
        if obj(ctx.get("seccompProfile")).get("type") == "Unconfined":
            out.append(f"{where}.seccompProfile: Unconfined is not allowed")
        if obj(ctx.get("appArmorProfile")).get("type") == "Unconfined":
            out.append(f"{where}.appArmorProfile: Unconfined is not allowed")

    if envelope.level == "restricted":
        non_root = sc.get("runAsNonRoot")
        if non_root is False or (non_root is None and pod_sc.get("runAsNonRoot") is not True):
            out.append("runAsNonRoot must be true (restricted)")
        for where, ctx in (("securityContext", sc), ("pod securityContext", pod_sc)):
            if ctx.get("runAsUser") == 0:
                out.append(f"{where}.runAsUser: 0 is not allowed (restricted)")
        if sc.get("allowPrivilegeEscalation") is not False:
            out.append("allowPrivilegeEscalation must be false (restricted)")
        if "ALL" not in _caps(caps.get("drop") or []):
            out.append("capabilities.drop must include ALL (restricted)")
        seccomp = obj(sc.get("seccompProfile")).get("type") or obj(pod_sc.get("seccompProfile")).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            out.append("seccompProfile must be RuntimeDefault or Localhost (restricted)")
    return out


def container_list(pod_spec: Json) -> list[Json]:
    """Every container of a pod spec (for judging whole pods we build)."""
    return [*objs(pod_spec.get("initContainers")), *objs(pod_spec.get("containers"))]


def host_violations(pod_spec: Json, access: HostAccess) -> list[str]:
    """Host access a pod takes beyond `access`: host namespaces, hostPath volumes, host ports."""
    out: list[str] = []
    for key in ("hostPID", "hostNetwork", "hostIPC"):
        if pod_spec.get(key) is True and not access.namespaces:
            out.append(f"{key}: true is not allowed (no host namespaces)")
    for volume in objs(pod_spec.get("volumes")):
        host_path = obj(volume.get("hostPath"))
        if not host_path:
            continue
        if not (access.root and volume.get("name") == HOST_ROOT_VOLUME and host_path.get("path") == "/"):
            out.append(f"volume {volume.get('name')}: hostPath {host_path.get('path')} is not allowed")
    if not access.namespaces:
        for c in container_list(pod_spec):
            if any(obj(port).get("hostPort") for port in objs(c.get("ports"))):
                out.append(f"container {c.get('name')}: hostPort is not allowed")
    return out
