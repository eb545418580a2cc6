"""Append-only JSON lines: every mutation attempt, before and after it acts.

For each call of a write tool (allowed, refused, invalid or dry run):
- `intent`   who (caller), which tool, target, arguments (secrets masked, stdin as a digest),
             written and fsynced BEFORE anything else happens;
- `request`  one per mutating API request, with the body's digest, fsynced BEFORE it is sent
             (the gateway's write guard calls `before_write`);
- `outcome`  ok / the refusal or error, and whether the change was applied (true, false, or
             null when unknown or nothing was attempted).
A server killed mid-call leaves its intent (and request) lines behind. Lines are written
whole under a lock with O_APPEND on a worker thread, so the event loop never blocks on disk.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import anyio.to_thread

from k8s_debug_mcp.tools.boundary import sanitize_text
from k8s_debug_mcp.tools.kube import JsonDict
from k8s_debug_mcp.tools.preview import digest
from k8s_debug_mcp.tools.redact import Masker

__all__ = ["AuditLog", "AuditUnavailable", "CallRecord", "default_audit_path"]

MAX_ARG_CHARS = 2000


class AuditUnavailable(Exception):
    """The audit line could not be written."""


def default_audit_path() -> str:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return str(Path(state) / "k8s-debug-mcp" / "audit.jsonl")


@dataclass
class CallRecord:
    """One tool call as the audit sees it."""

    id: str
    caller: str
    tool: str
    namespace: str | None = None
    pod: str | None = None
    intent_written: bool = False


_current: ContextVar[CallRecord | None] = ContextVar("k8s_debug_mcp_audit_call", default=None)
_shapes = Masker()


def _safe_args(args: object) -> object:
    """Arguments as the audit keeps them: secrets masked, stdin as a digest, every string capped."""
    if isinstance(args, dict):
        out: JsonDict = {}
        for key, value in list(args.items())[:64]:
            name = sanitize_text(str(key), _shapes, cap=100)
            if key == "stdin" and isinstance(value, str):
                out[name] = "sha256:" + digest(value)
            elif key == "env" and isinstance(value, dict):
                out[name] = {sanitize_text(str(k), _shapes, cap=100): "[masked]" for k in list(value)[:64]}
            else:
                out[name] = _safe_args(value)
        return out
    if isinstance(args, list):
        return [_safe_args(v) for v in args[:64]]
    if isinstance(args, str):
        return sanitize_text(args, _shapes, cap=MAX_ARG_CHARS)
    if args is None or isinstance(args, bool | int | float):
        return args
    return sanitize_text(repr(args), _shapes, cap=200)


class AuditLog:
    def __init__(self, path: str) -> None:
        self.path = str(Path(path).expanduser())
        self._lock = asyncio.Lock()
        self._fd: int | None = None

    def _open(self) -> int:
        if self._fd is None:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return self._fd

    def _write(self, data: bytes) -> None:
        fd = self._open()
        written = 0
        while written < len(data):
            written += os.write(fd, data[written:])
        os.fsync(fd)

    async def record(self, event: JsonDict) -> None:
        line = json.dumps({"time": datetime.now(UTC).isoformat(), **event}, separators=(",", ":"), default=str)
        async with self._lock:
            try:
                await anyio.to_thread.run_sync(self._write, (line + "\n").encode())
            except OSError as exc:
                raise AuditUnavailable(f"cannot write audit log {self.path}: {exc.strerror}") from None

    # -- the three lines of a call -------------------------------------------------------

    async def intent(self, call: CallRecord, args: object, *, dry_run: bool) -> None:
        safe = _safe_args(args)
        await self.record(
            {
                "phase": "intent",
                "call": call.id,
                "caller": call.caller,
                "tool": call.tool,
                "namespace": call.namespace,
                "pod": call.pod,
                "dry_run": dry_run,
                "args": safe,
                "args_digest": digest(safe),
            }
        )
        call.intent_written = True

    async def before_write(self, action: str, body: JsonDict | None, dry_run: bool) -> None:
        """The gateway calls this before every mutating API request (its transport guard)."""
        call = _current.get()
        await self.record(
            {
                "phase": "request",
                "call": call.id if call else None,
                "caller": call.caller if call else None,
                "tool": call.tool if call else None,
                "action": sanitize_text(action, _shapes, cap=300),
                "dry_run": dry_run,
                "body_digest": digest(body) if body is not None else None,
            }
        )

    async def outcome(self, call: CallRecord, outcome: str, *, applied: bool | None, error: str | None) -> None:
        await self.record(
            {
                "phase": "outcome",
                "call": call.id,
                "caller": call.caller,
                "tool": call.tool,
                "namespace": call.namespace,
                "pod": call.pod,
                "outcome": outcome,
                "applied": applied,
                "error": error[:500] if error else None,
            }
        )

    @contextmanager
    def current(self, call: CallRecord) -> Iterator[None]:
        """Make `call` the one the gateway's request lines belong to."""
        token = _current.set(call)
        try:
            yield
        finally:
            _current.reset(token)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
