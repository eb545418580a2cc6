"""The tool list a model reads every turn, ours beside the peers', measured in the same run over stdio.

Model-visible: name + description + inputSchema of every tool (compact JSON), what a client puts in
the model's context. tools/list: the whole `tools` array (output schemas, annotations, titles too).
The peers are installed pinned by scripts/install-peers (containers/kubernetes-mcp-server, a Go
binary; Flux159's mcp-server-kubernetes, Node) and pointed at the same kubeconfig.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import ROOT, summary
from bench.startup import INIT, spawn_to_initialized


def peer_commands(kubeconfig: str) -> dict[str, tuple[list[str], dict[str, str]]]:
    """name -> (argv, environment) for each installed peer."""
    peers = Path(
        subprocess.run([str(ROOT / "scripts/install-peers")], capture_output=True, text=True, check=True).stdout.strip()
    )
    node_dir = Path(
        subprocess.run(
            [str(ROOT / "scripts/install-interop")], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    node = str(node_dir / "node_modules/.bin/node")
    env = {**os.environ, "KUBECONFIG": kubeconfig}
    go_bin = peers / "node_modules/kubernetes-mcp-server-linux-amd64/bin/kubernetes-mcp-server-linux-amd64"
    return {
        "containers/kubernetes-mcp-server 0.0.67": ([str(go_bin), "--kubeconfig", kubeconfig], env),
        "Flux159/mcp-server-kubernetes 4.1.7": (
            [node, str(peers / "node_modules/mcp-server-kubernetes/dist/index.js")],
            env,
        ),
    }


def list_tools(command: Sequence[str], env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """initialize, initialized, tools/list over stdio; the tools array as sent."""
    proc = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    try:
        for message in (INIT, {"jsonrpc": "2.0", "method": "notifications/initialized"}):
            proc.stdin.write(json.dumps(message) + "\n")
        proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}) + "\n")
        proc.stdin.flush()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            try:
                message = json.loads(line)
            except ValueError:
                continue  # a banner
            if message.get("id") == 2:
                return list(message["result"]["tools"])
        raise RuntimeError(f"{command[0]}: no tools/list answer")
    finally:
        proc.kill()
        proc.wait()


def sizes(tools: list[dict[str, Any]]) -> dict[str, int]:
    compact = (",", ":")
    visible = sum(
        len(
            json.dumps(
                {"name": t["name"], "description": t.get("description"), "inputSchema": t["inputSchema"]},
                separators=compact,
            )
        )
        for t in tools
    )
    return {
        "tools": len(tools),
        "model_visible_bytes": visible,
        "tools_list_bytes": len(json.dumps(tools, separators=compact)),
    }


def measure(kubeconfig: str, ours: Sequence[str], n: int) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {"k8s-debug-mcp (this)": {**sizes(list_tools(ours)), "start": None}}
    for name, (command, env) in peer_commands(kubeconfig).items():
        starts = [spawn_to_initialized(command, env) for _ in range(n)]
        rows[name] = {**sizes(list_tools(command, env)), "start": summary(starts)}
    return rows
