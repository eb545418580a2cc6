"""The lock (constraints.txt) is what the tests run on: the image installs exactly it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_constraints_pin_exactly_the_runtime_dependencies_of_the_tested_venv() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "lock-deps"), "--check", "--venv", sys.prefix],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr


def test_every_pin_is_exact_and_no_dev_tool_is_locked() -> None:
    pins = [line for line in (ROOT / "constraints.txt").read_text().splitlines() if not line.startswith("#")]
    assert pins
    assert all(line.count("==") == 1 for line in pins)
    names = {line.split("==")[0] for line in pins}
    assert {"mcp", "kubernetes-asyncio", "pydantic", "structlog", "prometheus-client"} <= names
    assert not names & {"pytest", "mypy", "ruff", "hypothesis", "k8s-debug-mcp"}
