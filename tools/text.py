"""Untrusted text (logs, exec output, messages): decode, strip, cap, and fence it off.

Everything here is pure and total: any bytes or str in, a bounded printable str out.
"""

from __future__ import annotations

import codecs
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Literal

__all__ = [
    "Capped",
    "Fence",
    "StreamCapture",
    "cap_chars",
    "cap_text",
    "clean_text",
    "decode_bytes",
    "neutralize",
    "one_line",
]

# CSI / OSC / other ESC sequences (ECMA-48), then any C0/C1 control except \t and \n.
_ANSI = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]            # CSI ... final byte
  | \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?  # OSC ... BEL or ST
  | \x1b[PX^_][^\x1b]*(?:\x1b\\)?       # DCS, SOS, PM, APC ... ST
  | \x1b[@-Z\\-_]                       # two-byte escape
  | \x9b[0-?]*[ -/]*[@-~]               # 8-bit CSI
    """,
    re.VERBOSE,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
REPLACEMENT: Final = "\ufffd"
FENCE_TAG: Final = "untrusted-output"
# Our fence's name in any disguise: case, spaces, any dash or underscore between the words.
_FENCE_LOOKALIKE = re.compile(r"untrusted[\s\W_]{0,4}output", re.IGNORECASE)


def decode_bytes(data: bytes) -> str:
    """UTF-8 with U+FFFD for every undecodable byte; never raises."""
    return data.decode("utf-8", errors="replace")


def clean_text(text: str) -> str:
    """Drop terminal escape sequences, control, zero-width and bidi characters; keep \\n and \\t."""
    if text.isascii() and text.replace("\n", " ").replace("\t", " ").isprintable():
        return text  # the usual case: nothing to drop (ESC, CR and the rest are not printable)
    text = text.replace("\r\n", "\n")
    text = _ANSI.sub("", text)
    return _CONTROL.sub("", text)


def one_line(text: str, limit: int | None = None) -> str:
    """A cleaned single line; capped at `limit` chars only where the text is ours to cut."""
    flat = " ".join(clean_text(text).split())
    return flat if limit is None else cap_chars(flat, limit)


def cap_chars(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def neutralize(text: str) -> str:
    """Disarm anything that imitates our fence (any case, spacing, dash, width or compatibility form).

    The fast path leaves ordinary text untouched; a hit returns the NFKC form with each
    look-alike replaced, so no payload can open, close or fake a fence.
    """
    if "untrusted" not in text.lower() and text.isascii():
        return text
    normal = unicodedata.normalize("NFKC", text)
    if not _FENCE_LOOKALIKE.search(normal):
        return text
    return _FENCE_LOOKALIKE.sub("(fence text removed)", normal)


@dataclass(frozen=True, slots=True)
class Fence:
    """Delimits untrusted text with a boundary token drawn per response.

    The payload was read before the token existed and every fence look-alike in it is
    neutralized (the output boundary does that to every string), so it can neither close
    the block nor open one that claims another source.
    """

    token: str = field(default_factory=lambda: secrets.token_hex(4))

    def wrap(self, label: str, body: str) -> str:
        label = neutralize(label).replace('"', "'").replace("<", "(").replace(">", ")")
        body = neutralize(body)
        if body and not body.endswith("\n"):
            body += "\n"
        return f'<{FENCE_TAG} id="{self.token}" source="{label}">\n{body}</{FENCE_TAG} id="{self.token}">'


@dataclass(frozen=True, slots=True)
class Capped:
    text: str
    truncated: bool
    omitted_bytes: int


def cap_text(text: str, max_bytes: int, *, keep: Literal["head", "tail", "both"] = "tail") -> Capped:
    """Keep at most `max_bytes` UTF-8 bytes of `text` (call it on masked text only).

    keep="tail" keeps the end (logs: the newest lines matter), "head" keeps the start,
    "both" keeps the start and the end with a marker saying how much was cut.
    """
    raw = text.encode("utf-8")
    if len(raw) <= max_bytes:
        return Capped(text, False, 0)
    omitted = len(raw) - max_bytes
    if keep == "head":
        kept = raw[:max_bytes].decode("utf-8", errors="ignore")
        return Capped(kept, True, omitted)
    if keep == "tail":
        kept = raw[-max_bytes:].decode("utf-8", errors="ignore")
        # Start at a line boundary when one is near, so the first line is whole.
        nl = kept.find("\n")
        if 0 <= nl < 200:
            kept = kept[nl + 1 :]
        return Capped(kept, True, len(raw) - len(kept.encode("utf-8")))
    head_n = max_bytes // 2
    tail_n = max_bytes - head_n
    head = raw[:head_n].decode("utf-8", errors="ignore")
    tail = raw[-tail_n:].decode("utf-8", errors="ignore") if tail_n else ""
    marker = f"\n[… {omitted} bytes omitted …]\n"
    return Capped(head + marker + tail, True, omitted)


def _unmasked(text: str) -> tuple[str, int]:
    return text, 0


class StreamCapture:
    """Bounded capture of a byte stream: its first and last bytes, and the total.

    Keeps `cap // 2` bytes at each end plus a margin, so masking can run on whole secrets
    before the margins are cut (`text(mask)`). Memory stays O(cap) however much flows.
    """

    MARGIN: Final = 8 * 1024

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.total = 0
        self._head_max = cap // 2 + self.MARGIN
        self._tail_max = cap - cap // 2 + self.MARGIN
        self._head = bytearray()
        self._tail = bytearray()

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        room = self._head_max - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        if data:
            self._tail += data
            if len(self._tail) > self._tail_max:
                del self._tail[: len(self._tail) - self._tail_max]

    @property
    def truncated(self) -> bool:
        return self.total > self.cap

    def text(self, mask: Callable[[str], tuple[str, int]] | None = None) -> tuple[str, int]:
        """Cleaned text, masked by `mask(text) -> (text, count)` before the cut; (text, masked count)."""
        masker = mask or _unmasked
        if not self.truncated:  # everything is still here, in order
            return masker(clean_text(decode_bytes(bytes(self._head + self._tail))))
        if self.total == len(self._head) + len(self._tail):  # nothing lost yet: one text, masked whole
            whole, count = masker(clean_text(decode_bytes(bytes(self._head + self._tail))))
            head_text, tail_text = whole, whole
        else:
            head_text, c1 = masker(
                clean_text(codecs.getincrementaldecoder("utf-8")("replace").decode(bytes(self._head)))
            )
            tail_raw = bytes(self._tail).lstrip(bytes(range(0x80, 0xC0)))  # no orphan continuation bytes
            tail_text, c2 = masker(clean_text(decode_bytes(tail_raw)))
            count = c1 + c2
        head = cap_text(head_text, self.cap // 2, keep="head").text
        tail_bytes = tail_text.encode()[-(self.cap - self.cap // 2) :]
        tail = tail_bytes.decode("utf-8", errors="ignore")
        kept = len(head.encode()) + len(tail.encode())
        omitted = max(self.total - kept, 0)
        return head + f"\n[… {omitted} bytes omitted …]\n" + tail, count
