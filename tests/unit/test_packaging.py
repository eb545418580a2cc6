"""The wheel installs server/ and tools/ under k8s_debug_mcp, and nothing bare."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_holds_both_layers_under_one_import_package(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("k8s_debug_mcp-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "k8s_debug_mcp/server/app.py" in names
    assert "k8s_debug_mcp/tools/gateway.py" in names
    assert "k8s_debug_mcp/__main__.py" in names
    assert "k8s_debug_mcp/py.typed" in names
    tops = {n.split("/")[0] for n in names}
    assert tops <= {"k8s_debug_mcp", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "k8s-debug-mcp = k8s_debug_mcp.server.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()


def test_python_dash_m_runs_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "k8s_debug_mcp", "--version"], check=True, capture_output=True, text=True, cwd="/"
    )
    assert out.stdout.startswith("k8s-debug-mcp ")
