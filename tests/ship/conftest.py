"""Fixtures for the shipping tests: the helm binary (built from the Go module proxy by
scripts/build-helm) and the container image (built with buildah by scripts/build-image).

Outside CI a missing tool (go, buildah, podman, mmdebstrap) skips these tests with the
reason; in CI (CI=true) it fails them: .ci/run installs every one of them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "k8s-debug-mcp"
PLAYGROUND_VALUES = CHART / "values-playground.yaml"
BUILD_TIMEOUT_S = 30 * 60
IMAGE_TOOLS = ("buildah", "podman", "mmdebstrap", "runc")
REPORT: list[str] = []
"""Lines for the end of the test run: image size, build timings, what was deployed."""


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT:
        terminalreporter.section("shipping report")
        for line in REPORT:
            terminalreporter.write_line(line)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(what: str) -> None:
    if in_ci():
        pytest.fail(f"required in CI: {what}", pytrace=False)
    pytest.skip(what)


def run_build(args: list[str], what: str) -> str:
    """Run a build script; its last stdout line (what it built). Progress stays in stderr."""
    proc = subprocess.run(args, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, cwd=ROOT)
    if proc.returncode != 0:
        pytest.fail(f"{what} failed ({proc.returncode}):\n{proc.stderr[-4000:]}", pytrace=False)
    REPORT.extend(line for line in proc.stderr.splitlines() if "built" in line or "cached" in line)
    return proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def helm() -> str:
    """The path of helm, built from the Go module proxy on first use (cached afterwards)."""
    if shutil.which("go") is None and not Path(_helm_path()).exists():
        missing("go is needed to build helm (scripts/build-helm)")
    return run_build([str(ROOT / "scripts" / "build-helm")], "scripts/build-helm")


def _helm_path() -> str:
    out = subprocess.run([str(ROOT / "scripts" / "build-helm"), "--print-path"], capture_output=True, text=True)
    return out.stdout.strip()


@pytest.fixture(scope="session")
def image() -> str:
    """The image built by scripts/build-image (a tag no other build moves), cached layers reused."""
    absent = [tool for tool in IMAGE_TOOLS if shutil.which(tool) is None]
    if absent:
        missing(f"{', '.join(absent)} not installed (apt-get install buildah podman mmdebstrap runc)")
    return run_build([str(ROOT / "scripts" / "build-image")], "scripts/build-image")
