"""Plan ids as signed tokens (any replica checks them) and the ledger that makes each work once.

Attacker's view: a plan id is a string the model (or anyone in between) can edit. Every edit, every
other caller, tool, argument set or target, a stale plan, a plan from a server with another key and a
replay must be refused, with nothing changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from k8s_debug_mcp.server.confirm import Plans
from k8s_debug_mcp.server.plans import (
    ClusterLedger,
    LedgerRecord,
    MemoryLedger,
    PlanBinding,
    PlanTokens,
    plan_key,
)
from k8s_debug_mcp.tools.errors import Conflict, NotFound
from k8s_debug_mcp.tools.kube import Json, JsonDict
from k8s_debug_mcp.tools.preview import Preview

pytestmark = pytest.mark.anyio

KEY = plan_key(b"o" * 32)
BINDING = PlanBinding(caller="user:alice#uid-1", tool="add_debug_container", args="digest-a", target="ns/web")
BODY = "sha-of-the-patch"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def tokens(clock: Clock | None = None, key: bytes = KEY) -> PlanTokens:
    return PlanTokens(key, clock=clock or Clock())


def test_a_plan_id_is_short_and_checks_out_for_its_own_call() -> None:
    t = tokens()
    plan_id = t.issue(BINDING, BODY)
    assert len(plan_id) <= 64
    assert re.fullmatch(r"p1\.[0-9a-f]+\.[\w-]{12}\.[\w-]{22}\.[\w-]{16}", plan_id)
    plan = t.check(plan_id, BINDING)
    t.check_body(plan, BODY)
    assert plan.ledger_name.startswith("k8s-debug-mcp-plan-")
    assert len(plan.ledger_name) <= 63


def test_two_plans_for_the_same_call_differ() -> None:
    t = tokens()
    assert t.issue(BINDING, BODY) != t.issue(BINDING, BODY)


def test_another_replica_with_the_same_owner_key_accepts_the_plan() -> None:
    plan_id = PlanTokens(plan_key(b"o" * 32), clock=Clock()).issue(BINDING, BODY)
    PlanTokens(plan_key(b"o" * 32), clock=Clock()).check(plan_id, BINDING)


def test_a_server_with_another_key_refuses_the_plan() -> None:
    plan_id = tokens().issue(BINDING, BODY)
    with pytest.raises(ToolError, match="not issued for this call"):
        tokens(key=plan_key(b"x" * 32)).check(plan_id, BINDING)


def test_with_a_memory_ledger_a_restarted_server_refuses_plans_of_its_previous_life() -> None:
    """The memory of used plans dies with the process; so must the plans (else a used exec plan could run again)."""
    before = PlanTokens(plan_key(b"o" * 32, process=b"boot-1"), clock=Clock())
    after = PlanTokens(plan_key(b"o" * 32, process=b"boot-2"), clock=Clock())
    with pytest.raises(ToolError, match="not issued for this call"):
        after.check(before.issue(BINDING, BODY), BINDING)


def test_the_plan_key_is_derived_not_the_owner_key_itself() -> None:
    owner = b"o" * 32
    assert plan_key(owner) != owner
    assert len(plan_key(owner)) == 32


@pytest.mark.parametrize(
    "change",
    [
        {"caller": "user:mallory#uid-2"},
        {"caller": "user:alice#uid-9"},  # same name, another uid (user re-created)
        {"tool": "copy_pod"},
        {"args": "digest-b"},
        {"target": "ns/other"},
        {"target": "other/web"},
    ],
)
def test_a_plan_refuses_another_caller_tool_arguments_or_target(change: dict[str, str]) -> None:
    t = tokens()
    plan_id = t.issue(BINDING, BODY)
    other = PlanBinding(
        caller=change.get("caller", BINDING.caller),
        tool=change.get("tool", BINDING.tool),
        args=change.get("args", BINDING.args),
        target=change.get("target", BINDING.target),
    )
    with pytest.raises(ToolError, match="not issued for this call") as exc:
        t.check(plan_id, other)
    assert "Nothing was changed" in str(exc.value)


def _flip(ch: str) -> str:
    return "A" if ch != "A" else "B"


@pytest.mark.parametrize("segment", [1, 2, 3, 4])
def test_every_altered_segment_is_refused(segment: int) -> None:
    t = tokens()
    parts = t.issue(BINDING, BODY).split(".")
    original = parts[segment]
    parts[segment] = original[:-1] + (_flip(original[-1]) if segment != 1 else ("0" if original[-1] != "0" else "1"))
    forged = ".".join(parts)

    def redeem() -> None:
        plan = t.check(forged, BINDING)
        t.check_body(plan, BODY)  # an altered body tag passes the binding but not the body

    with pytest.raises(ToolError) as exc:
        redeem()
    assert "Nothing was changed" in str(exc.value)


def test_a_later_expiry_written_into_the_plan_is_refused() -> None:
    clock = Clock()
    t = tokens(clock)
    parts = t.issue(BINDING, BODY).split(".")
    parts[1] = f"{int(parts[1], 16) + 3600:x}"
    with pytest.raises(ToolError, match="not issued for this call"):
        t.check(".".join(parts), BINDING)


@pytest.mark.parametrize(
    "forged",
    [
        "",
        "plan-abc",
        "p1",
        "p1....",
        "p2.1.aaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaa",
        "p1.zz.aaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaa",
        "p1.1.aaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaa\n",
        "p1.1.aaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaa",
        "p1.1.aaaa+aaaaaaa.aaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaa",
        "x" * 5000,
    ],
)
def test_malformed_and_forged_plan_ids_are_refused(forged: str) -> None:
    with pytest.raises(ToolError) as exc:
        tokens().check(forged, BINDING)
    assert "Nothing was changed" in str(exc.value)
    if len(forged) > 8:
        assert forged.strip() not in str(exc.value)  # the caller's string is never echoed


def test_a_plan_expires_after_ten_minutes() -> None:
    clock = Clock()
    t = tokens(clock)
    plan_id = t.issue(BINDING, BODY)
    clock.now += 599
    t.check(plan_id, BINDING)
    clock.now += 2
    with pytest.raises(ToolError, match="expired"):
        t.check(plan_id, BINDING)


def test_a_plan_from_a_clock_far_ahead_is_refused() -> None:
    ahead = Clock(1_800_000_000.0 + 3600)
    plan_id = tokens(ahead).issue(BINDING, BODY)
    with pytest.raises(ToolError, match="expired"):
        tokens(Clock()).check(plan_id, BINDING)


def test_a_plan_refuses_a_different_change_or_none() -> None:
    t = tokens()
    plan = t.check(t.issue(BINDING, BODY), BINDING)
    with pytest.raises(ToolError, match="cluster changed"):
        t.check_body(plan, "sha-of-another-patch")
    with pytest.raises(ToolError, match="cluster changed"):
        t.check_body(plan, None)


# -- the ledger ---------------------------------------------------------------------------


def record(**kw: Any) -> LedgerRecord:
    return LedgerRecord(
        **{
            "caller": "user:alice",
            "tool": "exec",
            "target": "ns/web",
            "claimed_at": "2027-01-15T08:00:00Z",
            "replica": "a",
            **kw,
        }
    )


async def test_the_memory_ledger_lets_a_plan_work_once() -> None:
    ledger = MemoryLedger()
    t = tokens()
    plan = t.check(t.issue(BINDING, BODY), BINDING)
    assert await ledger.lookup(plan) is None
    await ledger.claim(plan, record())
    with pytest.raises(ToolError, match="already used"):
        await ledger.claim(plan, record(replica="b"))
    await ledger.settle(plan, record(outcome="ok", applied=True))
    earlier = await ledger.lookup(plan)
    assert earlier is not None
    assert "it succeeded" in str(earlier.refusal())


@pytest.mark.parametrize(
    ("outcome", "applied", "says"),
    [
        (None, None, "not recorded yet"),
        ("ok", True, "the change was applied"),
        ("Forbidden", False, "was not applied"),
        ("ConnectionLost", None, "possibly applied"),
    ],
)
def test_a_replay_is_told_what_became_of_the_plan(outcome: str | None, applied: bool | None, says: str) -> None:
    message = str(record(outcome=outcome, applied=applied).refusal())
    assert says in message
    assert "Nothing was changed now" in message
    assert "exec on ns/web" in message


def test_a_ledger_record_round_trips_through_configmap_data() -> None:
    for rec in (record(), record(outcome="ok", applied=True), record(outcome="x", applied=None)):
        data = rec.to_data()
        assert all(isinstance(v, str) for v in data.values())
        assert LedgerRecord.from_data(data) == rec


@dataclass
class FakeStore:
    """ConfigMaps by name, with the API server's create-once rule."""

    objects: dict[str, JsonDict] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)

    async def create_config_map(self, namespace: str, body: JsonDict) -> JsonDict:
        name = body["metadata"]["name"]
        if name in self.objects:
            raise Conflict(f'configmaps "{name}" already exists', status=409, reason="AlreadyExists")
        self.objects[name] = {**body, "metadata": {**body["metadata"], "uid": f"uid-{name}"}}
        return self.objects[name]

    async def get_object(self, namespace: str, api_version: str, kind: str, name: str) -> Json | None:
        if name not in self.objects:
            raise NotFound(f'configmaps "{name}" not found', status=404, reason="NotFound")
        return self.objects[name]

    async def patch_config_map(self, namespace: str, name: str, patch: JsonDict) -> JsonDict:
        self.objects[name]["data"] = {**self.objects[name]["data"], **patch["data"]}
        return self.objects[name]

    async def list_objects(
        self, namespace: str, api_version: str, kind: str, *, label_selector: str | None = None, limit: int = 100
    ) -> Json | None:
        return {"items": list(self.objects.values())}

    async def delete_config_map(self, namespace: str, name: str, *, uid: str) -> JsonDict:
        assert self.objects[name]["metadata"]["uid"] == uid
        del self.objects[name]
        self.deleted.append(name)
        return {}


