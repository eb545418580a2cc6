"""Guardrails through MCP against the real API server: confirmation, audit, policy refusals."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import ElicitRequestParams, ElicitResult

from k8s_debug_mcp.server import Settings, build_server
from tests.conftest import Kube, Seeded, server_settings
from tests.mcp.util import data, text

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]


def ephemeral(kube: Kube, namespace: str, pod: str) -> list[str]:
    return [c["name"] for c in kube.get(namespace, "pod", pod)["spec"].get("ephemeralContainers") or []]


def answering(approve: bool | None, seen: list[str]) -> Any:
    async def callback(context: Any, params: ElicitRequestParams) -> ElicitResult:
        seen.append(params.message)
        if approve is None:
            return ElicitResult(action="decline")
        return ElicitResult(action="accept", content={"approve": approve})

    return callback


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_elicitation_shows_the_preview_and_applies_on_yes(
    kubeconfig: str, seeded: Seeded, kube: Kube, tmp_path: Path, mode: str
) -> None:
    seen: list[str] = []
    settings = server_settings(kubeconfig, tmp_path / "audit.jsonl", confirm=True)
    async with Client(build_server(settings), mode=mode, elicitation_callback=answering(True, seen)) as client:
        res = await client.call_tool(
            "add_debug_container", {"namespace": seeded.namespace, "pod": seeded.slim_pod, "target": "app"}
        )
    assert not res.is_error, text(res)
    name = data(res)["container"]
    assert len(seen) == 1
    assert seen[0].startswith(f"Add ephemeral container {name} to pod {seeded.namespace}/{seeded.slim_pod}.")
    assert "can never be removed" in seen[0]
    assert ephemeral(kube, seeded.namespace, seeded.slim_pod) == [name]


@pytest.mark.parametrize("approve", [False, None], ids=["answered-no", "declined"])
async def test_a_no_changes_nothing(
    kubeconfig: str, seeded: Seeded, kube: Kube, tmp_path: Path, approve: bool | None
) -> None:
    seen: list[str] = []
    settings = server_settings(kubeconfig, tmp_path / "audit.jsonl", confirm=True)
    async with Client(build_server(settings), elicitation_callback=answering(approve, seen)) as client:
        res = await client.call_tool("copy_pod", {"namespace": seeded.namespace, "pod": seeded.slim_pod})
    assert res.is_error
    assert "Nothing was changed" in text(res)
    assert seen
    assert seen[0].startswith(f"Create pod {seeded.namespace}/")
    assert len(kube.get(seeded.namespace, "pods")["items"]) == 2


async def test_without_elicitation_a_plan_id_confirms_exactly_once(
    kubeconfig: str, seeded: Seeded, kube: Kube, tmp_path: Path
) -> None:
    settings = server_settings(kubeconfig, tmp_path / "audit.jsonl", confirm=True)
    args = {"namespace": seeded.namespace, "pod": seeded.slim_pod, "target": "app"}
    async with Client(build_server(settings)) as client:
        first = await client.call_tool("add_debug_container", args)
        assert not first.is_error, text(first)  # a question for the user, not an error
        body = text(first)
        question = data(first)
        assert body.startswith("Needs the user's yes (nothing was changed yet)")
        assert question["server_dry_run"].startswith("accepted")
        assert question["change"]["spec"]["ephemeralContainers"][0]["targetContainerName"] == "app"
        assert question["kubectl"].startswith("kubectl debug")
        assert ephemeral(kube, seeded.namespace, seeded.slim_pod) == []
        plan_id = question["plan_id"]

        other = await client.call_tool("add_debug_container", {**args, "target": "sidecar", "plan_id": plan_id})
        assert other.is_error
        assert "not issued for this call" in text(other)

        first = await client.call_tool("add_debug_container", args)
        plan_id = data(first)["plan_id"]
        applied = await client.call_tool("add_debug_container", {**args, "plan_id": plan_id})
        assert not applied.is_error, text(applied)
        name = data(applied)["container"]
        assert name in question["summary"]  # the preview named the container that was added

        again = await client.call_tool("add_debug_container", {**args, "plan_id": plan_id})
        assert again.is_error
        assert "already used" in text(again)
        assert "Nothing was changed now" in text(again)
    assert ephemeral(kube, seeded.namespace, seeded.slim_pod) == [name]


async def test_dry_runs_and_reads_need_no_confirmation(kubeconfig: str, seeded: Seeded, tmp_path: Path) -> None:
    settings = server_settings(kubeconfig, tmp_path / "audit.jsonl", confirm=True)
    async with Client(build_server(settings)) as client:
        dry = await client.call_tool(
            "copy_pod", {"namespace": seeded.namespace, "pod": seeded.slim_pod, "dry_run": True}
        )
        read = await client.call_tool("pod_status", {"namespace": seeded.namespace, "pod": seeded.slim_pod})
    assert not dry.is_error, text(dry)
    assert not read.is_error


def audit_calls(log: Path) -> list[dict[str, Any]]:
    """The audit log as calls: each call's intent, its request lines, and its outcome, in order."""
    calls: dict[str, dict[str, Any]] = {}
    for line in log.read_text().splitlines():
        entry = json.loads(line)
        call = calls.setdefault(entry["call"], {"requests": []})
        if entry["phase"] == "request":
            call["requests"].append(entry)
        else:
            assert entry["phase"] not in call, f"two {entry['phase']} lines for one call"
            call[entry["phase"]] = entry
    return list(calls.values())


