from __future__ import annotations

import pytest

from k8s_debug_mcp.tools.evidence import (
    is_kubelet_message,
    log_excerpt,
    missing_reference,
    probe_target,
    template_changes,
)


def test_the_decisive_line_is_kept_even_when_it_is_not_among_the_last() -> None:
    log = "\n".join(
        ["FATAL: cannot read /etc/app.yaml: no such file or directory"]
        + [f"info: shutting down step {i}" for i in range(50)]
    )
    excerpt = log_excerpt(log)
    assert excerpt is not None
    assert excerpt.startswith("FATAL: cannot read /etc/app.yaml")
    assert excerpt.endswith("info: shutting down step 48 | info: shutting down step 49")
    assert " | … | " in excerpt


def test_a_trace_line_follows_its_panic() -> None:
    log = (
        "starting\npanic: dial tcp: lookup db: no such host\n\ngoroutine 1 [running]:\nmain.main()\n\t/src/main.go:18\n"
    )
    excerpt = log_excerpt(log)
    assert excerpt is not None
    assert "panic: dial tcp: lookup db: no such host | goroutine 1 [running]:" in excerpt


@pytest.mark.parametrize(
    "line",
    [
        "Traceback (most recent call last):",
        "Exception in thread main java.lang.IllegalStateException",
        "mkdir: can't create directory '/var/cache/app': Read-only file system",
        'ERROR: relation "users" does not exist',
        "dial tcp 10.0.0.1:5432: connect: connection refused",
    ],
)
def test_error_idioms_of_many_languages_are_decisive(line: str) -> None:
    log = "\n".join(["ok 1", line, *[f"ok {i}" for i in range(2, 20)]])
    assert line.strip() in (log_excerpt(log) or "")


def test_empty_logs_give_nothing_and_long_ones_are_capped() -> None:
    assert log_excerpt("\n\n") is None
    excerpt = log_excerpt("error " + "x" * 5000)
    assert excerpt is not None
    assert len(excerpt) <= 700


def test_the_kubelets_own_error_is_not_a_log_line() -> None:
    assert is_kubelet_message("unable to retrieve container logs for containerd://44fe0123")
    assert not is_kubelet_message("FATAL: unable to retrieve the config")


@pytest.mark.parametrize(
    ("message", "missing"),
    [
        ('MountVolume.SetUp failed for volume "config" : configmap "slim-config" not found', 'ConfigMap "slim-config"'),
        ('secret "db" not found', 'Secret "db"'),
        ("couldn't find key password in Secret ns/db-credentials", 'key "password" of Secret "db-credentials"'),
        ("something else entirely", None),
    ],
)
def test_missing_references_are_named(message: str, missing: str | None) -> None:
    assert missing_reference(message) == missing


def test_probe_targets_read_like_the_spec() -> None:
    assert probe_target({"httpGet": {"path": "/healthz", "port": 8080}}) == "httpGet :8080/healthz"
    assert probe_target({"tcpSocket": {"port": 5432}}) == "tcpSocket :5432"
    assert probe_target({"exec": {"command": ["cat", "/tmp/ready"]}}) == "exec cat /tmp/ready"


def test_template_changes_name_what_a_rollout_changed() -> None:
    old = {
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "slim:1.4.1",
                    "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "x"}],
                    "readinessProbe": {"httpGet": {"path": "/", "port": 8080}},
                }
            ]
        }
    }
    new = {
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "slim:1.4.2",
                    "command": ["/app/httpd", "-h", "/srv/www"],
                    "env": [{"name": "A", "value": "2"}, {"name": "C", "value": "y"}],
                    "envFrom": [{"configMapRef": {"name": "flags"}}],
                    "readinessProbe": {"httpGet": {"path": "/", "port": 8081}},
                }
            ]
        }
    }
    assert template_changes(old, new) == [
        "app: image slim:1.4.1 -> slim:1.4.2",
        "app: command (image default) -> /app/httpd -h /srv/www",
        "app: env added: C",
        "app: env removed: B",
        "app: env changed: A",
        "app: readinessProbe httpGet :8080/ -> httpGet :8081/",
        "app: now uses ConfigMap flags",
    ]
    assert template_changes(old, old) == []
