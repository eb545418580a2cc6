"""Plan ids that any replica can check, and a ledger that lets each one work once.

A client without elicitation gets a plan id with the preview of a mutation; calling again with it
applies exactly that change. Replicas share nothing but the cluster (and the owner key from the
chart's Secret), so a plan id is a self-contained signed token, not a key into one process's memory:

    p1.<expiry, hex unix seconds>.<nonce, 9 random bytes>.<binding tag>.<body tag>      (64 characters)

- binding tag = HMAC-SHA256(K, "bind" + canonical JSON [version, expiry, nonce, caller, tool,
  arguments digest, target]) truncated to 128 bits: the caller (username and uid as the TokenReview
  named them, else the static token's or stdio client's name), the tool, the canonical arguments and
  the target (namespace/pod after defaults) are not in the token: the redeeming call supplies them,
  so any difference fails the tag;
- body tag = HMAC-SHA256(K, "body" + binding tag + digest of the previewed change) truncated to 96
  bits: a fresh preview at redemption must produce exactly the approved change;
- K = HMAC-SHA256(owner key, "k8s-debug-mcp/v1/plan-ids"): derived with a label, never the raw key.

A signature says who and what, not how often. Once: a plan is claimed in a ledger before the change
is made. One process: in memory (`MemoryLedger`). Several replicas: in the cluster (`ClusterLedger`),
a ConfigMap named from the plan's hash, created with the server's own identity in its own namespace;
the API server creates a name once, so of two replicas racing with one plan exactly one wins, and a
replay finds the record (and its outcome) and changes nothing.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import re
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, Protocol

from mcp.server.mcpserver.exceptions import ToolError

from k8s_debug_mcp.server.logs import get_logger
from k8s_debug_mcp.tools.errors import Conflict, DebugError, NotFound
from k8s_debug_mcp.tools.kube import MANAGED_BY, MANAGED_BY_LABEL, Json, JsonDict, obj, objs

__all__ = [
    "PLAN_TTL_S",
    "ClusterLedger",
    "Ledger",
    "LedgerRecord",
    "MemoryLedger",
    "PlanBinding",
    "PlanTokens",
    "SignedPlan",
    "plan_key",
]

PLAN_TTL_S: Final = 600
VERSION: Final = "p1"
_TOKEN: Final = re.compile(r"p1\.([0-9a-f]{1,12})\.([A-Za-z0-9_-]{12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{16})")
_FUTURE_SKEW_S: Final = 60
LEDGER_LABEL: Final = "k8s-debug-mcp/plan-ledger"
ANN_EXPIRES: Final = "k8s-debug-mcp/plan-expires"
MEMORY_LEDGER_MAX: Final = 10_000
GC_EVERY_S: Final = 300.0

NOTHING = "Nothing was changed"
FRESH = "call again without plan_id for a fresh preview"


def plan_key(owner_key: bytes, *, process: bytes = b"") -> bytes:
    """The plan-signing key: derived from the owner key with its own label (the raw key signs nothing else).

    `process`: a random value of this process when used plans are remembered in its memory only: plans then
    die with the process, as that memory does (a restarted server must not accept a plan it already used)."""
    return hmac.new(owner_key, b"k8s-debug-mcp/v1/plan-ids" + process, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@dataclass(frozen=True, slots=True)
class PlanBinding:
    """What a plan is for; supplied by the redeeming call, never read from the token."""

    caller: str
    tool: str
    args: str
    target: str

    def canonical(self, expires: int, nonce: str) -> bytes:
        fields = [VERSION, expires, nonce, self.caller, self.tool, self.args, self.target]
        return json.dumps(fields, separators=(",", ":"), ensure_ascii=True).encode()


@dataclass(frozen=True, slots=True)
class SignedPlan:
    """A plan id whose binding checked out (its body is checked against a fresh preview separately)."""

    token: str
    expires: int
    binding_tag: str
    body_tag: str

    @property
    def ledger_name(self) -> str:
        """A name for the plan's ledger record: a hash of the whole token (valid DNS-1123)."""
        return "k8s-debug-mcp-plan-" + hashlib.sha256(self.token.encode()).hexdigest()[:40]