async def test_the_cluster_ledger_claims_by_creating_a_name_once() -> None:
    store = FakeStore()
    clock = Clock()
    a, b = ClusterLedger(store, "kdm", clock=clock), ClusterLedger(store, "kdm", clock=clock)  # two replicas
    t = tokens(clock)
    plan = t.check(t.issue(BINDING, BODY), BINDING)
    await a.claim(plan, record(replica="a"))
    with pytest.raises(ToolError, match=r"already used.*server a"):
        await b.claim(plan, record(replica="b"))
    await a.settle(plan, record(replica="a", outcome="ok", applied=True))
    seen = await b.lookup(plan)
    assert seen is not None
    assert seen.outcome == "ok"
    assert seen.applied is True
    cm = store.objects[plan.ledger_name]
    assert cm["metadata"]["labels"]["k8s-debug-mcp/plan-ledger"] == "1"
    assert int(cm["metadata"]["annotations"]["k8s-debug-mcp/plan-expires"]) == plan.expires


async def test_the_cluster_ledger_collects_records_of_expired_plans_only() -> None:
    store = FakeStore()
    clock = Clock()
    ledger = ClusterLedger(store, "kdm", clock=clock)
    t = tokens(clock)
    old = t.check(t.issue(BINDING, BODY), BINDING)
    await ledger.claim(old, record())
    clock.now += 700
    fresh = t.check(t.issue(BINDING, BODY), BINDING)
    await ledger.claim(fresh, record())
    assert await ledger.collect("kdm") == 1
    assert store.deleted == [old.ledger_name]
    assert fresh.ledger_name in store.objects


