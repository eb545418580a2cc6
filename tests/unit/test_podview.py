from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final

import pytest
from hypothesis import example, find, given, settings
from hypothesis import strategies as st

from k8s_debug_mcp.tools import podview
from k8s_debug_mcp.tools.kube import Pod, format_age, iso, parse_time
from k8s_debug_mcp.tools.podview import summarize_pod

NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


def ts(delta: timedelta) -> str:
    return (NOW - delta).isoformat().replace("+00:00", "Z")


def pod(
    *,
    phase: str = "Running",
    containers: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    init: list[dict[str, Any]] | None = None,
    init_statuses: list[dict[str, Any]] | None = None,
    conditions: list[dict[str, Any]] | None = None,
    created: timedelta = timedelta(hours=1),
    **meta: Any,
) -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "namespace": "ns", "creationTimestamp": ts(created), **meta},
        "spec": {"containers": containers or [{"name": "app"}], "initContainers": init or []},
        "status": {
            "phase": phase,
            "startTime": ts(created),
            "containerStatuses": statuses or [],
            "initContainerStatuses": init_statuses or [],
            "conditions": conditions or [],
        },
    }


def running(name: str, *, ready: bool = True, restarts: int = 0, last: dict[str, Any] | None = None) -> dict[str, Any]:
    cs: dict[str, Any] = {
        "name": name,
        "ready": ready,
        "restartCount": restarts,
        "state": {"running": {"startedAt": ts(timedelta(minutes=30))}},
    }
    if last:
        cs["lastState"] = {"terminated": last}
    return cs


def test_a_healthy_pod_is_running_and_not_a_problem() -> None:
    s = summarize_pod(pod(statuses=[running("app")]), NOW)
    assert (s.status, s.ready, s.total, s.restarts, s.problem) == ("Running", 1, 1, 0, None)


def test_crash_loop_shows_the_waiting_reason_restarts_and_last_restart_time() -> None:
    p = pod(
        containers=[{"name": "app"}, {"name": "sidecar"}],
        statuses=[
            {
                "name": "app",
                "ready": False,
                "restartCount": 7,
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}},
                "lastState": {
                    "terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ts(timedelta(seconds=30))}
                },
            },
            running("sidecar"),
        ],
    )
    s = summarize_pod(p, NOW)
    assert s.status == "CrashLoopBackOff"
    assert (s.ready, s.total, s.restarts) == (1, 2, 7)
    assert s.last_restart == NOW - timedelta(seconds=30)
    assert s.problem == "container app waiting: CrashLoopBackOff"