async def test_every_mutation_attempt_has_an_intent_and_an_outcome_line(
    kubeconfig: str, seeded: Seeded, tmp_path: Path
) -> None:
    log = tmp_path / "audit.jsonl"
    settings = server_settings(kubeconfig, log, denied_namespaces=["kube-*"])
    async with Client(build_server(settings)) as client:
        await client.call_tool("add_debug_container", {"namespace": seeded.namespace, "pod": seeded.slim_pod})
        await client.call_tool(
            "exec",
            {"namespace": seeded.namespace, "pod": seeded.slim_pod, "command": ["true"], "stdin": "secret input"},
        )
        await client.call_tool("copy_pod", {"namespace": seeded.namespace, "pod": seeded.slim_pod, "dry_run": True})
        await client.call_tool("cleanup", {"namespace": "kube-system"})
        await client.call_tool("list_pods", {"namespace": seeded.namespace})
    calls = audit_calls(log)
    assert [(c["intent"]["tool"], c["outcome"]["outcome"], c["intent"]["dry_run"]) for c in calls] == [
        ("add_debug_container", "ok", False),
        ("exec", "ok", False),
        ("copy_pod", "ok", True),
        ("cleanup", "PolicyDenied", False),
    ]
    assert [c["outcome"]["applied"] for c in calls] == [True, True, None, None]
    # Every API write had its request line (with the body's digest) before it was sent.
    assert [len(c["requests"]) for c in calls] == [1, 1, 1, 0]
    assert calls[2]["requests"][0]["dry_run"] is True
    assert "refused by policy setting 'denied_namespaces'" in calls[3]["outcome"]["error"]
    assert "secret input" not in log.read_text()
    assert calls[1]["intent"]["args"]["stdin"].startswith("sha256:")
    assert all(line["caller"] for c in calls for line in (c["intent"], c["outcome"]))


async def test_concurrent_mutations_never_interleave_audit_lines(
    kubeconfig: str, seeded: Seeded, tmp_path: Path
) -> None:
    log = tmp_path / "audit.jsonl"
    async with Client(build_server(server_settings(kubeconfig, log))) as client:
        calls = [
            client.call_tool(
                "copy_pod",
                {"namespace": seeded.namespace, "pod": seeded.slim_pod, "dry_run": True, "name": f"copy-{i}"},
            )
            for i in range(20)
        ]
        results = await asyncio.gather(*calls)
    assert all(not r.is_error for r in results)
    audited = audit_calls(log)  # every line parses: none was interleaved with another
    assert len(audited) == 20
    assert sorted(c["intent"]["args"]["name"] for c in audited) == sorted(f"copy-{i}" for i in range(20))
    assert all(c["outcome"]["outcome"] == "ok" and len(c["requests"]) == 1 for c in audited)