class PlanTokens:
    """Issues and checks plan ids (pure: a key and a clock)."""

    def __init__(self, key: bytes, *, ttl_s: int = PLAN_TTL_S, clock: Callable[[], float] = time.time) -> None:
        if len(key) < 32:
            raise ValueError("the plan key must have at least 32 bytes")
        self._key = key
        self._ttl = ttl_s
        self._clock = clock

    def __repr__(self) -> str:
        return "PlanTokens(key=<hidden>)"

    @property
    def ttl_s(self) -> int:
        return self._ttl

    def _tag(self, label: bytes, message: bytes, size: int) -> str:
        return _b64(hmac.new(self._key, label + b"\x00" + message, hashlib.sha256).digest()[:size])

    def _body_tag(self, binding_tag: str, body_digest: str) -> str:
        return self._tag(b"body", f"{binding_tag}/{body_digest}".encode(), 12)

    def issue(self, binding: PlanBinding, body_digest: str) -> str:
        expires = int(self._clock()) + self._ttl
        nonce = _b64(secrets.token_bytes(9))
        tag = self._tag(b"bind", binding.canonical(expires, nonce), 16)
        return f"{VERSION}.{expires:x}.{nonce}.{tag}.{self._body_tag(tag, body_digest)}"

    def check(self, token: str, binding: PlanBinding) -> SignedPlan:
        """The plan, when `token` is a plan id this key issued for exactly this binding and it has not expired;
        ToolError otherwise (the same answer for a forgery, an alteration, another caller or other arguments)."""
        match = _TOKEN.fullmatch(token)
        if match is None:
            raise ToolError(f"Unknown plan_id: not one this server issued. {NOTHING}; {FRESH}.")
        expires_hex, nonce, tag, body_tag = match.groups()
        expires = int(expires_hex, 16)
        expected = self._tag(b"bind", binding.canonical(expires, nonce), 16)
        if not hmac.compare_digest(tag, expected):
            raise ToolError(
                "This plan_id was not issued for this call: a plan works only for the caller, tool, arguments and "
                f"target it was previewed for, and cannot be altered. {NOTHING}; {FRESH}."
            )
        now = self._clock()
        if expires <= now or expires > now + self._ttl + _FUTURE_SKEW_S:
            raise ToolError(f"This plan_id expired (plans work for {self._ttl // 60} minutes). {NOTHING}; {FRESH}.")
        return SignedPlan(token=token, expires=expires, binding_tag=tag, body_tag=body_tag)

    def check_body(self, plan: SignedPlan, body_digest: str | None) -> None:
        """The change a fresh preview would make must be exactly the approved one."""
        if body_digest is None or not hmac.compare_digest(plan.body_tag, self._body_tag(plan.binding_tag, body_digest)):
            raise ToolError(
                "The cluster changed since the preview, so the change would differ from what was approved. "
                f"{NOTHING}; {FRESH}."
            )


# -- the ledger: each plan works once -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LedgerRecord:
    """What a replay is told: who claimed the plan, when, where, and what became of it."""

    caller: str
    tool: str
    target: str
    claimed_at: str
    replica: str
    outcome: str | None = None
    applied: bool | None = None

    def to_data(self) -> dict[str, str]:
        data = {
            "caller": self.caller,
            "tool": self.tool,
            "target": self.target,
            "claimedAt": self.claimed_at,
            "replica": self.replica,
        }
        if self.outcome is not None:
            data["outcome"] = self.outcome
            data["applied"] = "unknown" if self.applied is None else str(self.applied).lower()
        return data

    @classmethod
    def from_data(cls, data: Json) -> LedgerRecord:
        applied = data.get("applied")
        return cls(
            caller=str(data.get("caller") or "?"),
            tool=str(data.get("tool") or "?"),
            target=str(data.get("target") or "?"),
            claimed_at=str(data.get("claimedAt") or "?"),
            replica=str(data.get("replica") or "?"),
            outcome=str(data["outcome"]) if data.get("outcome") else None,
            applied=True if applied == "true" else False if applied == "false" else None,
        )

    def refusal(self) -> ToolError:
        if self.outcome is None:
            what = "its outcome is not recorded yet (it may still be running, or that server stopped mid-call)"
        elif self.outcome == "ok":
            what = "it succeeded: the change was applied"
        else:
            applied = {True: "applied", False: "not applied", None: "possibly applied"}[self.applied]
            what = f"it ended with {self.outcome} (the change was {applied})"
        return ToolError(
            f"This plan was already used: {self.tool} on {self.target} was confirmed with it at {self.claimed_at} "
            f"(server {self.replica}); {what}. A plan works once: {NOTHING} now. Check the target "
            "(pod_status), or call again without plan_id for a new preview."
        )


class Ledger(Protocol):
    async def lookup(self, plan: SignedPlan) -> LedgerRecord | None:
        """The record of a plan already claimed; None when it was never used."""
        ...

    async def claim(self, plan: SignedPlan, record: LedgerRecord) -> None:
        """Record the plan as used, once: ToolError (naming the earlier claim) when it already was."""
        ...

    async def settle(self, plan: SignedPlan, record: LedgerRecord) -> None:
        """Add the outcome to a claimed plan's record (best effort: the claim alone already guarantees once)."""
        ...


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


REPLICA: Final = socket.gethostname()[:63] or "?"


