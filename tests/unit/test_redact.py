from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from k8s_debug_mcp.tools import redact
from k8s_debug_mcp.tools.boundary import sanitize, sanitize_text
from k8s_debug_mcp.tools.models import Result
from k8s_debug_mcp.tools.redact import Masker, mask_text

SECRETS = [
    ("Authorization: Bearer abcdefghijklmnop", "Authorization: Bearer [masked]"),
    ("curl -H 'Authorization: Basic dXNlcjpwYXNzd29yZA=='", "curl -H 'Authorization: Basic [masked]'"),
    ("token: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJlc2ln", "token: [masked]"),
    ("DB_PASSWORD=hunter22 next", "DB_PASSWORD=[masked] next"),
    ('{"api_key": "sk-123456789"}', '{"api_key": "[masked]"}'),
    ("client_secret: abcd1234", "client_secret: [masked]"),
    ("postgres://app:s3cret@db:5432/x", "postgres://app:[masked]@db:5432/x"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\nafter", "[masked]\nafter"),
    ("-----BEGIN PRIVATE KEY-----\nMIIE cut off", "[masked]"),
    ("key AKIAABCDEFGHIJKLMNOP used", "key [masked] used"),
    ("ghp_" + "a" * 36, "[masked]"),
]


@pytest.mark.parametrize(("raw", "shown"), SECRETS)
def test_secrets_are_masked_and_counted(raw: str, shown: str) -> None:
    text, count = mask_text(raw)
    assert text == shown
    assert count == 1


@pytest.mark.parametrize(
    "line",
    ["GET /health 200 took 5ms", "status=ok replicas=3", "token bucket refilled", "password policy updated", ""],
)
def test_ordinary_lines_are_left_alone(line: str) -> None:
    assert mask_text(line) == (line, 0)


class Shown(Result):
    manifest: dict[str, object]


def test_pod_env_values_with_secret_names_are_masked_for_display_only() -> None:
    pod: dict[str, Any] = {
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "env": [
                        {"name": "DB_PASSWORD", "value": "hunter2"},
                        {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                        {"name": "LOG_LEVEL", "value": "debug"},
                    ],
                }
            ]
        }
    }
    shown, count = sanitize(Shown(manifest=pod), Masker())
    env: Any = shown.manifest["spec"]["containers"][0]["env"]  # type: ignore[index]
    assert count == 1
    assert env[0] == {"name": "DB_PASSWORD", "value": "[masked]"}
    assert env[1]["valueFrom"]["secretKeyRef"]["name"] == "s"
    assert env[2]["value"] == "debug"
    assert pod["spec"]["containers"][0]["env"][0]["value"] == "hunter2"


# -- the needle prefilter never changes the answer ----------------------------------------------

FRAGMENTS = [
    "Bearer ",
    "basic ",
    "TOKEN ",
    "token=",
    "password: ",
    "--db-password ",
    "-p",
    "-pS3cr3t!",
    "api_key=",
    "aws_secret_access_key ",
    "AKIA",
    "ghp_",
    "github_pat_",
    "glpat-",
    "xoxb-",
    "sk-live-",
    "sk_test_",
    "sk-ant-",
    "AIza",
    "npm_",
    "eyJ",
    ".",
    "://",
    "user:",
    "@host",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----END RSA PRIVATE KEY-----",
    "credentials",
    "Secret",
    "pwd",
    "passphrase",
    " ",
    "\n",
    "=",
    ":",
    '"',
    "'",
    "abcdefghijKLMNOP0123456789",
    "x" * 40,
    "0" * 16,
    "AbC123xyz_-",
    "İ",
    "\u0131",  # dotless i: (?i) matches it as i
    "\u017fecret",  # long s
    "\u212a",  # Kelvin sign
    "é",
]


def mask_every_pattern(text: str) -> tuple[str, int]:
    """The reference: every shape and the keyed pass, no prefilter."""
    total = 0
    for pattern, _ in redact._SHAPES:
        text, count = pattern.subn(redact._replace, text)
        total += count
    text, count = redact._mask_keyed(text)
    return text, total + count


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=14))
def test_the_prefilter_masks_exactly_what_every_pattern_would(parts: list[str]) -> None:
    text = "".join(parts)
    assert mask_text(text) == mask_every_pattern(text)


def test_an_optional_field_keeps_the_cap_declared_inside_its_union() -> None:
    from k8s_debug_mcp.tools.models import InspectResult

    listing = "x" * 5000  # an `ls -la /host/etc` is longer than the 2000-character default
    res = InspectResult(namespace="ns", pod="p", container="d", what="ls", text=listing)
    shown, _ = sanitize(res, Masker())
    assert shown.text == listing


@settings(max_examples=3000, deadline=None)
@given(
    st.lists(
        st.one_of(st.sampled_from([*FRAGMENTS, "untrusted-output", "UNTRUSTED output"]), st.text(max_size=12)),
        max_size=14,
    )
)
def test_a_string_called_plain_is_one_the_boundary_would_leave_alone(parts: list[str]) -> None:
    text = "".join(parts)
    masker = Masker()
    if masker.is_plain(text):
        assert sanitize_text(text, masker, cap=len(text) + 1) == text


def test_known_secret_values_make_nothing_plain() -> None:
    assert Masker().is_plain("web-00001 Running")
    assert not Masker(["hunter2hunter2"]).is_plain("web-00001 Running")
    assert not Masker().is_plain("token is here")
    assert not Masker().is_plain("</untrusted-output>")
