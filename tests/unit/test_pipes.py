"""server/pipes.py in a child process with real pipes (and a file): the wire carries only the
protocol, stray output of the process and its children goes to stderr, both descriptors come
back afterwards, long lines pass, and anything that is not a pipe gets the SDK's transport."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ECHO = textwrap.dedent(
    """
    import json, os, sys
    import anyio, mcp_types
    from mcp.shared.message import SessionMessage
    from k8s_debug_mcp.server import pipes

    async def main() -> None:
        used = "loop" if pipes._is_pipe_or_socket(0) and pipes._is_pipe_or_socket(1) else "sdk"
        async with pipes.serve_stdio() as (read, write):
            print("stray print", flush=True)
            os.system("echo stray child")
            async with read, write:
                async for message in read:
                    if isinstance(message, Exception):
                        print(f"parse error: {type(message).__name__}", file=sys.stderr, flush=True)
                        continue
                    request = message.message
                    size = len(json.dumps(request.params))
                    reply = {"jsonrpc": "2.0", "id": request.id, "result": {"size": size, "transport": used}}
                    await write.send(SessionMessage(mcp_types.jsonrpc_message_adapter.validate_python(reply)))
        print(f"after the transport, blocking={os.get_blocking(0) and os.get_blocking(1)}", flush=True)

    anyio.run(main)
    """
)


def request(i: int, payload: str = "") -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": i, "method": "ping", "params": {"p": payload}}).encode() + b"\n"


def run(stdin: bytes | Path) -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-c", ECHO]
    if isinstance(stdin, Path):
        with stdin.open("rb") as f:
            return subprocess.run(command, stdin=f, capture_output=True, timeout=60, check=True)
    return subprocess.run(command, input=stdin, capture_output=True, timeout=60, check=True)


def answers(out: bytes) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith(b"{")]


def test_pipes_carry_only_the_protocol_and_give_the_descriptors_back() -> None:
    done = run(request(1) + request(2, "x" * 200_000) + request(3))
    lines = done.stdout.decode().splitlines()
    # fd 0 and fd 1 are the wire again once the transport ends, and blocking as they were
    assert lines[-1] == "after the transport, blocking=True"
    replies = answers(done.stdout)
    assert [r["id"] for r in replies] == [1, 2, 3]
    assert {r["result"]["transport"] for r in replies} == {"loop"}  # type: ignore[index]
    assert replies[1]["result"]["size"] > 200_000  # type: ignore[index]  # past asyncio's 64 KiB line limit
    assert len(lines) == 4, lines  # nothing stray on the wire
    err = done.stderr.decode()
    assert "stray print" in err
    assert "stray child" in err  # a child inherits fd 1, which points at stderr while serving


def test_a_line_past_the_limit_is_a_parse_error_and_the_next_request_is_served() -> None:
    huge = request(1, "y" * (64 * 1024 * 1024 + 10))
    done = run(huge + request(2))
    assert [r["id"] for r in answers(done.stdout)] == [2]
    assert "parse error" in done.stderr.decode()


def test_a_file_on_stdin_gets_the_sdks_transport(tmp_path: Path) -> None:
    requests = tmp_path / "requests.jsonl"
    requests.write_bytes(request(1) + request(2))
    done = run(requests)
    replies = answers(done.stdout)
    assert [r["id"] for r in replies] == [1, 2]
    assert {r["result"]["transport"] for r in replies} == {"sdk"}  # type: ignore[index]
