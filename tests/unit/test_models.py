from __future__ import annotations

import pytest
from pydantic import ValidationError

from k8s_debug_mcp.tools.models import ListPodsRequest, PodLogsRequest, PodStatusRequest

ATTACKS = [
    "",
    "UPPER",
    "../etc",
    "a/b",
    "--kubeconfig=/tmp/x",
    "-n",
    "ns;rm -rf /",
    "ns$(id)",
    "ns`id`",
    "ns|cat",
    "a" * 64,
    "naïve",
    "ns\n",
    "ns\x00",
    " ns",
    "ns.with.dots",
]


@pytest.mark.parametrize("bad", [a for a in ATTACKS if a != ""])
def test_namespace_rejects_anything_but_a_dns_label(bad: str) -> None:
    with pytest.raises(ValidationError):
        PodStatusRequest(namespace=bad, pod="p")


def test_an_omitted_namespace_is_left_for_the_context_to_fill() -> None:
    assert PodStatusRequest(pod="p").namespace == ""
    assert PodStatusRequest(namespace="", pod="p").namespace == ""


@pytest.mark.parametrize("bad", [a for a in ATTACKS if a not in ("ns.with.dots", "a" * 64)] + ["a" * 254, "a..b", ".a"])
def test_pod_name_rejects_anything_but_a_dns_subdomain(bad: str) -> None:
    with pytest.raises(ValidationError):
        PodStatusRequest(namespace="ns", pod=bad)


def test_valid_names_pass() -> None:
    req = PodStatusRequest(namespace="kube-system", pod="coredns-7d8f9c.x-1")
    assert req.pod == "coredns-7d8f9c.x-1"


@pytest.mark.parametrize(
    "selector",
    [
        "app=slim",
        "app==slim",
        "tier!=db",
        "env in (prod, staging)",
        "env notin (dev)",
        "release",
        "!canary",
        "app.kubernetes.io/name=slim,tier!=db",
        "k8s.io/x-y_z.w",
        "a=",
        "env in (prod),app=x",
    ],
)
def test_label_selectors_that_kubectl_accepts_pass(selector: str) -> None:
    assert ListPodsRequest(label_selector=selector).label_selector == selector


@pytest.mark.parametrize(
    "selector",
    ["app=sl im", "app=$(id)", "=x", "app in prod", "app in (a", "a,,b", "app=slim;x", "-l app", "a" * 1100],
)
def test_malformed_label_selectors_are_rejected(selector: str) -> None:
    with pytest.raises(ValidationError):
        ListPodsRequest(label_selector=selector)


@pytest.mark.parametrize("selector", ["status.phase=Running", "spec.nodeName!=n1,metadata.name==x"])
def test_field_selectors_pass(selector: str) -> None:
    assert ListPodsRequest(field_selector=selector).field_selector == selector


@pytest.mark.parametrize("selector", ["status.phase", "status.phase=Run ning", "a=b=c", "1x=y"])
def test_malformed_field_selectors_are_rejected(selector: str) -> None:
    with pytest.raises(ValidationError):
        ListPodsRequest(field_selector=selector)


def test_bounds_and_unknown_arguments_are_refused() -> None:
    with pytest.raises(ValidationError):
        ListPodsRequest(limit=0)
    with pytest.raises(ValidationError):
        ListPodsRequest(limit=501)
    with pytest.raises(ValidationError):
        PodLogsRequest(namespace="ns", pod="p", limit_bytes=10_000_000)
    with pytest.raises(ValidationError):
        PodLogsRequest.model_validate({"namespace": "ns", "pod": "p", "follow": True})
