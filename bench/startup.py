"""Start-up: stdio spawn -> initialize answered, beside a bare `import mcp.server` in the same venv
(samples interleaved so machine load hits both alike; wall time, and CPU time as a load-proof check);
`--version` and `--help`; the same spawn -> initialize for the peers (bench/peers.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench.common import summary

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}},
}


TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def spawn_to_initialized(command: Sequence[str], env: dict[str, str] | None = None) -> float:
    return _spawn(command, env)[0]


def _spawn(command: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds until initialize is answered, CPU seconds the process used by then)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdin.write(json.dumps(INIT) + "\n")
    proc.stdin.flush()
    while True:  # some servers print a banner line first
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{command[0]} exited before answering initialize")
        if '"id":1' in line.replace(" ", ""):
            break
    elapsed = time.perf_counter() - started
    cpu = _cpu_seconds(proc.pid)
    proc.stdin.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return elapsed, cpu


def _run(command: Sequence[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of a process run to its end."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


def measure(kubeconfig: str, n: int, *, python: str = sys.executable) -> dict[str, object]:
    ours = [python, "-m", "k8s_debug_mcp"]
    spawned, bare, version, helps = [], [], [], []
    for _ in range(n):  # interleaved: load on the machine falls on both alike
        spawned.append(_spawn([*ours, "--kubeconfig", kubeconfig]))
        bare.append(_run([python, "-c", "import mcp.server"]))
        version.append(_run([*ours, "--version"])[0])
        helps.append(_run([*ours, "--help"])[0])
    ours_s, bare_s = summary([w for w, _ in spawned]), summary([w for w, _ in bare])
    ours_cpu, bare_cpu = summary([c for _, c in spawned]), summary([c for _, c in bare])
    return {
        "spawn_to_initialized": ours_s,
        "bare_import_mcp_server": bare_s,
        "ratio_to_bare_import": round(ours_s["median_ms"] / bare_s["median_ms"], 2),
        "cpu_ratio_to_bare_import": round(ours_cpu["median_ms"] / bare_cpu["median_ms"], 2),
        "version": summary(version),
        "help": summary(helps),
    }
