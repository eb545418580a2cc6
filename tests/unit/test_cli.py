from __future__ import annotations

import pytest

from k8s_debug_mcp.server.cli import parse_settings


def test_defaults_are_stdio_on_loopback() -> None:
    s = parse_settings([])
    assert (s.transport, s.host, s.port, s.read_only) == ("stdio", "127.0.0.1", 8000, False)


def test_environment_supplies_defaults_and_flags_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K8S_DEBUG_MCP_CONTEXT", "from-env")
    monkeypatch.setenv("K8S_DEBUG_MCP_READ_ONLY", "true")
    assert parse_settings([]).context == "from-env"
    assert parse_settings([]).read_only is True
    assert parse_settings(["--context", "flag"]).context == "flag"


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com"])
def test_non_loopback_binds_are_refused_with_a_clear_message(host: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse_settings(["--transport", "streamable-http", "--host", host])
    assert exc.value.code == 2
    assert "without authentication" in capsys.readouterr().err


def test_non_loopback_binds_are_accepted_with_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K8S_DEBUG_MCP_HTTP_TOKEN", "s3cr3t-token-value")
    s = parse_settings(["--transport", "streamable-http", "--host", "0.0.0.0"])
    assert s.host == "0.0.0.0"
    assert "s3cr3t" not in repr(s)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_loopback_binds_are_accepted(host: str) -> None:
    assert parse_settings(["--host", host]).host == host


def test_node_debugging_and_the_debug_pull_policy_come_from_flags_or_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    defaults = parse_settings([])
    assert defaults.policy.node_debugging is False
    assert defaults.debug_image_pull_policy is None
    flags = parse_settings(["--node-debugging", "--allowed-nodes", "pool-a-*,n1", "--debug-image-pull-policy", "Never"])
    assert flags.policy.node_debugging is True
    assert flags.policy.allowed_nodes == ("pool-a-*", "n1")
    assert flags.debug_image_pull_policy == "Never"
    monkeypatch.setenv("K8S_DEBUG_MCP_NODE_DEBUGGING", "true")
    monkeypatch.setenv("K8S_DEBUG_MCP_DEBUG_IMAGE_PULL_POLICY", "IfNotPresent")
    env = parse_settings([])
    assert env.policy.node_debugging is True
    assert env.debug_image_pull_policy == "IfNotPresent"