async def test_a_broken_audit_log_refuses_mutations(kubeconfig: str, seeded: Seeded, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("")
    async with Client(build_server(server_settings(kubeconfig, blocked / "audit.jsonl"))) as client:
        res = await client.call_tool("add_debug_container", {"namespace": seeded.namespace, "pod": seeded.slim_pod})
    assert res.is_error
    assert "Mutations need a working audit log" in text(res)


@pytest.mark.parametrize(
    ("policy", "tool", "args", "setting"),
    [
        ({"denied_namespaces": ["t-*"]}, "pod_status", {"pod": "x"}, "denied_namespaces"),
        ({"allowed_namespaces": ["prod-*"]}, "pod_logs", {"pod": "x"}, "allowed_namespaces"),
        ({}, "add_debug_container", {"image": "evil.example/miner:1"}, "debug_images"),
        ({}, "add_debug_container", {"profile": "sysadmin"}, "profiles"),
        ({}, "add_debug_container", {"custom": {"securityContext": {"privileged": True}}}, "profiles"),
        ({}, "add_debug_container", {"ttl_seconds": 86_400}, "max_ttl_seconds"),
        ({"preview_only": True}, "add_debug_container", {}, "preview_only"),
        ({"allow_copies": False}, "copy_pod", {}, "allow_copies"),
        ({}, "copy_pod", {"set_image": {"app": "evil.example/x:1"}}, "debug_images"),
        ({"allow_cleanup": False}, "cleanup", {}, "allow_cleanup"),
    ],
)
async def test_each_refusal_names_the_setting(
    kubeconfig: str,
    seeded: Seeded,
    make_settings: Callable[..., Settings],
    policy: dict[str, Any],
    tool: str,
    args: dict[str, Any],
    setting: str,
) -> None:
    base = {"namespace": seeded.namespace} | ({"pod": seeded.slim_pod} if tool != "cleanup" else {})
    async with Client(build_server(make_settings(kubeconfig, **policy))) as client:
        res = await client.call_tool(tool, base | args)
    assert res.is_error
    assert f"refused by policy setting '{setting}'" in text(res)


async def test_listing_all_namespaces_hides_denied_ones(
    kubeconfig: str, seeded: Seeded, make_settings: Callable[..., Settings]
) -> None:
    async with Client(build_server(make_settings(kubeconfig, denied_namespaces=[seeded.namespace]))) as client:
        answer = await client.call_tool(
            "list_pods", {"label_selector": "app in (slim,slim-crash)", "all_namespaces": True}
        )
    res = data(answer)
    assert seeded.namespace not in {p["namespace"] for p in res["pods"]}
    assert res["hidden_by_policy"] >= 2
    assert seeded.namespace not in text(answer)
    assert f"{res['hidden_by_policy']} more in namespaces this server's policy hides" in text(answer)


async def test_read_only_mode_refuses_writes_in_the_gateway_too(kubeconfig: str) -> None:
    from k8s_debug_mcp.tools.errors import PolicyDenied
    from k8s_debug_mcp.tools.gateway import KubeGateway, KubeSettings
    from k8s_debug_mcp.tools.policy import Policy

    gw = KubeGateway(KubeSettings(kubeconfig=kubeconfig), policy=Policy(read_only=True))
    try:
        with pytest.raises(PolicyDenied, match="read_only"):
            await gw.create_pod("default", {"metadata": {"name": "x"}}, dry_run=True)
        with pytest.raises(PolicyDenied, match="read_only"):
            await gw.exec_stream("default", "x", container="c", argv=["true"], stdin=None, on_output=lambda c, d: True)
    finally:
        await gw.close()


async def test_whoami_lists_what_a_restricted_identity_may_do(
    kube: Kube, seeded: Seeded, tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    from tests.integration.test_gateway import restricted_kubeconfig

    cfg = restricted_kubeconfig(kube, seeded.namespace, tmp_path)
    async with Client(build_server(make_settings(cfg))) as client:
        res = await client.call_tool("whoami", {"namespace": seeded.namespace})
    sc = data(res)
    assert sc["user"] == f"system:serviceaccount:{seeded.namespace}:reader"
    allowed = {c["permission"] for c in sc["checks"] if c["allowed"]}
    assert allowed == {"list pods", "get pods"}
    body = text(res)
    assert "RBAC denies: " in body
    assert "get pods/log (diagnose, pod_logs)" in body
    assert "list events (diagnose, pod_status)" in body
    assert "patch pods/ephemeralcontainers (add_debug_container)" in body


async def test_cluster_admin_may_do_the_whole_workflow(client: Client, seeded: Seeded) -> None:
    sc = data(await client.call_tool("whoami", {"namespace": seeded.namespace}))
    assert all(c["allowed"] for c in sc["checks"])
    assert sc["confirm"] is False


async def test_with_confirmation_on_a_refused_preview_is_the_answer_not_a_plan(
    kubeconfig: str, seeded: Seeded, tmp_path: Path
) -> None:
    settings = server_settings(kubeconfig, tmp_path / "audit.jsonl", confirm=True, denied_namespaces=["t-*"])
    async with Client(build_server(settings), elicitation_callback=answering(True, [])) as client:
        res = await client.call_tool("copy_pod", {"namespace": seeded.namespace, "pod": seeded.slim_pod})
    assert res.is_error
    assert "refused by policy setting 'denied_namespaces'" in text(res)
    assert "plan_id" not in text(res)


async def test_reusing_a_running_debugger_needs_no_confirmation(
    kubeconfig: str, seeded: Seeded, kube: Kube, tmp_path: Path
) -> None:
    args = {"namespace": seeded.namespace, "pod": seeded.slim_pod, "target": "app"}
    async with Client(build_server(server_settings(kubeconfig, tmp_path / "a.jsonl"))) as unconfirmed:
        first = data(await unconfirmed.call_tool("add_debug_container", args))
    async with Client(build_server(server_settings(kubeconfig, tmp_path / "b.jsonl", confirm=True))) as client:
        again = await client.call_tool("add_debug_container", args)
    assert not again.is_error, text(again)
    assert data(again)["reused"] is True
    assert data(again)["container"] == first["container"]
    assert ephemeral(kube, seeded.namespace, seeded.slim_pod) == [first["container"]]
