from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from k8s_debug_mcp.tools.debug import _state, reusable

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def pod_with(containers: list[tuple[str, str, datetime | None]], statuses: dict[str, dict[str, Any]]) -> dict[str, Any]:
    eph = []
    for name, key, expires in containers:
        env = [{"name": "K8S_DEBUG_MCP_KEY", "value": key}]
        if expires is not None:
            env.append({"name": "K8S_DEBUG_MCP_EXPIRES", "value": iso(expires)})
        eph.append({"name": name, "env": env})
    return {
        "spec": {"ephemeralContainers": eph},
        "status": {"ephemeralContainerStatuses": [{"name": n, "state": s} for n, s in statuses.items()]},
    }


def test_a_running_debugger_with_the_same_key_is_reused() -> None:
    pod = pod_with([("debugger-a", "k1", NOW + timedelta(hours=1))], {"debugger-a": {"running": {}}})
    found = reusable(pod, "k1", NOW)
    assert found is not None
    assert found[0]["name"] == "debugger-a"
    assert found[1] == "running"


def test_a_different_key_an_expiring_or_a_dead_debugger_is_not_reused() -> None:
    soon = pod_with([("debugger-a", "k1", NOW + timedelta(seconds=30))], {"debugger-a": {"running": {}}})
    dead = pod_with([("debugger-a", "k1", None)], {"debugger-a": {"terminated": {"exitCode": 0}}})
    broken = pod_with([("debugger-a", "k1", None)], {"debugger-a": {"waiting": {"reason": "ErrImagePull"}}})
    assert reusable(soon, "k1", NOW) is None
    assert reusable(dead, "k1", NOW) is None
    assert reusable(broken, "k1", NOW) is None
    assert reusable(soon, "k2", NOW) is None


def test_a_debugger_still_starting_is_reused_so_a_retry_never_duplicates() -> None:
    pending = pod_with([("debugger-a", "k1", None)], {})
    creating = pod_with([("debugger-a", "k1", None)], {"debugger-a": {"waiting": {"reason": "ContainerCreating"}}})
    assert reusable(pending, "k1", NOW) == (pending["spec"]["ephemeralContainers"][0], "waiting")
    assert reusable(creating, "k1", NOW) is not None


def test_the_newest_matching_debugger_wins() -> None:
    pod = pod_with(
        [("debugger-old", "k1", None), ("debugger-new", "k1", None)],
        {"debugger-old": {"running": {}}, "debugger-new": {"running": {}}},
    )
    found = reusable(pod, "k1", NOW)
    assert found is not None
    assert found[0]["name"] == "debugger-new"


def test_state_reads_reason_and_message_and_exit_codes() -> None:
    assert _state({"state": {"waiting": {"reason": "ErrImagePull", "message": "not\nfound"}}}) == (
        "waiting",
        "ErrImagePull",
        "not found",
    )
    assert _state({"state": {"terminated": {"exitCode": 2}}}) == ("terminated", "exit 2", None)
    assert _state({}) == ("waiting", None, None)
