from __future__ import annotations

import pytest
from pydantic import ValidationError

from k8s_debug_mcp.tools.inspection import container_ids, parse_cgroups, parse_ps
from k8s_debug_mcp.tools.models import InspectRequest


def test_busybox_ps_output_becomes_rows() -> None:
    out = (
        "PID   USER     COMMAND\n"
        "    1 65532    /app/server httpd -f -p 8080 -h /www\n"
        "   14 root     ps -o pid,user,args\n"
    )
    rows = parse_ps(out)
    assert [(r.pid, r.user, r.command) for r in rows] == [
        (1, "65532", "/app/server httpd -f -p 8080 -h /www"),
        (14, "root", "ps -o pid,user,args"),
    ]


def test_junk_lines_are_skipped() -> None:
    assert parse_ps("garbage\n\n  x y z\n7 u\n") == [parse_ps("7 u")[0]]


@pytest.mark.parametrize("path", ["relative", "/etc/../../x", "/a\x00b", "/a\nb", "/" + "a" * 5000])
def test_paths_must_be_absolute_without_dot_dot(path: str) -> None:
    with pytest.raises(ValidationError):
        InspectRequest(namespace="ns", pod="p", what="cat", path=path)


def test_cgroup_lines_give_each_pid_its_runtime_container_id() -> None:
    cid_app, cid_dbg = "a" * 64, "b" * 64
    out = f"/proc/1/cgroup:{'c' * 64}\n/proc/7/cgroup:{cid_app}\n/proc/18/cgroup:{cid_dbg}\n/proc/9/cgroup:not-an-id\n"
    assert parse_cgroups(out) == {1: "c" * 64, 7: cid_app, 18: cid_dbg}


def test_container_ids_come_from_every_kind_of_container_status() -> None:
    from k8s_debug_mcp.tools.kube import Pod

    pod = Pod(
        {
            "spec": {"containers": [{"name": "app"}], "ephemeralContainers": [{"name": "dbg"}]},
            "status": {
                "containerStatuses": [{"name": "app", "containerID": "containerd://" + "a" * 64}],
                "ephemeralContainerStatuses": [{"name": "dbg", "containerID": "cri-o://" + "b" * 64}],
            },
        }
    )
    assert container_ids(pod) == {"a" * 64: "app", "b" * 64: "dbg"}
