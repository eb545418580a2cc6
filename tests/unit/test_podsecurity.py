"""Every Pod Security rule for one container, under every profile the policy can allow."""

from __future__ import annotations

from typing import Any

import pytest

from k8s_debug_mcp.tools.errors import PolicyDenied
from k8s_debug_mcp.tools.policy import Policy
from k8s_debug_mcp.tools.profiles import apply_profile

ALL = {"legacy", "general", "baseline", "restricted", "netadmin", "sysadmin"}
NOT_RESTRICTED = ALL - {"restricted"}
ONLY_SYSADMIN = {"sysadmin"}
RESTRICTED_SC: dict[str, Any] = {
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}

# (case, container securityContext, the profiles whose envelope admits it)
TABLE: list[tuple[str, dict[str, Any] | None, set[str]]] = [
    ("no securityContext", None, NOT_RESTRICTED),
    ("kubectl restricted", RESTRICTED_SC, ALL),
    ("privileged", {"privileged": True}, ONLY_SYSADMIN),
    ("privileged false", {**RESTRICTED_SC, "privileged": False}, ALL),
    ("add SYS_ADMIN", {"capabilities": {"add": ["SYS_ADMIN"]}}, ONLY_SYSADMIN),
    ("add CAP_SYS_ADMIN spelled with prefix", {"capabilities": {"add": ["CAP_SYS_ADMIN"]}}, ONLY_SYSADMIN),
    ("add SYS_PTRACE", {"capabilities": {"add": ["SYS_PTRACE"]}}, {"general", "sysadmin"}),
    ("add NET_ADMIN", {"capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}}, {"netadmin", "sysadmin"}),
    ("add a baseline capability", {"capabilities": {"add": ["CHOWN"]}}, NOT_RESTRICTED),
    (
        "restricted + NET_BIND_SERVICE",
        {**RESTRICTED_SC, "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}},
        ALL,
    ),
    ("restricted + CHOWN", {**RESTRICTED_SC, "capabilities": {"drop": ["ALL"], "add": ["CHOWN"]}}, NOT_RESTRICTED),
    ("seLinux type spc_t", {"seLinuxOptions": {"type": "spc_t"}}, ONLY_SYSADMIN),
    ("seLinux type container_t", {**RESTRICTED_SC, "seLinuxOptions": {"type": "container_t"}}, ALL),
    ("seLinux user", {"seLinuxOptions": {"user": "system_u"}}, ONLY_SYSADMIN),
    ("seLinux role", {"seLinuxOptions": {"role": "system_r"}}, ONLY_SYSADMIN),
    ("seccomp Unconfined", {"seccompProfile": {"type": "Unconfined"}}, ONLY_SYSADMIN),
    ("seccomp Localhost", {**RESTRICTED_SC, "seccompProfile": {"type": "Localhost", "localhostProfile": "p"}}, ALL),
    ("appArmor Unconfined", {"appArmorProfile": {"type": "Unconfined"}}, ONLY_SYSADMIN),
    ("appArmor RuntimeDefault", {**RESTRICTED_SC, "appArmorProfile": {"type": "RuntimeDefault"}}, ALL),
    ("procMount Unmasked", {"procMount": "Unmasked"}, ONLY_SYSADMIN),
    ("procMount Default", {**RESTRICTED_SC, "procMount": "Default"}, ALL),
    ("windows hostProcess", {"windowsOptions": {"hostProcess": True}}, ONLY_SYSADMIN),
    ("runAsUser 0", {**RESTRICTED_SC, "runAsUser": 0}, NOT_RESTRICTED),
    ("runAsNonRoot false", {**RESTRICTED_SC, "runAsNonRoot": False}, NOT_RESTRICTED),
    ("runAsUser 1000", {**RESTRICTED_SC, "runAsUser": 1000}, ALL),
    ("escalation allowed", {**RESTRICTED_SC, "allowPrivilegeEscalation": True}, NOT_RESTRICTED),
    ("escalation unset", {k: v for k, v in RESTRICTED_SC.items() if k != "allowPrivilegeEscalation"}, NOT_RESTRICTED),
    ("no drop ALL", {**RESTRICTED_SC, "capabilities": {}}, NOT_RESTRICTED),
    ("seccomp unset", {k: v for k, v in RESTRICTED_SC.items() if k != "seccompProfile"}, NOT_RESTRICTED),
    (
        "the issue's bypass",
        {
            "runAsUser": 0,
            "runAsNonRoot": False,
            "seccompProfile": {"type": "Unconfined"},
            "appArmorProfile": {"type": "Unconfined"},
            "seLinuxOptions": {"type": "spc_t"},
        },
        ONLY_SYSADMIN,
    ),
]


def container(sc: dict[str, Any] | None) -> dict[str, Any]:
    return {"name": "d", "image": "busybox:1.37"} | ({"securityContext": sc} if sc is not None else {})


@pytest.mark.parametrize(("case", "sc", "admitted"), TABLE, ids=[row[0] for row in TABLE])
@pytest.mark.parametrize("profile", sorted(ALL))
def test_each_rule_under_each_allowed_profile(
    case: str, sc: dict[str, Any] | None, admitted: set[str], profile: str
) -> None:
    policy = Policy(profiles=(profile,))
    if profile in admitted:
        policy.check_profile(profile, container(sc), {})  # type: ignore[arg-type]
    else:
        with pytest.raises(PolicyDenied, match="setting 'profiles'"):
            policy.check_profile(profile, container(sc), {})  # type: ignore[arg-type]


def test_pod_level_settings_count_where_the_standard_lets_the_pod_decide() -> None:
    restricted = Policy(profiles=("restricted",))
    inherits = {k: v for k, v in RESTRICTED_SC.items() if k not in ("runAsNonRoot", "seccompProfile")}
    pod_sc = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    restricted.check_profile("restricted", container(inherits), pod_sc)
    with pytest.raises(PolicyDenied, match=r"pod securityContext\.runAsUser: 0"):
        restricted.check_profile("restricted", container(RESTRICTED_SC), {"runAsUser": 0})
    with pytest.raises(PolicyDenied, match="Unconfined"):
        Policy().check_profile("general", container(None), {"seccompProfile": {"type": "Unconfined"}})


@pytest.mark.parametrize("profile", sorted(ALL))
def test_what_each_kubectl_profile_builds_fits_its_own_envelope(profile: str) -> None:
    built = apply_profile(profile, {"name": "d"})  # type: ignore[arg-type]
    pod_sc = {"runAsUser": 1000} if profile == "restricted" else {}
    Policy(profiles=(profile,)).check_profile(profile, built, pod_sc)  # type: ignore[arg-type]


def test_a_profile_outside_the_policy_is_refused_by_name() -> None:
    with pytest.raises(PolicyDenied, match="Profile sysadmin is not allowed"):
        Policy().check_profile("sysadmin", container(None), {})
