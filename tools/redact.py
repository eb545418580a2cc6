"""Mask secrets in text the model would read: bearer tokens, JWTs, private keys, credentials.

Deliberately eager: a masked false positive costs a re-read with narrower output, a
leaked credential cannot be taken back. Every function is pure and returns the count.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["MASK", "mask_env", "mask_pod_env", "mask_text"]

MASK: Final = "[masked]"

_PATTERNS: Final = (
    # PEM private keys, whole block (also when the END line was cut off)
    re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY-----|.*\Z)", re.S),
    # JSON Web Tokens (service account tokens among them)
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    # Authorization headers and bearer/basic credentials
    re.compile(r"(?i)(\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]{8,}"),
    # Cloud and VCS access keys with fixed shapes
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),
    # key=value / key: value / "key": "value" where the key names a secret
    re.compile(
        r"""(?ix)
        ((?:["']?)(?:[a-z0-9_.-]*?)(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|
            private[_-]?key|client[_-]?secret|credentials?)(?:["']?)\s*[:=]\s*["']?)
        (?!\[masked\])([^\s"',;}{]{4,})
        """
    ),
    # credentials in URLs: scheme://user:password@host
    re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)([^/\s@]{3,})(@)"),
)
_SECRET_NAME: Final = re.compile(
    r"(?i)(password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential)"
)


def _replace(match: re.Match[str]) -> str:
    groups = match.groups()
    if len(groups) == 3:  # URL: keep scheme/user and host
        return f"{groups[0]}{MASK}{groups[2]}"
    if len(groups) >= 1 and groups[0] is not None and match.re.groups >= 1:
        return f"{groups[0]}{MASK}"
    return MASK


def mask_text(text: str) -> tuple[str, int]:
    """Text with secrets replaced by [masked], and how many were replaced."""
    total = 0
    for pattern in _PATTERNS:
        text, count = pattern.subn(_replace, text)
        total += count
    return text, total


def mask_env(container: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """A container dict whose env values with secret-looking names are masked (references stay)."""
    out = dict(container)
    count = 0
    env = []
    for item in container.get("env") or []:
        entry = dict(item) if isinstance(item, Mapping) else item
        if isinstance(entry, dict) and "value" in entry and _SECRET_NAME.search(str(entry.get("name", ""))):
            entry["value"] = MASK
            count += 1
        env.append(entry)
    if env:
        out["env"] = env
    return out, count


def mask_pod_env(pod: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """A Pod manifest for display: secret-looking env values of every container masked."""
    out = dict(pod)
    spec = dict(pod.get("spec") or {})
    total = 0
    for key in ("initContainers", "containers"):
        if isinstance(spec.get(key), list):
            masked = []
            for container in spec[key]:
                shown, count = mask_env(container) if isinstance(container, Mapping) else (container, 0)
                masked.append(shown)
                total += count
            spec[key] = masked
    out["spec"] = spec
    return out, total
