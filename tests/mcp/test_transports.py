"""The installed entry point over real transports: stdio (raw JSON-RPC) and streamable HTTP."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from tests.conftest import Seeded
from tests.mcp.util import INITIALIZED, initialize, post_initialize

pytestmark = pytest.mark.cluster

SERVER = [sys.executable, "-m", "k8s_debug_mcp"]


def stdio_server(kubeconfig: str, tmp_path: Path, *flags: str) -> subprocess.Popen[str]:
    """The server over stdio as a client starts it (pipes on all three streams), auditing into tmp_path."""
    return subprocess.Popen(
        [*SERVER, "--kubeconfig", kubeconfig, *flags, "--audit-log", str(tmp_path / "audit.jsonl")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd="/",
    )


def rpc(proc: subprocess.Popen[str], msg: dict[str, Any]) -> None:
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(msg) + "\n")
    proc.stdin.flush()


def test_stdio_carries_only_protocol_on_stdout_and_json_logs_on_stderr(
    kubeconfig: str, seeded: Seeded, tmp_path: Path
) -> None:
    proc = stdio_server(kubeconfig, tmp_path, "--no-confirm")
    rpc(proc, initialize())
    rpc(proc, INITIALIZED)
    rpc(
        proc,
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "pod_status", "arguments": {"namespace": seeded.namespace, "pod": seeded.crash_pod}},
        },
    )
    assert proc.stdout is not None
    responses: dict[int, Any] = {}
    deadline = time.monotonic() + 60
    while len(responses) < 2 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        assert line, "server closed stdout early"
        msg = json.loads(line)  # every stdout line is JSON-RPC
        assert msg["jsonrpc"] == "2.0"
        if "id" in msg:
            responses[msg["id"]] = msg
    out, err = proc.communicate(timeout=30)  # closes stdin: the server exits on EOF
    for line in out.splitlines():
        assert json.loads(line)["jsonrpc"] == "2.0"
    assert responses[1]["result"]["serverInfo"]["name"] == "k8s-debug-mcp"
    result = responses[2]["result"]
    assert result["isError"] is False
    assert result["structuredContent"]["status"] == "CrashLoopBackOff"
    logs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    calls = [e for e in logs if e.get("event") == "tool_call"]
    assert len(calls) == 1
    assert calls[0]["tool"] == "pod_status"
    assert calls[0]["namespace"] == seeded.namespace
    assert calls[0]["pod"] == seeded.crash_pod
    assert calls[0]["outcome"] == "ok"
    assert calls[0]["duration_ms"] >= 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving_http(kubeconfig: str, tmp_path: Path, *, log_to: Path | None = None, **env: str) -> Iterator[str]:
    """`python -m k8s_debug_mcp --transport streamable-http` on a free loopback port; its URL. With
    `log_to`, the server's stderr (info level) goes to that file."""
    port = free_port()
    if log_to is not None:
        env = {"K8S_DEBUG_MCP_LOG_LEVEL": "info", **env}
    proc = subprocess.Popen(
        [
            *SERVER,
            "--kubeconfig",
            kubeconfig,
            "--transport",
            "streamable-http",
            "--port",
            str(port),
            "--audit-log",
            str(tmp_path / "audit.jsonl"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=log_to.open("w") if log_to is not None else subprocess.PIPE,
        cwd="/",
        env={**os.environ, "K8S_DEBUG_MCP_LOG_LEVEL": "warning", **env},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, (
                    proc.stderr.read().decode() if proc.stderr else log_to and log_to.read_text()
                )
                assert time.monotonic() < deadline, "HTTP server did not start within 30s"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.fixture
def http_server(kubeconfig: str, tmp_path: Path) -> Iterator[str]:
    with serving_http(kubeconfig, tmp_path) as url:
        yield url


@pytest.mark.anyio
async def test_streamable_http_serves_tools_on_loopback(http_server: str, seeded: Seeded) -> None:
    async with Client(http_server) as c:
        assert {t.name for t in (await c.list_tools()).tools} >= {"list_pods", "pod_status", "pod_logs"}
        res = await c.call_tool("list_pods", {"namespace": seeded.namespace, "problems_only": True})
    assert res.structured_content is not None
    assert [p["name"] for p in res.structured_content["pods"]] == [seeded.crash_pod]


def test_http_refuses_a_foreign_host_header_dns_rebinding(http_server: str) -> None:
    req = urllib.request.Request(
        http_server,
        data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).encode(),
        headers={
            "Host": "evil.example:80",
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
        },
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=10)
    assert exc.value.code in (403, 421)


def post(url: str, token: str | None) -> int:
    return post_initialize(url, token, timeout=10)[0]


def test_with_a_token_configured_http_requires_it(kubeconfig: str, tmp_path: Path) -> None:
    with serving_http(kubeconfig, tmp_path, K8S_DEBUG_MCP_HTTP_TOKEN="correct-horse-battery") as url:
        assert post(url, None) == 401
        assert post(url, "wrong") == 401
        assert post(url, "correct-horse-battery") == 200


def log_events(path: Path, event: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]
    return [e for e in lines if e.get("event") == event]


def raw_post(url: str, message: dict[str, Any], headers: dict[str, str]) -> http.client.HTTPResponse:
    """POST one JSON-RPC message on its own connection; the response with its headers read, body not."""
    port = int(url.split(":")[2].split("/")[0])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/mcp", body=json.dumps(message), headers=headers)
    return conn.getresponse()


def open_session(url: str) -> dict[str, str]:
    """A raw 2025-era session over HTTP; the headers every later request carries."""
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    init = initialize()
    answer = raw_post(url, init, headers)
    assert answer.status == 200
    headers |= {"Mcp-Session-Id": answer.headers["mcp-session-id"], "Mcp-Protocol-Version": "2025-11-25"}
    answer.close()
    raw_post(url, INITIALIZED, headers).close()
    return headers


def test_an_http_client_that_disconnects_cancels_its_running_exec(
    kubeconfig: str, seeded: Seeded, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"

    async def add_debugger(url: str) -> None:
        async with Client(url) as client:
            added = await client.call_tool(
                "add_debug_container", {"namespace": seeded.namespace, "pod": seeded.slim_pod}
            )
            assert not added.is_error, added

    with serving_http(kubeconfig, tmp_path, log_to=log, K8S_DEBUG_MCP_NO_CONFIRM="1") as url:
        anyio.run(add_debugger, url)
        headers = open_session(url)
        call = {
            "jsonrpc": "2.0",
            "id": 7,
            "method": "tools/call",
            "params": {
                "name": "exec",
                "arguments": {"namespace": seeded.namespace, "pod": seeded.slim_pod, "command": ["sleep", "60"]},
            },
        }
        started = time.monotonic()
        answer = raw_post(url, call, headers)
        assert answer.status == 200
        time.sleep(2)  # the exec is running; the client goes away without a word
        answer.close()
        deadline = time.monotonic() + 20
        while not [c for c in log_events(log, "tool_call") if c["tool"] == "exec"] and time.monotonic() < deadline:
            time.sleep(0.2)
        ended = time.monotonic() - started
        execs = [c for c in log_events(log, "tool_call") if c["tool"] == "exec"]  # while the server still runs
    assert [c["outcome"] for c in execs] == ["cancelled"], execs
    assert ended < 20  # not the 60 s the command would have run


def test_a_client_sending_its_body_too_slowly_gets_408(kubeconfig: str, tmp_path: Path) -> None:
    with serving_http(kubeconfig, tmp_path, K8S_DEBUG_MCP_HTTP_READ_TIMEOUT="2") as url:
        port = int(url.split(":")[2].split("/")[0])
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
            sock.sendall(
                b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Accept: application/json, text/event-stream\r\nContent-Length: 100\r\n\r\n{"
            )
            answer = sock.recv(4096).decode()
        waited = time.monotonic() - started
    assert answer.startswith("HTTP/1.1 408"), answer
    assert 1.5 < waited < 10


def test_a_stdio_client_that_vanishes_mid_call_ends_the_server_quietly(
    kubeconfig: str, seeded: Seeded, tmp_path: Path
) -> None:
    proc = stdio_server(kubeconfig, tmp_path)
    rpc(proc, initialize())
    assert proc.stdout is not None
    assert json.loads(proc.stdout.readline())["id"] == 1
    rpc(proc, INITIALIZED)
    rpc(
        proc,
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "list_pods", "arguments": {"namespace": seeded.namespace}},
        },
    )
    proc.stdout.close()  # the client is gone: its end of the pipe with it
    time.sleep(2)
    assert proc.stdin is not None
    proc.stdin.close()
    code = proc.wait(timeout=30)
    err = proc.stderr.read() if proc.stderr else ""
    assert code == 0, err
    assert "Traceback" not in err, err
    assert "BrokenPipeError" not in err, err
    assert "client_gone" in err
