"""Ready to publish: server.json passes the MCP registry's schema, and every place that names
the server, its version or its description agrees (pyproject, README marker, image labels,
chart)."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).parent / "data" / "mcp-registry" / "server.schema.json"
# A byte copy of the registry's released schema (the registry's docs/reference/server-json,
# published at the $id URL below); tests talk only to loopback, so it is vendored. Moving to a
# newer schema is a deliberate change: replace the file and this pin together.
SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
SCHEMA_SHA256 = "3fba09590c99f61735d234822279f4223fab9e300c0a81e81c91ab62a4114de0"


def load_json(path: Path) -> Any:
    return json.loads(path.read_text())


def server_json() -> dict[str, Any]:
    data: dict[str, Any] = load_json(ROOT / "server.json")
    return data


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]  # type: ignore[no-any-return]


def test_the_vendored_registry_schema_is_the_released_one() -> None:
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256
    assert load_json(SCHEMA)["$id"] == SCHEMA_URL


def test_server_json_is_valid_for_the_mcp_registry() -> None:
    schema = load_json(SCHEMA)
    doc = server_json()
    errors = sorted(Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER).iter_errors(doc), key=str)
    assert [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors] == []
    assert doc["$schema"] == SCHEMA_URL


def test_the_schema_catches_what_the_registry_refuses() -> None:
    """The validation is real: a too long description and a range version fail it."""
    validator = Draft7Validator(load_json(SCHEMA))
    doc = server_json()
    assert not validator.is_valid({**doc, "description": "x" * 101})
    bad_pkg = {**doc["packages"][0], "version": "latest"}
    assert not validator.is_valid({**doc, "packages": [bad_pkg]})


def test_name_version_and_description_agree_everywhere() -> None:
    doc, project = server_json(), pyproject()
    name = doc["name"]
    owner_repo = name.removeprefix("io.github.")
    assert doc["version"] == project["version"]
    assert doc["description"] == project["description"]
    assert len(project["description"]) <= 100
    assert doc["repository"]["url"] == f"https://github.com/{owner_repo}"
    assert project["urls"]["Repository"] == doc["repository"]["url"]
    pypi, oci = doc["packages"]
    assert (pypi["registryType"], pypi["identifier"], pypi["version"]) == ("pypi", project["name"], project["version"])
    assert pypi["runtimeHint"] == "uvx"
    assert oci["registryType"] == "oci"
    assert oci["identifier"] == f"ghcr.io/{owner_repo}:{project['version']}"
    # PyPI ownership: the registry looks for this line in the package's README.
    assert f"mcp-name: {name}" in (ROOT / "README.md").read_text()
    # The image says which server it is (the registry checks this label on OCI packages).
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f'io.modelcontextprotocol.server.name="{name}"' in dockerfile


def test_the_chart_ships_the_same_version() -> None:
    chart = (ROOT / "deploy" / "helm" / "k8s-debug-mcp" / "Chart.yaml").read_text()
    version = pyproject()["version"]
    assert re.search(rf'^appVersion: "{re.escape(version)}"$', chart, re.M), chart


def test_metadata_is_complete_for_pypi() -> None:
    project = pyproject()
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().split()[:4] == ["Apache", "License", "Version", "2.0,"]
    assert project["authors"]
    assert {"Homepage", "Repository", "Issues", "Changelog"} <= set(project["urls"])
    classifiers = project["classifiers"]
    assert any(c.startswith("Development Status :: ") for c in classifiers)
    assert not any(c.startswith("License :: ") for c in classifiers)  # the SPDX expression says it


def test_the_wheel_carries_license_urls_and_readme(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), ROOT],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("k8s_debug_mcp-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        meta_name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = zf.read(meta_name).decode()
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in zf.namelist())
    assert "License-Expression: Apache-2.0" in meta
    assert "Project-URL: Repository, https://github.com/" in meta
    assert "Requires-Dist: prometheus-client" in meta
    assert f"mcp-name: {server_json()['name']}" in meta  # the README is the long description


def install_section() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("<!-- BEGIN install-without-a-clone")
    return readme[start : readme.index("<!-- END install-without-a-clone -->")]


def test_the_readme_quick_starts_need_no_clone() -> None:
    section = install_section()
    for command in (
        "uvx k8s-debug-mcp",
        "pipx run k8s-debug-mcp",
        "docker run -i --rm",
        "-v ~/.kube:/kube:ro ghcr.io/k8s-debug-mcp/k8s-debug-mcp:",
        "helm install k8s-debug-mcp oci://ghcr.io/k8s-debug-mcp/charts/k8s-debug-mcp",
    ):
        assert command in section
    for clone_only in ("scripts/run", ".venv/bin", "/path/to/"):
        assert clone_only not in section
    assert f":{pyproject()['version']} " in section  # the image tag is the release's


def test_the_readme_client_configs_are_valid_json_that_start_the_published_server() -> None:
    blocks = re.findall(r"```json\n(.*?)```", install_section(), re.S)
    configs = [json.loads(b) for b in blocks]
    assert len(configs) == 3  # Claude Desktop, VS Code, Cursor
    commands = [
        server["command"] for c in configs for server in (c.get("mcpServers") or c.get("servers") or {}).values()
    ]
    assert commands == ["uvx", "uvx", "docker"]


def test_the_vs_code_install_link_carries_a_uvx_config() -> None:
    from urllib.parse import parse_qs, unquote, urlsplit

    (link,) = re.findall(r"\(https://insiders\.vscode\.dev/redirect\?url=([^)]+)\)", install_section())
    inner = unquote(link)
    assert inner.startswith("vscode:mcp/install?")
    config = json.loads(unquote(inner.removeprefix("vscode:mcp/install?")))
    assert config == {"name": "k8s-debug", "command": "uvx", "args": ["k8s-debug-mcp"]}
    assert not parse_qs(urlsplit(link).query)  # one encoded URL, nothing appended