async def test_plans_check_the_ledger_before_previewing_and_claim_after() -> None:
    t = tokens()
    plans = Plans(t, MemoryLedger())
    preview = Preview("add x", {"body": 1})
    previews: list[str] = []

    async def fresh() -> Preview | None:
        previews.append("previewed")
        return preview

    plan_id = plans.issue(BINDING, preview)
    claim = await plans.redeem(plan_id, BINDING, fresh)
    assert claim.record.caller == "user:alice"  # the uid binds the plan; the record names the user
    with pytest.raises(ToolError, match="already used"):
        await plans.redeem(plan_id, BINDING, fresh)
    assert previews == ["previewed"]  # a replay is refused before any preview (no API call)


async def test_a_plan_whose_change_differs_is_not_claimed() -> None:
    t = tokens()
    plans = Plans(t, MemoryLedger())
    plan_id = plans.issue(BINDING, Preview("add x", {"body": 1}))

    async def changed() -> Preview | None:
        return Preview("add x", {"body": 2})

    async def same() -> Preview | None:
        return Preview("add x", {"body": 1})

    with pytest.raises(ToolError, match="cluster changed"):
        await plans.redeem(plan_id, BINDING, changed)
    await plans.redeem(plan_id, BINDING, same)  # still unused: the refused attempt claimed nothing
