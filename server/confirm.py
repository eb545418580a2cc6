"""Confirmation of mutations: MCP elicitation where the client can, a one-time plan id otherwise.

Flow for a write tool call that is not a dry run, while the policy asks for confirmation:
1. The resolver (runs before the tool body, in both protocol eras) previews the change.
   A client with form elicitation is asked "Approve this change?" with the preview.
2. A client without elicitation gets a normal result (ConfirmationNeeded): the preview, the exact
   change, the server's dry-run verdict, the kubectl equivalent and a plan id; the model shows it to
   the user and, on their yes, calls again with plan_id.
3. A plan id works once, for ten minutes, for the same caller, tool, arguments and target, and
   only while the change it previewed is still exactly the change that would be made. It is a
   signed token any replica can check; "once" is a claim in the plan ledger (server/plans.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver import Context
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from k8s_debug_mcp.server.plans import (
    PLAN_TTL_S,
    REPLICA,
    Ledger,
    LedgerRecord,
    PlanBinding,
    PlanTokens,
    SignedPlan,
    now_iso,
)
from k8s_debug_mcp.tools.identity import Identity
from k8s_debug_mcp.tools.models import ConfirmationNeeded
from k8s_debug_mcp.tools.preview import Preview, digest

if TYPE_CHECKING:
    from k8s_debug_mcp.server.app import AppContext

__all__ = [
    "Approval",
    "Caller",
    "Claim",
    "Ctx",
    "Gate",
    "Plans",
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


CLAIM_USER: Final = "k8s_user"
"""The AccessToken claim where the TokenReview verifier (server/auth.py) puts the reviewed user."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, as the audit, the logs and plan ids name them."""

    name: str
    """"user:<username>" (TokenReview or another verifier's subject), "client:<id>" (the static token),
    "local[:<client name>]" (stdio: the client's own word)."""
    identity: Identity | None = None
    """Team mode: the reviewed user every API request for this caller impersonates."""

    @property
    def key(self) -> str:
        """What a plan binds: the name, and the uid when the TokenReview gave one (a user deleted and
        re-created under the same name is another caller)."""
        return f"{self.name}#{self.identity.uid}" if self.identity is not None and self.identity.uid else self.name


def caller_of(ctx: Ctx) -> Caller:
    """Who is calling: the authenticated principal of an HTTP request (the SDK's auth context: the
    reviewed Kubernetes user, the token's subject or client id), else "local" plus the client's
    self-declared name (stdio)."""
    token = get_access_token()
    if token is not None:
        user = (token.claims or {}).get(CLAIM_USER)
        if isinstance(user, dict):
            identity = Identity.from_user_info(user)
            return Caller(f"user:{identity.username}", identity)
        return Caller(f"user:{token.subject}" if token.subject else f"client:{token.client_id}")
    try:
        info = ctx.request_context.session.client_params
        name = info.client_info.name if info is not None else None
    except (AttributeError, ValueError):
        name = None
    return Caller(f"local:{name}" if name else "local")


def args_digest(tool: str, arguments: Arguments) -> str:
    return digest({"tool": tool, "args": {k: v for k, v in arguments.items() if k not in ("plan_id", "dry_run")}})


@dataclass(frozen=True, slots=True)
class Claim:
    """A plan redeemed by this call: its ledger record gets the call's outcome."""

    plan: SignedPlan
    record: LedgerRecord


@dataclass
class Plans:
    """Plan ids: signed tokens any replica can check (server/plans.py), used once through the ledger."""

    tokens: PlanTokens
    ledger: Ledger

    def issue(self, binding: PlanBinding, preview: Preview) -> str:
        return self.tokens.issue(binding, preview.digest)

    async def redeem(self, plan_id: str, binding: PlanBinding, fresh: Callable[[], Awaitable[Preview | None]]) -> Claim:
        """Check the plan (signature, binding, expiry), that it was never used, that a fresh preview makes
        exactly the approved change; then claim it. ToolError saying why not, with nothing changed."""
        plan = self.tokens.check(plan_id, binding)
        earlier = await self.ledger.lookup(plan)
        if earlier is not None:
            raise earlier.refusal()
        preview = await fresh()
        self.tokens.check_body(plan, preview.digest if preview is not None else None)
        record = LedgerRecord(
            caller=binding.caller.split("#", 1)[0],
            tool=binding.tool,
            target=binding.target,
            claimed_at=now_iso(),
            replica=REPLICA,
        )
        await self.ledger.claim(plan, record)
        return Claim(plan, record)

    async def settle(self, claim: Claim, outcome: str, applied: bool | None) -> None:
        await self.ledger.settle(claim.plan, replace(claim.record, outcome=outcome, applied=applied))


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
        expires_in_s=PLAN_TTL_S,
    )
