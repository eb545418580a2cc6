"""Confirmation of mutations: MCP elicitation where the client can, a one-time plan id otherwise.

Flow for a write tool call that is not a dry run, while the policy asks for confirmation:
1. The resolver (runs before the tool body, in both protocol eras) previews the change.
   A client with form elicitation is asked "Approve this change?" with the preview.
2. A client without elicitation gets a normal result (ConfirmationNeeded): the preview, the exact
   change, the server's dry-run verdict, the kubectl equivalent and a plan id; the model shows it to
   the user and, on their yes, calls again with plan_id.
3. A plan id works once, for ten minutes, for the same caller, tool and arguments, and
   only while the change it previewed is still exactly the change that would be made.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from k8s_debug_mcp.tools.models import ConfirmationNeeded
from k8s_debug_mcp.tools.preview import Preview, digest

if TYPE_CHECKING:
    from k8s_debug_mcp.server.app import AppContext

__all__ = [
    "Approval",
    "Ctx",
    "Gate",
    "PlanStore",
    "args_digest",
    "caller_of",
    "confirmation_needed",
    "supports_elicitation",
]

if TYPE_CHECKING:
    Ctx: TypeAlias = Context[AppContext, Any]
    """A tool call's context: the lifespan's AppContext, any request type."""
else:
    Ctx = Context  # the SDK finds the context parameter by this class at run time
Arguments = dict[str, object]
"""Tool arguments as the client sent them."""

PLAN_TTL_S: Final = 600.0
MAX_PLANS: Final = 1000


class Approval(BaseModel):
    """The user's answer. Only a real boolean counts: "yes", 1 or "true" are not an approval."""

    model_config = ConfigDict(extra="forbid")

    approve: StrictBool = Field(description="Apply this change to the cluster?")


@dataclass(frozen=True, slots=True)
class Gate:
    """What the resolver decided when it did not ask the user."""

    kind: Literal["skip", "noop", "failed", "no_elicitation"]
    preview: Preview | None = None
    error: str | None = None


def supports_elicitation(ctx: Ctx) -> bool:
    caps = ctx.client_capabilities
    elicitation = caps.elicitation if caps is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def caller_of(ctx: Ctx) -> str:
    """Who is calling: the authenticated principal of an HTTP request (the SDK's auth context: the
    token's subject or client id), else "local" plus the client's self-declared name (stdio)."""
    token = get_access_token()
    if token is not None:
        return f"user:{token.subject}" if token.subject else f"client:{token.client_id}"
    try:
        info = ctx.request_context.session.client_params
        name = info.client_info.name if info is not None else None
    except (AttributeError, ValueError):
        name = None
    return f"local:{name}" if name else "local"


def args_digest(tool: str, arguments: Arguments) -> str:
    return digest({"tool": tool, "args": {k: v for k, v in arguments.items() if k not in ("plan_id", "dry_run")}})


@dataclass
class _Plan:
    tool: str
    args: str
    body: str
    caller: str
    expires: float


@dataclass
class PlanStore:
    """In-memory, per server process (a multi-replica HTTP deployment needs sticky sessions)."""

    _plans: dict[str, _Plan] = field(default_factory=dict)

    def issue(self, *, tool: str, args: str, preview: Preview, caller: str) -> str:
        now = time.monotonic()
        for key in [k for k, p in self._plans.items() if p.expires < now]:
            del self._plans[key]
        if len(self._plans) >= MAX_PLANS:
            del self._plans[min(self._plans, key=lambda k: self._plans[k].expires)]
        plan_id = "plan-" + secrets.token_urlsafe(12)
        self._plans[plan_id] = _Plan(tool, args, preview.digest, caller, now + PLAN_TTL_S)
        return plan_id

    def redeem(self, plan_id: str, *, tool: str, args: str, preview: Preview | None, caller: str) -> None:
        """Consume a plan or raise ToolError saying why it does not apply."""
        plan = self._plans.pop(plan_id, None)
        if plan is None or plan.expires < time.monotonic():
            raise ToolError("Unknown or expired plan_id (plans work once, for 10 minutes). Nothing was changed.")
        if plan.tool != tool or plan.caller != caller or plan.args != args:
            raise ToolError(
                "This plan_id was issued for a different call; use the same tool and arguments as the preview. "
                "Nothing was changed."
            )
        if preview is None or preview.digest != plan.body:
            raise ToolError(
                "The cluster changed since the preview, so the change would differ from what was approved. "
                "Nothing was changed; call again without plan_id for a fresh preview."
            )


def confirmation_needed(preview: Preview, plan_id: str) -> ConfirmationNeeded:
    """The answer for a client that cannot ask the user itself: a normal result, not an error."""
    details = preview.details
    change = details.get("change", preview.body)
    verdict, kubectl = details.get("server_dry_run"), details.get("kubectl")
    return ConfirmationNeeded(
        plan_id=plan_id,
        summary=preview.summary,
        change=change,
        server_dry_run=verdict if isinstance(verdict, str) else None,
        kubectl=kubectl if isinstance(kubectl, str) else None,
        expires_in_s=int(PLAN_TTL_S),
    )
