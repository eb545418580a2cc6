"""The one place where our errors become MCP tool errors the model reads."""

from __future__ import annotations

from pydantic import ValidationError

from k8s_debug_mcp.tools.errors import DebugError

__all__ = ["describe_debug_error", "describe_validation_error"]

_MAX_ERRORS = 5


def describe_validation_error(exc: ValidationError, *, tool: str) -> str:
    """Name each bad argument and why, without echoing the caller's value back."""
    parts: list[str] = []
    for err in exc.errors(include_url=False, include_input=False)[:_MAX_ERRORS]:
        loc = ".".join(str(p) for p in err["loc"]) or "arguments"
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown argument"
        parts.append(f"{loc}: {msg}")
    more = len(exc.errors()) - _MAX_ERRORS
    if more > 0:
        parts.append(f"and {more} more")
    return f"Invalid arguments for {tool}: " + "; ".join(parts) + "."


def describe_debug_error(exc: DebugError) -> str:
    return str(exc)