def test_oomkilled_terminated_container_shows_oomkilled() -> None:
    p = pod(
        statuses=[{"name": "app", "restartCount": 0, "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]
    )
    s = summarize_pod(p, NOW)
    assert s.status == "OOMKilled"
    assert s.problem == "container app terminated: OOMKilled"


def test_terminated_without_reason_shows_signal_or_exit_code_like_kubectl() -> None:
    by_signal = pod(statuses=[{"name": "app", "state": {"terminated": {"exitCode": 143, "signal": 15}}}])
    by_code = pod(statuses=[{"name": "app", "state": {"terminated": {"exitCode": 3}}}])
    assert summarize_pod(by_signal, NOW).status == "Signal:15"
    assert summarize_pod(by_code, NOW).status == "ExitCode:3"


def test_failing_init_container_shows_init_prefix_and_hides_regular_containers() -> None:
    p = pod(
        phase="Pending",
        init=[{"name": "migrate"}, {"name": "warm"}],
        init_statuses=[
            {"name": "migrate", "restartCount": 2, "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
            {"name": "warm", "state": {"waiting": {"reason": "PodInitializing"}}},
        ],
        statuses=[{"name": "app", "state": {"waiting": {"reason": "PodInitializing"}}}],
    )
    s = summarize_pod(p, NOW)
    assert s.status == "Init:CrashLoopBackOff"
    assert s.restarts == 2
    assert s.problem == "container migrate waiting: CrashLoopBackOff"


def test_init_progress_is_shown_as_a_fraction_and_is_not_a_problem_while_young() -> None:
    p = pod(
        phase="Pending",
        created=timedelta(seconds=20),
        init=[{"name": "a"}, {"name": "b"}],
        init_statuses=[
            {"name": "a", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
            {"name": "b", "state": {"running": {}}},
        ],
    )
    s = summarize_pod(p, NOW)
    assert s.status == "Init:1/2"
    assert s.problem is None


def test_sidecar_init_containers_count_towards_ready_and_total() -> None:
    p = pod(
        init=[{"name": "proxy", "restartPolicy": "Always"}],
        init_statuses=[{"name": "proxy", "started": True, "ready": True, "state": {"running": {}}}],
        statuses=[running("app")],
        conditions=[{"type": "Initialized", "status": "True"}],
    )
    s = summarize_pod(p, NOW)
    assert (s.status, s.ready, s.total) == ("Running", 2, 2)


def test_deleting_pod_is_terminating_and_completed_pods_are_fine() -> None:
    deleting = pod(statuses=[running("app")], deletionTimestamp=ts(timedelta(seconds=5)))
    done = pod(
        phase="Succeeded", statuses=[{"name": "app", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]
    )
    assert summarize_pod(deleting, NOW).status == "Terminating"
    assert summarize_pod(done, NOW).status == "Completed"
    assert summarize_pod(done, NOW).problem is None


def test_unschedulable_pod_is_flagged_with_the_scheduler_reason() -> None:
    p = pod(
        phase="Pending",
        created=timedelta(seconds=10),
        conditions=[{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}],
    )
    s = summarize_pod(p, NOW)
    assert s.status == "Pending"
    assert s.problem == "not scheduled (Unschedulable)"


def test_image_pull_backoff_is_a_problem_but_container_creating_is_not() -> None:
    pulling = pod(phase="Pending", statuses=[{"name": "app", "state": {"waiting": {"reason": "ImagePullBackOff"}}}])
    creating = pod(
        phase="Pending",
        created=timedelta(seconds=10),
        statuses=[{"name": "app", "state": {"waiting": {"reason": "ContainerCreating"}}}],
    )
    assert summarize_pod(pulling, NOW).problem == "container app waiting: ImagePullBackOff"
    assert summarize_pod(creating, NOW).problem is None


def test_recent_restart_is_a_problem_old_restart_is_not() -> None:
    recent = pod(statuses=[running("app", restarts=1, last={"exitCode": 1, "finishedAt": ts(timedelta(minutes=5))})])
    old = pod(statuses=[running("app", restarts=1, last={"exitCode": 1, "finishedAt": ts(timedelta(days=2))})])
    assert summarize_pod(recent, NOW).problem == "restarted, last 5m ago"
    assert summarize_pod(old, NOW).problem is None


def test_running_but_not_ready_is_a_problem() -> None:
    p = pod(statuses=[running("app", ready=False)])
    assert summarize_pod(p, NOW).problem == "not ready (0/1)"


def test_garbage_input_never_raises() -> None:
    for junk in ({}, {"status": None}, {"spec": {"containers": "x"}}, {"status": {"containerStatuses": [1, None]}}):
        s = summarize_pod(junk, NOW)
        assert s.status


def test_container_entries_pair_spec_and_status_for_all_three_kinds() -> None:
    p = pod(init=[{"name": "i"}], statuses=[running("app")])
    p["spec"]["ephemeralContainers"] = [{"name": "debugger-abcde", "targetContainerName": "app"}]
    kinds = [(c.kind, c.name, c.has_status) for c in Pod(p).containers()]
    assert kinds == [("init", "i", False), ("regular", "app", True), ("ephemeral", "debugger-abcde", False)]


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (5, "5s"),
        (119, "119s"),
        (150, "2m30s"),
        (600, "10m"),
        (3 * 3600 + 600, "3h10m"),
        (20 * 3600, "20h"),
        (3 * 86400 + 3600, "3d1h"),
        (40 * 86400, "40d"),
        (800 * 86400, "2y"),
    ],
)
def test_ages_read_like_kubectl(seconds: int, expected: str) -> None:
    assert format_age(NOW - timedelta(seconds=seconds), NOW) == expected


def test_iso_writes_seconds_and_z_like_the_api_server() -> None:
    local = datetime(2026, 11, 27, 13, 0, 0, 987654, tzinfo=timezone(timedelta(hours=1)))
    assert iso(local) == "2026-11-27T12:00:00Z"
    assert parse_time(iso(local)) == NOW


def test_parse_time_accepts_api_timestamps_and_rejects_junk() -> None:
    assert parse_time("2026-11-27T12:00:00Z") == NOW
    assert parse_time("2026-11-27T12:00:00.123456Z") is not None
    assert parse_time("yesterday") is None
    assert parse_time(None) is None


_STATES = st.one_of(
    st.just({"running": {"startedAt": ts(timedelta(minutes=30))}}),
    st.builds(
        lambda r: {"waiting": {"reason": r}} if r else {"waiting": {}},
        st.sampled_from(
            [
                "",
                "ContainerCreating",
                "PodInitializing",
                "CrashLoopBackOff",
                "ImagePullBackOff",
                "CreateContainerConfigError",
            ]
        ),
    ),
    st.builds(
        lambda code, reason: {"terminated": {"exitCode": code, **({"reason": reason} if reason else {})}},
        st.sampled_from([0, 1, 137]),
        st.sampled_from(["", "Completed", "Error", "OOMKilled"]),
    ),
    st.just({}),
)


@st.composite
def _container_status(draw: st.DrawFn, name: str) -> dict[str, Any]:
    status: dict[str, Any] = {
        "name": name,
        "ready": draw(st.booleans()),
        "started": draw(st.booleans()),
        "restartCount": draw(st.integers(0, 3)),
        "state": draw(_STATES),
    }
    if draw(st.booleans()):
        status["lastState"] = {
            "terminated": {
                "exitCode": 1,
                "finishedAt": ts(draw(st.sampled_from([timedelta(minutes=5), timedelta(hours=3)]))),
            }
        }
    return status


@st.composite
def _pods(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(["app", "side", "web"]), min_size=1, max_size=3, unique=True))
    inits = draw(st.lists(st.sampled_from(["init", "mesh"]), max_size=2, unique=True))
    init_specs = [{"name": n, **({"restartPolicy": "Always"} if draw(st.booleans()) else {})} for n in inits]
    conditions = [
        {"type": kind, "status": draw(st.sampled_from(["True", "False"]))}
        for kind in ("PodScheduled", "Initialized", "Ready")
        if draw(st.booleans())
    ]
    return pod(
        phase=draw(st.sampled_from(["Running", "Pending", "Running", "Failed", "Succeeded", "Unknown"])),
        containers=[{"name": n} for n in names],
        statuses=[draw(_container_status(n)) for n in names if draw(st.integers(0, 5))],
        init=init_specs,
        init_statuses=[draw(_container_status(n)) for n in inits],
        conditions=conditions,
        created=draw(st.sampled_from([timedelta(seconds=10), timedelta(hours=2)])),
    )


# Found by the property: a started sidecar that is not running leaves STATUS at "Running".
CRASHING_SIDECAR: Final = {
    "metadata": {"name": "p", "namespace": "ns", "creationTimestamp": "2026-11-27T11:59:50Z"},
    "spec": {
        "containers": [{"name": "app"}],
        "initContainers": [{"name": "init", "restartPolicy": "Always"}, {"name": "mesh", "restartPolicy": "Always"}],
    },
    "status": {
        "phase": "Running",
        "startTime": "2026-11-27T11:59:50Z",
        "containerStatuses": [
            {"name": "app", "ready": True, "started": False, "restartCount": 0, "state": {"running": {}}}
        ],
        "initContainerStatuses": [
            {"name": "init", "ready": True, "started": True, "restartCount": 0, "state": {"running": {}}},
            {
                "name": "mesh",
                "ready": True,
                "started": True,
                "restartCount": 0,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            },
        ],
        "conditions": [],
    },
}


@settings(max_examples=2000, deadline=None)
@given(_pods())
@example(CRASHING_SIDECAR)
def test_the_healthy_pod_shortcut_agrees_with_reading_every_container(raw: dict[str, Any]) -> None:
    """summarize_pod decides a plainly Running, all-ready pod without reading its containers again;
    on every pod where it does, the full reading must give the same verdict."""
    s = summarize_pod(raw, NOW)
    if podview._plainly_running(raw, str(raw["status"]["phase"]), s.status, s.ready, s.total):
        detail = podview._problem(raw, "Running", s.status, s.ready, s.total, s.last_restart, NOW, shortcut=False)
        assert s.problem == detail, (s, detail)


def test_the_shortcut_is_taken_by_generated_pods() -> None:
    """The property above is not vacuous: its generator makes plainly running pods too."""
    found = find(
        _pods(),
        lambda p: (
            podview._plainly_running(p, p["status"]["phase"], (s := summarize_pod(p, NOW)).status, s.ready, s.total)
            and s.total > 1
        ),
    )
    assert summarize_pod(found, NOW).status == "Running"
