from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from k8s_debug_mcp.tools.debug_plan import reusable
from k8s_debug_mcp.tools.kube import Pod, State
from k8s_debug_mcp.tools.ownership import Ownership

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
OWNER = Ownership(b"k" * 32)
UID = "pod-uid-1"


def iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def pod_with(
    containers: list[tuple[str, str, datetime | None]],
    statuses: dict[str, dict[str, Any]],
    *,
    forged: bool = False,
) -> Pod:
    eph = []
    for name, key, expires in containers:
        env = [{"name": "K8S_DEBUG_MCP_KEY", "value": key}]
        if expires is not None:
            env.append({"name": "K8S_DEBUG_MCP_EXPIRES", "value": iso(expires)})
        mark = "0" * 40 if forged else OWNER.container_mark(UID, name)
        env.append({"name": "K8S_DEBUG_MCP_OWNER", "value": mark})
        eph.append({"name": name, "env": env})
    return Pod(
        {
            "metadata": {"name": "p", "uid": UID},
            "spec": {"ephemeralContainers": eph},
            "status": {"ephemeralContainerStatuses": [{"name": n, "state": s} for n, s in statuses.items()]},
        }
    )


def test_a_running_debugger_with_the_same_key_is_reused() -> None:
    pod = pod_with([("debugger-a", "k1", NOW + timedelta(hours=1))], {"debugger-a": {"running": {}}})
    found = reusable(pod, "k1", NOW, OWNER)
    assert found is not None
    assert found.name == "debugger-a"
    assert found.state.phase == "running"


def test_a_different_key_an_expiring_or_a_dead_debugger_is_not_reused() -> None:
    soon = pod_with([("debugger-a", "k1", NOW + timedelta(seconds=30))], {"debugger-a": {"running": {}}})
    dead = pod_with([("debugger-a", "k1", None)], {"debugger-a": {"terminated": {"exitCode": 0}}})
    broken = pod_with([("debugger-a", "k1", None)], {"debugger-a": {"waiting": {"reason": "ErrImagePull"}}})
    assert reusable(soon, "k1", NOW, OWNER) is None
    assert reusable(dead, "k1", NOW, OWNER) is None
    assert reusable(broken, "k1", NOW, OWNER) is None
    assert reusable(soon, "k2", NOW, OWNER) is None


def test_a_debugger_still_starting_is_reused_so_a_retry_never_duplicates() -> None:
    pending = pod_with([("debugger-a", "k1", None)], {})
    creating = pod_with([("debugger-a", "k1", None)], {"debugger-a": {"waiting": {"reason": "ContainerCreating"}}})
    found = reusable(pending, "k1", NOW, OWNER)
    assert found is not None
    assert found.name == "debugger-a"
    assert found.state.phase == "waiting"
    assert reusable(creating, "k1", NOW, OWNER) is not None


def test_the_newest_matching_debugger_wins() -> None:
    pod = pod_with(
        [("debugger-old", "k1", None), ("debugger-new", "k1", None)],
        {"debugger-old": {"running": {}}, "debugger-new": {"running": {}}},
    )
    found = reusable(pod, "k1", NOW, OWNER)
    assert found is not None
    assert found.name == "debugger-new"


def test_a_debugger_with_a_forged_owner_mark_is_never_reused() -> None:
    pod = pod_with([("debugger-a", "k1", None)], {"debugger-a": {"running": {}}}, forged=True)
    assert reusable(pod, "k1", NOW, OWNER) is None
    assert reusable(pod_with([("debugger-a", "k1", None)], {}), "k1", NOW, Ownership(b"x" * 32)) is None


def test_an_explicit_name_only_reuses_the_debugger_of_that_name() -> None:
    pod = pod_with([("dbg-legacy", "k1", None)], {"dbg-legacy": {"running": {}}})
    assert reusable(pod, "k1", NOW, OWNER, name="dbg-baseline") is None
    found = reusable(pod, "k1", NOW, OWNER, name="dbg-legacy")
    assert found is not None


def test_state_reads_reason_message_and_exit_codes() -> None:
    assert State.of({"waiting": {"reason": "ErrImagePull", "message": "not found"}}) == State(
        "waiting", reason="ErrImagePull", message="not found"
    )
    assert State.of({"terminated": {"exitCode": 2}}).describe() == "terminated (exit 2)"
    assert State.of({}) == State("waiting")
    assert State.of({"waiting": {"reason": "ErrImagePull"}}).cannot_start
