"""`kubectl logs --previous` of a crash-looping container on the real node, at every moment of
the crash loop, over several restarts.

After instance N of a container exits, the pod status shows it `terminated` with lastState =
instance N-1 until the kubelet's next sync of the pod (when the restart back-off expires, at
most syncFrequency later); only then does it say CrashLoopBackOff with lastState = instance N.
A kubelet that keeps one exited instance per container (the default) deletes N-1 the moment N
exits, so in that window --previous failed with "unable to retrieve container logs for
containerd://<N-1>". The node keeps two (scripts/cluster.d/realnode/lib.sh).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Kube
from tests.realnode.conftest import DEBUG_IMAGE, kubectl

pytestmark = [pytest.mark.realnode, pytest.mark.cluster]

# Each instance counts itself in an emptyDir (which outlives container restarts) and prints a
# distinctive line on stderr, then an ordinary one, then exits 1.
CRASH_SCRIPT = """\
n=$(cat /state/n 2>/dev/null || echo 0); n=$((n+1)); echo "$n" > /state/n
echo "instance $n: FATAL: cannot read /etc/app/config.yaml" >&2
sleep 0.2
echo "instance $n: shutting down"
exit 1
"""
RESTARTS = 3  # until the 4th instance ran, with at least two post-crash windows observed
WAIT_S = 150  # back-off 10 s, 20 s, 40 s (+ up to 50% sync jitter) until the 4th exit


def crasher(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "nodeSelector": {"type": "real"},
            "tolerations": [{"key": "k8s-debug-mcp/real", "operator": "Exists", "effect": "NoSchedule"}],
            "terminationGracePeriodSeconds": 1,
            "volumes": [{"name": "state", "emptyDir": {}}],
            "containers": [
                {
                    "name": "app",
                    "image": DEBUG_IMAGE,
                    "imagePullPolicy": "Never",
                    "command": ["sh", "-c", CRASH_SCRIPT],
                    "volumeMounts": [{"name": "state", "mountPath": "/state"}],
                }
            ],
        },
    }


def app_status(kube: Kube, namespace: str, pod: str) -> dict[str, Any]:
    statuses = kube.get(namespace, "pod", pod)["status"].get("containerStatuses") or [{}]
    status: dict[str, Any] = statuses[0]
    return status


def test_previous_logs_stay_readable_through_every_phase_of_a_crash_loop(
    kube: Kube, namespace: str, real_node: str
) -> None:
    kube.apply(namespace, crasher("crasher"))
    seen: list[str] = []
    terminated_windows: set[int] = set()

    def observe() -> bool:
        before = app_status(kube, namespace, "crasher")
        prev = kubectl(kube, "logs", "-n", namespace, "crasher", "-c", "app", "--previous")
        cur = kubectl(kube, "logs", "-n", namespace, "crasher", "-c", "app")
        after = app_status(kube, namespace, "crasher")
        if json.dumps(before, sort_keys=True) != json.dumps(after, sort_keys=True):
            return False  # the status moved while we read the logs: look again
        restarts = int(after.get("restartCount", 0))
        state = after.get("state") or {}
        if restarts == 0:
            return False
        expect_cur: int | None
        if "terminated" in state:
            # instance restarts+1 just exited; its predecessor is lastState
            expect_prev, expect_cur = restarts, restarts + 1
            terminated_windows.add(restarts)
        elif (state.get("waiting") or {}).get("reason") == "CrashLoopBackOff":
            expect_prev = expect_cur = restarts + 1  # lastState is the instance that just exited
        elif "running" in state:
            expect_prev, expect_cur = restarts, None  # (its own log may still be empty)
        else:
            return False
        seen.append(f"restarts={restarts} state={next(iter(state), '?')}")
        assert prev.returncode == 0, f"--previous failed at {seen[-1]}: {prev.stderr.strip()}"
        # The kubelet's error comes back as the log's text, with HTTP 200 (kubectl exits 0).
        assert "unable to retrieve container logs" not in prev.stdout, f"at {seen[-1]}: {prev.stdout.strip()}"
        assert f"instance {expect_prev}: FATAL: cannot read /etc/app/config.yaml\n" in prev.stdout, (
            f"--previous at {seen[-1]}:\n{prev.stdout}"
        )
        assert f"instance {expect_prev}: shutting down" in prev.stdout
        assert cur.returncode == 0, f"logs failed at {seen[-1]}: {cur.stderr.strip()}"
        if expect_cur is not None:
            assert f"instance {expect_cur}: FATAL" in cur.stdout, f"logs at {seen[-1]}:\n{cur.stdout}"
        # Some windows last only a second or two (another sync comes early): need two of them.
        return restarts >= RESTARTS and len(terminated_windows) >= 2

    try:
        kube.wait_until(f"{RESTARTS} restarts, two of them seen right after the crash", observe, WAIT_S)
    except AssertionError as exc:
        raise AssertionError(
            f"{exc}; terminated windows seen: {sorted(terminated_windows)}; observations: {seen[-12:]}"
        ) from None
