from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from k8s_debug_mcp.tools.debug_plan import merge_container, plan_debug_container
from k8s_debug_mcp.tools.errors import InvalidTarget
from k8s_debug_mcp.tools.kube import Pod
from k8s_debug_mcp.tools.models import AddDebugContainerRequest
from k8s_debug_mcp.tools.profiles import apply_profile

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
IMAGE = "busybox:1.37"


def slim_pod(**extra_spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "slim-1", "namespace": "ns"},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "slim-app:1",
                    "securityContext": {"runAsUser": 1000, "runAsGroup": 3000},
                    "volumeMounts": [
                        {
                            "name": "kube-api-access",
                            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                            "readOnly": True,
                        },
                        {"name": "config", "mountPath": "/etc/app/app.yaml", "subPath": "app.yaml"},
                    ],
                },
                {"name": "sidecar", "image": "slim-sidecar:1"},
            ],
            **extra_spec,
        },
        "status": {"phase": "Running"},
    }


def req(**kw: Any) -> AddDebugContainerRequest:
    return AddDebugContainerRequest(namespace="ns", pod="slim-1", **kw)


def plan(pod: dict[str, Any] | None = None, **kw: Any) -> Any:
    return plan_debug_container(
        Pod(pod or slim_pod()), req(**kw), image=IMAGE, now=NOW, owner=None, suffix=lambda: "x2b4z"
    )


# kubectl profiles.go, ephemeral style, field by field.
KUBECTL_PROFILES: dict[str, dict[str, Any] | None] = {
    "legacy": None,
    "general": {"capabilities": {"add": ["SYS_PTRACE"]}},
    "baseline": None,
    "restricted": {
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "allowPrivilegeEscalation": False,
        "seccompProfile": {"type": "RuntimeDefault"},
    },
    "netadmin": {"capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}},
    "sysadmin": {"privileged": True},
}


@pytest.mark.parametrize(("profile", "expected"), list(KUBECTL_PROFILES.items()))
def test_each_profile_sets_exactly_what_kubectl_sets(profile: str, expected: dict[str, Any] | None) -> None:
    out = apply_profile(profile, {"name": "d"})  # type: ignore[arg-type]
    assert out.get("securityContext") == expected


def test_baseline_and_restricted_clear_an_existing_security_context_first() -> None:
    dirty = {"name": "d", "securityContext": {"privileged": True, "capabilities": {"add": ["SYS_ADMIN"]}}}
    assert "securityContext" not in apply_profile("baseline", dirty)
    assert apply_profile("restricted", dirty)["securityContext"] == KUBECTL_PROFILES["restricted"]
    assert dirty["securityContext"] == {"privileged": True, "capabilities": {"add": ["SYS_ADMIN"]}}


def test_default_plan_is_a_general_sleeper_targeting_nothing() -> None:
    p = plan()
    assert p.name == "debugger-x2b4z"
    assert p.container == {
        "name": "debugger-x2b4z",
        "image": IMAGE,
        "command": ["sleep", "3600"],
        "terminationMessagePolicy": "File",
        "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}},
        "env": [
            {"name": "K8S_DEBUG_MCP_KEY", "value": p.key},
            {"name": "K8S_DEBUG_MCP_EXPIRES", "value": "2026-11-27T13:00:00Z"},
        ],
    }
    assert p.patch == {
        "spec": {
            "$setElementOrder/ephemeralContainers": [{"name": "debugger-x2b4z"}],
            "ephemeralContainers": [p.container],
        }
    }


def test_full_option_plan_snapshot() -> None:
    p = plan(
        target="app",
        profile="netadmin",
        command=["sh", "-c", "sleep 1"],
        args=["x"],
        env={"A": "1"},
        image_pull_policy="IfNotPresent",
        stdin=True,
        tty=True,
        mount_like_target=True,
        run_as_target=True,
        custom={
            "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}},
            "env": [{"name": "A", "value": "2"}],
            "workingDir": "/tmp",  # kubectl has no flag for it either
        },
    )
    assert p.container == {
        "name": "debugger-x2b4z",
        "image": IMAGE,
        "command": ["sh", "-c", "sleep 1", "x"],  # as kubectl stores `-- sh -c 'sleep 1' x`
        "env": [{"name": "A", "value": "2"}, {"name": "K8S_DEBUG_MCP_KEY", "value": p.key}],
        "workingDir": "/tmp",
        "imagePullPolicy": "IfNotPresent",
        "stdin": True,
        "tty": True,
        "terminationMessagePolicy": "File",
        "targetContainerName": "app",
        "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}, "runAsUser": 1000, "runAsGroup": 3000},
        "volumeMounts": [
            {"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": True}
        ],
    }
    assert p.expires_at is None
    assert any("/etc/app/app.yaml" in w and "subPath" in w for w in p.warnings)


def test_existing_ephemeral_containers_keep_their_order_in_the_patch() -> None:
    pod = slim_pod(ephemeralContainers=[{"name": "debugger-old11"}])
    p = plan(pod)
    assert p.patch["spec"]["$setElementOrder/ephemeralContainers"] == [
        {"name": "debugger-old11"},
        {"name": "debugger-x2b4z"},
    ]
    assert [c["name"] for c in p.patch["spec"]["ephemeralContainers"]] == ["debugger-x2b4z"]


def test_generated_names_are_redrawn_until_unique_across_all_three_lists() -> None:
    pod = slim_pod(initContainers=[{"name": "debugger-aaaaa"}], ephemeralContainers=[{"name": "debugger-bbbbb"}])
    draws = iter(["aaaaa", "bbbbb", "ccccc"])
    p = plan_debug_container(Pod(pod), req(), image=IMAGE, now=NOW, owner=None, suffix=lambda: next(draws))
    assert p.name == "debugger-ccccc"


def test_the_same_debugger_asked_twice_has_the_same_key_whatever_its_name_or_ttl() -> None:
    a = plan_debug_container(
        Pod(slim_pod()), req(target="app"), image=IMAGE, now=NOW, owner=None, suffix=lambda: "aaaaa"
    )
    b = plan_debug_container(
        Pod(slim_pod()), req(target="app", ttl_seconds=600), image=IMAGE, now=NOW, owner=None, suffix=lambda: "b"
    )
    c = plan_debug_container(
        Pod(slim_pod()), req(target="sidecar"), image=IMAGE, now=NOW, owner=None, suffix=lambda: "aaaaa"
    )
    assert a.key == b.key
    assert a.key != c.key


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": "nope"}, "no regular or init container named 'nope'"),
        ({"name": "app"}, "already has a container named 'app'"),
        ({"tty": True}, "tty requires stdin"),
        ({"mount_like_target": True}, "mount_like_target needs a target"),
    ],
)
def test_bad_requests_are_refused_before_any_api_call(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidTarget, match=message):
        plan(**kwargs)


