"""Mask secrets in anything the model would read.

Two kinds of knowledge:
- shapes: bearer/basic/token credentials, JWTs, PEM private keys, cloud and VCS access keys,
  `key=value` and `--flag value` where the key names a secret, URL passwords;
- exact values: the Secrets a pod references (see tools/secrets.py), masked wherever they
  appear, also base64-encoded.

Deliberately eager: a masked false positive costs a re-read with narrower output; a leaked
credential cannot be taken back. Masking is idempotent (`[masked]` is never masked again),
and it always runs before any cap, so a cut can never leave part of a secret behind.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from typing import Final

__all__ = ["MASK", "Masker", "is_secret_name", "mask_text"]

MASK: Final = "[masked]"

_NAME_WORDS: Final = (
    r"password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|"
    r"client[_-]?secret|credentials?"
)
# Compound identifiers that name a secret even when a space (not '=') separates the value.
_COMPOUND: Final = (
    r"[a-z0-9_-]{0,40}?(?:secret[_-]access[_-]key|access[_-]key[_-]id|api[_-]key|client[_-]secret|secret[_-]key|"
    r"auth[_-]token|access[_-]token|refresh[_-]token|private[_-]key|session[_-]token)"
)
_VALUE_END: Final = r"""[^\s"',;}{\]\[)(<>]"""

_SHAPES: Final[tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]] = (
    # Each shape with its needles: casefolded literals one of which every match contains. An ASCII
    # text holding none of them cannot match, so the pattern is not run (most strings hold none).
    # PEM private keys, whole block (also when the END line was cut off)
    (
        re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY-----|.*\Z)", re.S),
        ("private key",),
    ),
    # JSON Web Tokens (service account tokens among them)
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), ("eyj",)),
    # Authorization schemes: Bearer / Basic / Token / Digest credentials
    (re.compile(r"(?i)(\b(?:bearer|basic)\s+)(?!\[masked\])[A-Za-z0-9._~+/=-]{8,}"), ("bearer", "basic")),
    (re.compile(r"(?i)(\btoken\s+)(?!\[masked\])(?=[A-Za-z._~+/=-]*[0-9])[A-Za-z0-9._~+/=-]{12,}"), ("token",)),
    # Keys with fixed shapes
    (
        re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b"),
        ("akia", "asia", "agpa", "aida", "aroa", "anpa"),
    ),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"), ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,}\b"), ("github_pat_",)),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b"), ("glpat-",)),
    (re.compile(r"\bxox[abprse]-[A-Za-z0-9-]{10,}\b"), ("xox",)),
    (re.compile(r"\b(?:sk|rk|pk)[-_](?:live|test|proj)[-_][A-Za-z0-9_-]{8,}"), ("live", "test", "proj")),
    (re.compile(r"\bsk-(?:ant-)?[A-Za-z0-9_-]{20,}"), ("sk-",)),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"), ("aiza",)),
    (re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"), ("npm_",)),
    # -pVALUE (mysql); a bare -p 3306 or -print is not a secret
    (re.compile(r"((?<![\w-])-p)(?!\[masked\])(?=\S*[0-9A-Z!@#$%^&*])(?!\d+\b)([^\s\-]\S{3,})"), ("-p",)),
    # aws_secret_access_key VALUE (a compound secret name, then whitespace)
    (
        re.compile(rf"(?i)(\b{_COMPOUND}\b\s+)(?!\[masked\])(?![=:])({_VALUE_END}{{8,}})"),
        ("key", "secret", "token"),
    ),
    # credentials in URLs: scheme://user:password@host
    (re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)(?!\[masked\])([^/\s@]{3,})(@)"), ("://",)),
)
_KEYWORD_NEEDLES: Final = ("pass", "pwd", "secret", "token", "key", "credential")
MIN_SECRET_CHARS: Final = 6
"""No shape or `key=value` form matches fewer characters."""
_SECRET_NAME: Final = re.compile(rf"(?i)({_NAME_WORDS})")
_SECRET_FLAG: Final = re.compile(rf"(?i)^--?[a-z0-9_-]*(?:{_NAME_WORDS})[a-z0-9_-]*$")


def is_secret_name(name: str) -> bool:
    """An env var, flag or key whose name says it holds a secret."""
    return bool(_SECRET_NAME.search(name))


def is_secret_flag(arg: str) -> bool:
    """`--password`, `--api-key`: the next argv element is the secret."""
    return bool(_SECRET_FLAG.match(arg))


def _replace(match: re.Match[str]) -> str:
    groups = match.groups()
    if len(groups) == 3:  # URL: keep scheme/user and host
        return f"{groups[0]}{MASK}{groups[2]}"
    if groups and groups[0] is not None:
        return f"{groups[0]}{MASK}"
    return MASK


