from __future__ import annotations

import pytest
from pydantic import ValidationError

from k8s_debug_mcp.tools.inspection import parse_ps
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
