"""The container image, built by scripts/build-image (buildah, a Debian base from mmdebstrap),
run with podman as a user's MCP client would start it: over stdio, as uid 10001, on a read-only
root filesystem, with no network and no capabilities.

podman runs with runc and explicit ulimits (runc cannot set the VM's default rlimits) and
--network=none (podman's default bridge would take the test cluster's 10.88.0.0/16).
"""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from tests.ship.conftest import BUILD_TIMEOUT_S, REPORT, ROOT

# The first test builds the image (minutes on a cold machine): the build's time, not the default 300 s.
pytestmark = [pytest.mark.image, pytest.mark.anyio, pytest.mark.timeout(BUILD_TIMEOUT_S)]

TOOLS = {
    "diagnose",
    "list_pods",
    "pod_status",
    "pod_logs",
    "whoami",
    "add_debug_container",
    "exec",
    "inspect",
    "copy_pod",
    "cleanup",
}
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
RUN = [
    "--runtime",
    "runc",
    "run",
    "--rm",
    "--interactive",
    "--network=none",
    "--ulimit=nofile=20000:20000",
    "--ulimit=nproc=4096:4096",
    "--read-only",
    "--cap-drop=ALL",
    "--security-opt=no-new-privileges",
]


def podman(*args: str, timeout: float = 120) -> str:
    proc = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"podman {' '.join(args)}: {proc.stderr}"
    return proc.stdout


def inspect_image(ref: str) -> dict[str, Any]:
    (data,) = json.loads(podman("image", "inspect", ref))
    return data  # type: ignore[no-any-return]


def stdio(image: str, *server_args: str, volumes: tuple[str, ...] = ()) -> StdioServerParameters:
    mounts = [f"--volume={v}" for v in volumes]
    return StdioServerParameters(command="podman", args=[*RUN, *mounts, image, *server_args])


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_the_image_speaks_mcp_over_stdio(image: str, mode: str) -> None:
    """initialize (legacy: the handshake; auto: server/discover) and tools/list, from the image."""
    async with Client(stdio(image), mode=mode) as client:
        assert client.server_info is not None
        assert client.server_info.name == "k8s-debug-mcp"
        assert client.server_info.version == VERSION
        tools = {t.name for t in (await client.list_tools()).tools}
    assert tools == TOOLS
    size = int(inspect_image(image)["Size"])
    if mode == "legacy":
        REPORT.append(f"image {image}: {size / 1e6:.0f} MB; over stdio: initialize, tools/list ({len(tools)} tools)")


async def test_a_write_is_audited_on_the_declared_volume_while_the_root_stays_read_only(
    image: str, tmp_path: Path
) -> None:
    """No cluster here: the call fails, but its audit line lands in the volume, so the server
    needs no writable path but /tmp and /var/lib/k8s-debug-mcp."""
    audit_dir = tmp_path / "audit"
    audit_dir.mkdir()
    audit_dir.chmod(0o1777)  # the container's uid 10001 writes here
    params = stdio(image, "--no-confirm", volumes=(f"{audit_dir}:/var/lib/k8s-debug-mcp:rw",))
    async with Client(params, mode="legacy") as client:
        result = await client.call_tool("cleanup", {"namespace": "default"})
    assert result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    assert "audit" not in text.lower(), text  # the failure is the missing cluster, not the audit log
    intent, outcome = (json.loads(line) for line in (audit_dir / "audit.jsonl").read_text().splitlines())
    assert (intent["phase"], intent["tool"], intent["namespace"]) == ("intent", "cleanup", "default")
    assert (outcome["phase"], outcome["tool"], outcome["outcome"]) == ("outcome", "cleanup", "ClusterUnavailable")
    assert (audit_dir / "audit.jsonl").stat().st_uid == 10001


def test_the_image_runs_as_uid_10001_with_oci_and_mcp_labels(image: str) -> None:
    data = inspect_image(image)
    config = data["Config"]
    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["k8s-debug-mcp"]
    assert "/var/lib/k8s-debug-mcp" in config["Volumes"]
    assert "K8S_DEBUG_MCP_AUDIT_LOG=/var/lib/k8s-debug-mcp/audit.jsonl" in config["Env"]
    labels = data["Labels"]
    server_name = json.loads((ROOT / "server.json").read_text())["name"]
    assert labels["io.modelcontextprotocol.server.name"] == server_name
    assert labels["org.opencontainers.image.version"] == VERSION
    assert labels["org.opencontainers.image.licenses"] == "Apache-2.0"
    assert labels["org.opencontainers.image.source"].startswith("https://github.com/")
    assert len(labels["org.opencontainers.image.revision"]) == 40
    out = podman(*RUN, "--entrypoint", "id", image)
    assert out.startswith("uid=10001(mcp) gid=10001(mcp)")


def test_the_build_hosts_ca_bundle_is_not_baked_in(image: str) -> None:
    """The build mounts the machine's CA bundle for pip; the image keeps its base's own bundle."""
    base = inspect_image(image)["Labels"].get("org.opencontainers.image.base.name")
    digest = ["--entrypoint", "sha256sum", image, "/etc/ssl/certs/ca-certificates.crt"]
    in_image = podman(*RUN, *digest).split()[0]
    assert base, "the image records the base it was built from"
    in_base = podman(*RUN, "--user=0", "--entrypoint", "sha256sum", base, "/etc/ssl/certs/ca-certificates.crt")
    assert in_image == in_base.split()[0]


def test_the_installed_dependencies_are_exactly_the_lock(image: str) -> None:
    script = (
        "import importlib.metadata as m, json; "
        "print(json.dumps({d.metadata['Name'].lower().replace('_', '-'): d.version for d in m.distributions()}))"
    )
    installed = json.loads(podman(*RUN, "--entrypoint", "python3", image, "-c", script))
    locked = dict(
        line.split("==")
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert installed.pop("k8s-debug-mcp") == VERSION
    assert installed == locked