@dataclass
class MemoryLedger:
    """One process: the plans it saw used, until they expire (single-user stdio or one HTTP replica)."""

    clock: Callable[[], float] = time.time
    _used: dict[str, tuple[int, LedgerRecord]] = field(default_factory=dict)

    async def lookup(self, plan: SignedPlan) -> LedgerRecord | None:
        hit = self._used.get(plan.ledger_name)
        return hit[1] if hit is not None else None

    async def claim(self, plan: SignedPlan, record: LedgerRecord) -> None:
        now = self.clock()
        if len(self._used) >= MEMORY_LEDGER_MAX:
            for key in [k for k, (exp, _) in self._used.items() if exp <= now]:
                del self._used[key]
        hit = self._used.get(plan.ledger_name)
        if hit is not None:
            raise hit[1].refusal()
        if len(self._used) >= MEMORY_LEDGER_MAX:
            raise ToolError(f"Too many plans in flight on this server. {NOTHING}; retry in a few minutes.")
        self._used[plan.ledger_name] = (plan.expires, record)

    async def settle(self, plan: SignedPlan, record: LedgerRecord) -> None:
        hit = self._used.get(plan.ledger_name)
        if hit is not None:
            self._used[plan.ledger_name] = (hit[0], record)


class LedgerStore(Protocol):
    """The gateway calls the cluster ledger makes (with the server's own identity)."""

    async def create_config_map(self, namespace: str, body: JsonDict) -> JsonDict: ...

    async def get_object(self, namespace: str, api_version: str, kind: str, name: str) -> Json | None: ...

    async def patch_config_map(self, namespace: str, name: str, patch: JsonDict) -> JsonDict: ...

    async def list_objects(
        self, namespace: str, api_version: str, kind: str, *, label_selector: str | None = None, limit: int = 100
    ) -> Json | None: ...

    async def delete_config_map(self, namespace: str, name: str, *, uid: str) -> JsonDict: ...


class ClusterLedger:
    """Plans claimed as ConfigMaps in the server's own namespace, with the server's own identity.

    The object's name is the plan's hash, so the API server's "create once" is the one-time
    guarantee: a second create of the same name fails with AlreadyExists, on any replica. The record
    holds no secrets (caller, tool, target, times, outcome). Records outlive their plan only until the
    next clean-up (every few minutes, by whichever replica claims a plan).
    """

    def __init__(
        self,
        store: LedgerStore,
        namespace: str | Callable[[], Awaitable[str]],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._namespace = namespace
        self._clock = clock
        self._last_gc = 0.0
        self._gc_task: asyncio.Task[int] | None = None

    async def _ns(self) -> str:
        """The ledger's namespace: the setting, else the server's own (in-cluster) or its context's."""
        if not isinstance(self._namespace, str):
            self._namespace = await self._namespace()
        return self._namespace

    async def lookup(self, plan: SignedPlan) -> LedgerRecord | None:
        ns = await self._ns()
        try:
            found = await self._store.get_object(ns, "v1", "ConfigMap", plan.ledger_name)
        except NotFound:
            return None
        except DebugError as exc:
            raise ToolError(
                f"The plan ledger (ConfigMaps in namespace {ns}) cannot be read: {exc.message} {NOTHING}."
            ) from None
        return LedgerRecord.from_data(obj(obj(found).get("data")))

    async def claim(self, plan: SignedPlan, record: LedgerRecord) -> None:
        ns = await self._ns()
        body: JsonDict = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": plan.ledger_name,
                "labels": {MANAGED_BY_LABEL: MANAGED_BY, LEDGER_LABEL: "1"},
                "annotations": {ANN_EXPIRES: str(plan.expires)},
            },
            "data": record.to_data(),
        }
        try:
            await self._store.create_config_map(ns, body)
        except Conflict:
            earlier = await self.lookup(plan)
            raise (earlier or record).refusal() from None
        except DebugError as exc:
            raise ToolError(
                f"The plan could not be claimed in the plan ledger (ConfigMaps in namespace {ns}): {exc.message} "
                f"{NOTHING}."
            ) from None
        self._maybe_collect(ns)

    async def settle(self, plan: SignedPlan, record: LedgerRecord) -> None:
        ns = await self._ns()
        try:
            await self._store.patch_config_map(ns, plan.ledger_name, {"data": record.to_data()})
        except DebugError as exc:
            get_logger("k8s_debug_mcp.plans").warning("plan_ledger_settle_failed", error=exc.message)

    def _maybe_collect(self, namespace: str) -> None:
        now = self._clock()
        if now - self._last_gc < GC_EVERY_S or (self._gc_task is not None and not self._gc_task.done()):
            return
        self._last_gc = now
        self._gc_task = asyncio.get_running_loop().create_task(self.collect(namespace))

    async def collect(self, namespace: str) -> int:
        """Delete records of plans that expired (a minute ago or more); how many."""
        deleted = 0
        with contextlib.suppress(DebugError):
            listing = await self._store.list_objects(
                namespace, "v1", "ConfigMap", label_selector=f"{LEDGER_LABEL}=1", limit=500
            )
            cutoff = self._clock() - 60
            for item in objs(obj(listing).get("items")):
                meta = obj(item.get("metadata"))
                try:
                    expires = int(str(obj(meta.get("annotations")).get(ANN_EXPIRES)))
                except ValueError:
                    continue
                if expires < cutoff:
                    with contextlib.suppress(DebugError):
                        await self._store.delete_config_map(namespace, str(meta.get("name")), uid=str(meta.get("uid")))
                        deleted += 1
        return deleted
