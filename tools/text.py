"""Untrusted text (logs, exec output, event messages): decode, strip, cap, delimit.

Everything here is pure and total: any bytes or str in, a bounded printable str out.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

__all__ = ["Capped", "StreamCapture", "cap_text", "clean_text", "decode_bytes", "delimit", "one_line"]

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
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
REPLACEMENT = "\ufffd"


def decode_bytes(data: bytes) -> str:
    """UTF-8 with U+FFFD for every undecodable byte; never raises."""
    return data.decode("utf-8", errors="replace")


def clean_text(text: str) -> str:
    """Drop terminal escape sequences, control and bidi-override characters; keep \\n and \\t."""
    text = text.replace("\r\n", "\n")
    text = _ANSI.sub("", text)
    return _CONTROL.sub("", text)


def one_line(text: str, limit: int = 300) -> str:
    """A cleaned single line (for event messages, waiting messages), capped at `limit` chars."""
    flat = " ".join(clean_text(text).split())
    if len(flat) <= limit:
        return flat
    return flat[: max(limit - 1, 0)] + "…"


@dataclass(frozen=True, slots=True)
class Capped:
    text: str
    truncated: bool
    omitted_bytes: int


def cap_text(text: str, max_bytes: int, *, keep: str = "tail") -> Capped:
    """Keep at most `max_bytes` UTF-8 bytes of `text`.

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


def delimit(label: str, body: str) -> str:
    """Wrap untrusted text so the model reads it as data, not instructions.

    The closing tag cannot be forged from inside: any occurrence in the body is defanged.
    """
    tag = "untrusted-output"
    label = label.replace('"', "'").replace("<", "(").replace(">", ")")
    safe = body.replace(f"</{tag}", f"<\\/{tag}")
    if safe and not safe.endswith("\n"):
        safe += "\n"
    return f'<{tag} source="{label}">\n{safe}</{tag}>'


class StreamCapture:
    """Bounded capture of a byte stream: the first and last `cap // 2` bytes, and the total.

    Memory stays O(cap) however much the stream carries.
    """

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.total = 0
        self._head = bytearray()
        self._tail = bytearray()

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        room = self.cap // 2 - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        if data:
            self._tail += data
            keep = self.cap - self.cap // 2
            if len(self._tail) > keep:
                del self._tail[: len(self._tail) - keep]

    @property
    def truncated(self) -> bool:
        return self.total > len(self._head) + len(self._tail)

    def text(self) -> str:
        """Decoded, cleaned text; a marker says how many bytes were cut from the middle."""
        if not self.truncated:
            return clean_text(decode_bytes(bytes(self._head + self._tail)))
        head = codecs.getincrementaldecoder("utf-8")("replace").decode(bytes(self._head), final=False)
        tail = bytes(self._tail).lstrip(bytes(range(0x80, 0xC0)))  # no orphan continuation bytes
        omitted = self.total - len(self._head) - len(self._tail)
        return clean_text(head) + f"\n[… {omitted} bytes omitted …]\n" + clean_text(decode_bytes(tail))
