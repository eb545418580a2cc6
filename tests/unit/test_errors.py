from __future__ import annotations

import json

import pytest

from k8s_debug_mcp.tools.errors import (
    EphemeralContainersUnsupported,
    Forbidden,
    Gone,
    Invalid,
    KubeApiError,
    NotFound,
    Unauthorized,
)
from k8s_debug_mcp.tools.gateway import error_from_status


def status(code: int, reason: str, message: str, **details: object) -> bytes:
    return json.dumps(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "code": code,
            "reason": reason,
            "message": message,
            "details": details,
        }
    ).encode()


def test_forbidden_names_the_verb_and_resource_from_the_status_message() -> None:
    body = status(
        403,
        "Forbidden",
        'pods is forbidden: User "ro" cannot list resource "pods" in API group "" in the namespace "x"',
    )
    err = error_from_status(403, body, action="list pods in namespace x")
    assert isinstance(err, Forbidden)
    assert 'cannot list resource "pods"' in str(err)
    assert "RBAC" in str(err)


def test_a_refused_impersonation_says_the_server_may_not_act_as_the_caller() -> None:
    body = status(
        403,
        "Forbidden",
        'users "alice" is forbidden: User "system:serviceaccount:tools:mcp" cannot impersonate resource "users" '
        'in API group "" at the cluster scope',
    )
    err = error_from_status(403, body, action="list pods in namespace x")
    assert isinstance(err, Forbidden)
    assert "may not act as you" in str(err)
    assert "team.impersonate" in str(err)


def test_404_naming_the_pod_is_not_found() -> None:
    err = error_from_status(
        404, status(404, "NotFound", 'pods "nope" not found', name="nope", kind="pods"), action="get pod ns/nope"
    )
    assert type(err) is NotFound
    assert 'pods "nope" not found' in str(err)


def test_404_without_a_name_on_the_subresource_means_ephemeral_containers_are_unsupported() -> None:
    err = error_from_status(
        404,
        status(404, "NotFound", "the server could not find the requested resource"),
        action="add ephemeral container to ns/p",
    )
    assert isinstance(err, EphemeralContainersUnsupported)


def test_invalid_lists_field_causes_when_the_message_is_empty() -> None:
    body = status(
        422, "Invalid", "", causes=[{"field": "spec.ephemeralContainers[0].name", "message": "Duplicate value"}]
    )
    err = error_from_status(422, body, action="add ephemeral container to ns/p")
    assert isinstance(err, Invalid)
    assert "spec.ephemeralContainers[0].name: Duplicate value" in str(err)


@pytest.mark.parametrize(("code", "cls"), [(401, Unauthorized), (410, Gone), (500, KubeApiError), (429, KubeApiError)])
def test_status_codes_map_to_their_error_class(code: int, cls: type[KubeApiError]) -> None:
    err = error_from_status(code, status(code, "X", "boom"), action="list pods")
    assert isinstance(err, cls)
    assert err.status == code


def test_bodies_that_are_not_a_status_object_never_leak() -> None:
    html = b"<html>Authorization: Bearer s3cr3t-token proxy error</html>"
    secret_json = json.dumps({"kind": "Secret", "data": {"token": "s3cr3t-token"}}).encode()
    for body in (html, secret_json, b"\xff\xfe", b""):
        text = str(error_from_status(502, body, action="list pods"))
        assert "s3cr3t" not in text
        assert text.startswith("list pods failed with HTTP 502.")


def test_401_never_repeats_the_server_message() -> None:
    err = error_from_status(401, status(401, "Unauthorized", "token abc.def.ghi expired"), action="list pods")
    assert "abc.def" not in str(err)


def test_huge_status_messages_are_capped_to_one_line() -> None:
    err = error_from_status(400, status(400, "BadRequest", "x\n" * 10_000), action="list pods")
    assert len(str(err)) < 1800
    assert "\n" not in str(err)


def test_a_pod_security_refusal_keeps_every_violated_rule() -> None:
    message = (
        'pods "web" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false '
        '(containers "app", "sidecar" must set securityContext.allowPrivilegeEscalation=false), unrestricted '
        'capabilities (containers "app", "sidecar" must set securityContext.capabilities.drop=["ALL"]), '
        'runAsNonRoot != true (pod or containers "app", "sidecar" must set securityContext.runAsNonRoot=true), '
        'seccompProfile (pod or containers "app", "sidecar" must set securityContext.seccompProfile.type to '
        '"RuntimeDefault" or "Localhost"), hostPath volumes (volume "host")'
    )
    err = error_from_status(403, status(403, "Forbidden", message), action="create pod")
    assert 'hostPath volumes (volume "host")' in str(err)