_KEYWORD: Final = re.compile(rf"(?i)(?:{_NAME_WORDS})")
_IDENT: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_VALUE: Final = re.compile(r"""(?!\[masked\])[^\s"',;}{\]\[)(<>]{4,}""")
_FLAG_VALUE: Final = re.compile(r"(?!\[masked\])(?!-)[^\s\"',\]\[]{3,}")
_NAME_SPAN: Final = 40


def _keyed_value(text: str, start: int, end: int) -> tuple[int, int] | None:
    """For a secret keyword at text[start:end]: the span of its value in `key=value`, `key: "value"` or
    `--key value` form, else None. Anchored on the keyword, so the work stays linear in the text."""
    j, limit = end, min(len(text), end + _NAME_SPAN)
    while j < limit and text[j] in _IDENT:
        j += 1
    k = j + 1 if j < len(text) and text[j] in "\"'" else j
    while k < len(text) and text[k] in " \t":
        k += 1
    if k < len(text) and text[k] in ":=":
        k += 1
        while k < len(text) and text[k] in " \t":
            k += 1
        if k < len(text) and text[k] in "\"'":
            k += 1
        m = _VALUE.match(text, k)
        return (m.start(), m.end()) if m else None
    # --db-password VALUE: the name must be a flag (dashes at its start, nothing word-like before)
    i, floor = start, max(0, start - _NAME_SPAN)
    while i > floor and text[i - 1] in _IDENT and text[i - 1] != ".":
        i -= 1
    if text[i : i + 1] != "-" or (i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_-")):
        return None
    # The value follows a space, or a JSON/list separator: `--password x`, `"--password", "x"`.
    k = j
    while k < len(text) and k - j < 6 and text[k] in " \t\"',":
        k += 1
    if k == j:
        return None
    m = _FLAG_VALUE.match(text, k)
    return (m.start(), m.end()) if m else None


def _mask_keyed(text: str) -> tuple[str, int]:
    parts: list[str] = []
    pos = count = 0
    for m in _KEYWORD.finditer(text):
        if m.start() < pos:
            continue
        span = _keyed_value(text, m.start(), m.end())
        if span is None:
            continue
        parts += [text[pos : span[0]], MASK]
        pos = span[1]
        count += 1
    if not count:
        return text, 0
    parts.append(text[pos:])
    return "".join(parts), count


def _needles(words: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(w) for w in words))


_SHAPE_NEEDLES: Final = tuple((pattern, _needles(words)) for pattern, words in _SHAPES)
_KEYED_NEEDLES: Final = _needles(_KEYWORD_NEEDLES)
_ANY_NEEDLE: Final = _needles({w for _, words in _SHAPES for w in words} | set(_KEYWORD_NEEDLES))
# What makes a string worth a closer look at the output boundary: a secret's needle, or our fence's name.
_NOT_PLAIN: Final = _needles({w for _, words in _SHAPES for w in words} | set(_KEYWORD_NEEDLES) | {"untrusted"})


def mask_text(text: str) -> tuple[str, int]:
    """Text with secret shapes replaced by [masked], and how many were replaced."""
    if len(text) < MIN_SECRET_CHARS:
        return text, 0
    # Non-ASCII text runs every pattern: (?i) matches letters such as U+0131 that casefold() keeps.
    folded = text.casefold() if text.isascii() else None
    if folded is not None and _ANY_NEEDLE.search(folded) is None:
        return text, 0  # the usual case: names, reasons, timestamps
    total = 0
    for pattern, needles in _SHAPE_NEEDLES:
        if folded is None or needles.search(folded):
            text, count = pattern.subn(_replace, text)
            total += count
    if folded is None or _KEYED_NEEDLES.search(folded):
        text, count = _mask_keyed(text)
        total += count
    return text, total


def _encodings(value: str) -> Iterable[str]:
    yield value
    raw = value.encode()
    yield base64.b64encode(raw).decode()
    yield base64.urlsafe_b64encode(raw).decode().rstrip("=")


class Masker:
    """Shapes plus the exact values of known secrets; one compiled pass for the values."""

    MIN_VALUE_CHARS: Final = 6

    def __init__(self, values: Iterable[str] = ()) -> None:
        wanted = {e for v in values if len(v) >= self.MIN_VALUE_CHARS for e in _encodings(v) if len(e) >= 6}
        ordered = sorted(wanted, key=len, reverse=True)
        self._values = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None
        self.known = len({v for v in values if len(v) >= self.MIN_VALUE_CHARS})

    def __repr__(self) -> str:  # never print the values
        return f"Masker(known={self.known})"

    def is_plain(self, text: str) -> bool:
        """Nothing at the output boundary would change `text`: no known values to look for, printable
        ASCII, no secret needle, no fence look-alike. One pass; true for most names, reasons, times."""
        return (
            self._values is None
            and text.isascii()
            and text.isprintable()
            and _NOT_PLAIN.search(text.casefold()) is None
        )

    def mask(self, text: str) -> tuple[str, int]:
        count = 0
        if self._values is not None:
            text, count = self._values.subn(MASK, text)
        text, shaped = mask_text(text)
        return text, count + shaped
