"""Append-only JSON lines, one per mutation attempt: allowed or refused, dry run or real.

Lines are written whole under a lock with O_APPEND, flushed and fsynced before the call
returns, so concurrent calls never interleave and a crash loses no acknowledged line.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["AuditLog", "AuditUnavailable", "default_audit_path"]


class AuditUnavailable(Exception):
    """The audit line could not be written."""


def default_audit_path() -> str:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return str(Path(state) / "k8s-debug-mcp" / "audit.jsonl")


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

    def check(self) -> None:
        """Fail before a mutation when no line could be written afterwards."""
        try:
            self._open()
        except OSError as exc:
            raise AuditUnavailable(f"cannot open audit log {self.path}: {exc.strerror}") from None

    async def record(self, event: dict[str, Any]) -> None:
        line = json.dumps({"time": datetime.now(UTC).isoformat(), **event}, separators=(",", ":"), default=str)
        data = (line + "\n").encode()
        async with self._lock:
            try:
                fd = self._open()
                written = 0
                while written < len(data):
                    written += os.write(fd, data[written:])
                os.fsync(fd)
            except OSError as exc:
                raise AuditUnavailable(f"cannot write audit log {self.path}: {exc.strerror}") from None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
