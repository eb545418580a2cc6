"""An independent client: the MCP Inspector CLI (TypeScript SDK) drives the installed server over stdio."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, Seeded

pytestmark = pytest.mark.cluster

SERVER = str(Path(sys.executable).parent / "k8s-debug-mcp")


@pytest.fixture(scope="session")
def inspector() -> list[str]:
    proc = subprocess.run([str(ROOT / "scripts" / "install-interop")], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        if os.environ.get("CI", "").lower() in ("1", "true"):
            pytest.fail(f"cannot install the MCP Inspector: {proc.stderr[-2000:]}", pytrace=False)
        pytest.skip("MCP Inspector not installable here (npm)")
    folder = Path(proc.stdout.strip().splitlines()[-1])
    return [str(folder / "node_modules/.bin/node"), str(folder / "node_modules/.bin/mcp-inspector"), "--cli"]


def run(inspector: list[str], kubeconfig: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*inspector, SERVER, "--kubeconfig", kubeconfig, "--audit-log", str(tmp_path / "audit.jsonl"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


def test_the_inspector_lists_portable_tool_schemas(inspector: list[str], kubeconfig: str, tmp_path: Path) -> None:
    proc = run(inspector, kubeconfig, tmp_path, "--method", "tools/list", "--strict")
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = {t["name"] for t in json.loads(proc.stdout)["tools"]}
    assert {"diagnose", "list_pods", "add_debug_container", "exec"} <= names
    assert "Schema portability" not in proc.stderr


def test_the_inspector_calls_a_tool_and_sees_tool_errors(
    inspector: list[str], kubeconfig: str, tmp_path: Path, seeded: Seeded
) -> None:
    ok = run(
        inspector,
        kubeconfig,
        tmp_path,
        "--method",
        "tools/call",
        "--tool-name",
        "diagnose",
        "--tool-arg",
        f"namespace={seeded.namespace}",
        "--tool-arg",
        "name=slim-crash",
    )
    assert ok.returncode == 0, ok.stderr[-2000:]
    result = json.loads(ok.stdout)
    assert result["structuredContent"]["findings"][0]["title"].startswith("crash loop: container app exits 1")
    missing = run(
        inspector,
        kubeconfig,
        tmp_path,
        "--method",
        "tools/call",
        "--tool-name",
        "pod_status",
        "--tool-arg",
        f"namespace={seeded.namespace}",
        "--tool-arg",
        "pod=ghost",
    )
    assert missing.returncode == 5  # the Inspector's exit code for a tool error
    error = json.loads(missing.stdout)
    assert error["isError"] is True
    assert 'pods "ghost" not found' in error["content"][0]["text"]