def test_completed_and_static_pods_are_refused() -> None:
    done = slim_pod()
    done["status"]["phase"] = "Succeeded"
    mirror = slim_pod()
    mirror["metadata"]["annotations"] = {"kubernetes.io/config.mirror": "abc"}
    with pytest.raises(InvalidTarget, match="has completed"):
        plan(done)
    with pytest.raises(InvalidTarget, match="static"):
        plan(mirror)


def test_an_ephemeral_container_cannot_be_a_target() -> None:
    with pytest.raises(InvalidTarget):
        plan(slim_pod(ephemeralContainers=[{"name": "debugger-old11"}]), target="debugger-old11")


def test_non_root_pod_with_added_capabilities_warns_like_kubectl() -> None:
    p = plan(slim_pod(securityContext={"runAsUser": 1000}))
    assert any("non-root user" in w for w in p.warnings)
    assert not any(
        "non-root user" in w for w in plan(slim_pod(securityContext={"runAsUser": 1000}), profile="baseline").warnings
    )


def test_restricted_without_a_user_warns_about_run_as_non_root() -> None:
    assert any("runAsNonRoot" in w for w in plan(profile="restricted").warnings)
    assert not any("runAsNonRoot" in w for w in plan(profile="restricted", target="app", run_as_target=True).warnings)


def test_kubectl_equivalent_is_quoted_and_carries_our_additions_in_custom() -> None:
    p = plan(target="app", command=["sh", "-c", "echo $HOME; id"], mount_like_target=True)
    assert p.kubectl is not None
    assert p.kubectl.startswith(
        "kubectl debug -n ns slim-1 --image=busybox:1.37 -c debugger-x2b4z --profile=general --target=app"
    )
    assert p.kubectl.endswith("-- sh -c 'echo $HOME; id'")
    assert '--custom=<(echo \'{"volumeMounts":' in p.kubectl


def test_merge_container_follows_strategic_merge_rules() -> None:
    base = {"env": [{"name": "A", "value": "1"}], "securityContext": {"privileged": True}, "args": ["a"]}
    out = merge_container(
        base, {"env": [{"name": "B", "value": "2"}], "securityContext": {"privileged": None}, "args": ["b"]}
    )
    assert out == {
        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        "securityContext": {},
        "args": ["b"],
    }


def test_a_debugger_is_reused_only_for_the_same_profile_even_when_the_containers_are_the_same() -> None:
    legacy, baseline = plan(profile="legacy"), plan(profile="baseline")
    assert legacy.container["name"] == baseline.container["name"]
    assert {k: v for k, v in legacy.container.items() if k != "env"} == {
        k: v for k, v in baseline.container.items() if k != "env"
    }
    assert legacy.key != baseline.key


def test_an_explicit_command_is_part_of_the_key_so_only_the_default_sleeper_matches_any_ttl() -> None:
    sleeper = plan()
    assert plan(ttl_seconds=600).key == sleeper.key
    assert plan(command=["sleep", "3600"]).key != sleeper.key
    assert plan(command=["sleep", "100"]).key != plan(command=["sleep", "3600"]).key
    assert plan(image_pull_policy="Never").key != sleeper.key


def test_env_is_sorted_as_kubectl_stores_it() -> None:
    p = plan(env={"ZZ": "1", "AA": "2", "MM": "3"})
    names = [e["name"] for e in p.container["env"] if not e["name"].startswith("K8S_DEBUG_MCP_")]
    assert names == ["AA", "MM", "ZZ"]
    assert "--env=AA=2 --env=MM=3 --env=ZZ=1" in p.kubectl
