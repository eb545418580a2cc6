"""copy_pod and cleanup through MCP against the real API server."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from tests.conftest import Kube, Seeded
from tests.mcp.util import data, text

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]


def pod_names(kube: Kube, namespace: str, *selector: str) -> set[str]:
    return {p["metadata"]["name"] for p in kube.get(namespace, "pods", *selector)["items"]}


async def test_dry_run_shows_manifest_and_diff_and_creates_nothing(client: Client, seeded: Seeded, kube: Kube) -> None:
    before = pod_names(kube, seeded.namespace)
    res = await client.call_tool("copy_pod", {"namespace": seeded.namespace, "pod": seeded.slim_pod, "dry_run": True})
    assert not res.is_error, text(res)
    sc = data(res)
    assert sc["server_dry_run"].startswith("accepted")
    assert sc["manifest"]["spec"]["shareProcessNamespace"] is True
    assert any(c.startswith("labels dropped") for c in sc["changes"])
    assert "DRY RUN" in text(res)
    assert pod_names(kube, seeded.namespace) == before


async def test_a_copy_runs_with_shared_processes_and_no_controller_selects_it(
    client: Client, seeded: Seeded, kube: Kube
) -> None:
    res = await client.call_tool("copy_pod", {"namespace": seeded.namespace, "pod": seeded.slim_pod})
    assert not res.is_error, text(res)
    sc = data(res)
    assert sc["phase"] == "Running"
    copy = kube.get(seeded.namespace, "pod", sc["name"])
    assert copy["spec"]["shareProcessNamespace"] is True
    assert [c["name"] for c in copy["spec"]["containers"]] == ["app", "sidecar", sc["debugger"]]
    assert "ownerReferences" not in copy["metadata"]
    assert sc["name"] not in pod_names(kube, seeded.namespace, "-l", "app=slim")
    rs = kube.get(seeded.namespace, "replicasets", "-l", "app=slim")["items"][0]
    assert rs["status"]["replicas"] == 1

    status = data(await client.call_tool("pod_status", {"namespace": seeded.namespace, "pod": sc["name"]}))
    assert status["note"].startswith(f"debug copy of {seeded.slim_pod}, expires in")

    exec_res = data(
        await client.call_tool(
            "exec", {"namespace": seeded.namespace, "pod": sc["name"], "container": sc["debugger"], "command": ["true"]}
        )
    )
    assert exec_res["exit_code"] == 0


async def test_cleanup_deletes_our_copy_and_refuses_anything_else(client: Client, seeded: Seeded, kube: Kube) -> None:
    made = data(await client.call_tool("copy_pod", {"namespace": seeded.namespace, "pod": seeded.slim_pod}))
    preview = data(await client.call_tool("cleanup", {"namespace": seeded.namespace, "dry_run": True}))
    assert preview["deleted"] == [made["name"]]
    assert made["name"] in pod_names(kube, seeded.namespace)

    res = await client.call_tool(
        "cleanup", {"namespace": seeded.namespace, "pods": [made["name"], seeded.slim_pod, "ghost"]}
    )
    sc: dict[str, Any] = data(res)
    assert sc["deleted"] == [made["name"]]
    assert any(r.startswith(f"{seeded.slim_pod}: not created by k8s-debug-mcp") for r in sc["refused"])
    assert "ghost: not found" in sc["refused"]
    kube.wait_until("copy deleted", lambda: made["name"] not in pod_names(kube, seeded.namespace))
    assert seeded.slim_pod in pod_names(kube, seeded.namespace)


async def test_expired_copies_are_reported_and_cleaned_by_expired_only(
    client: Client, seeded: Seeded, kube: Kube
) -> None:
    fresh = data(
        await client.call_tool(
            "copy_pod", {"namespace": seeded.namespace, "pod": seeded.slim_pod, "add_debugger": False}
        )
    )
    old = data(
        await client.call_tool(
            "copy_pod", {"namespace": seeded.namespace, "pod": seeded.slim_pod, "add_debugger": False}
        )
    )
    kube.run(
        "annotate",
        "pod",
        old["name"],
        "-n",
        seeded.namespace,
        "--overwrite",
        "k8s-debug-mcp/expires-at=2020-01-01T00:00:00Z",
    )
    listing = data(await client.call_tool("list_pods", {"namespace": seeded.namespace}))
    notes = {p["name"]: p.get("note") for p in listing["pods"]}
    assert "expired" in notes[old["name"]]
    assert "cleanup can delete it" in notes[old["name"]]
    assert "expires in" in notes[fresh["name"]]
    res = data(await client.call_tool("cleanup", {"namespace": seeded.namespace, "expired_only": True}))
    assert res["deleted"] == [old["name"]]
    assert res["kept"] == [fresh["name"]]


async def test_a_copy_with_an_unpullable_image_fails_fast(client: Client, seeded: Seeded) -> None:
    res = await client.call_tool(
        "copy_pod",
        {
            "namespace": seeded.namespace,
            "pod": seeded.slim_pod,
            "image": "k8s-debug-mcp.local/does-not-exist:1",
            "dry_run": True,
        },
    )
    assert data(res)["server_dry_run"].startswith("accepted")


async def test_cleanup_says_which_debuggers_of_ours_stay_in_pods(client: Client, seeded: Seeded) -> None:
    ns = seeded.namespace
    added = data(await client.call_tool("add_debug_container", {"namespace": ns, "pod": seeded.slim_pod}))
    stuck = await client.call_tool(
        "add_debug_container",
        {"namespace": ns, "pod": seeded.slim_pod, "image": "busybox:9.99-missing", "timeout_seconds": 5},
    )
    res = await client.call_tool("cleanup", {"namespace": ns})
    sc = data(res)
    assert sc["deleted"] == []
    mine = [d for d in sc["debuggers"] if d.startswith(f"{seeded.slim_pod}/")]
    assert any(d.startswith(f"{seeded.slim_pod}/{added['container']}: running, sleeper ends in") for d in mine), mine
    if stuck.is_error and "cannot start" in text(stuck):
        assert any("stuck:" in d for d in mine), mine
    assert "can never be removed" in text(res)


async def test_bad_options_get_one_clear_line_each(client: Client, seeded: Seeded) -> None:
    args = {"namespace": seeded.namespace, "pod": seeded.slim_pod}
    tty = await client.call_tool("copy_pod", {**args, "options": {"tty": True}})
    assert tty.is_error
    assert text(tty).endswith(
        "Invalid arguments for copy_pod: options: tty requires stdin (as with kubectl debug -t without -i)."
    )
    unknown = await client.call_tool("copy_pod", {**args, "options": {"bogus": 1, "name": "Bad_Name"}})
    assert unknown.is_error
    assert "options.bogus: unknown argument" in text(unknown)
    assert "options.name: must be a DNS-1123 label" in text(unknown)
    replace = await client.call_tool("copy_pod", {**args, "options": {"replace": True}})
    assert replace.is_error
    assert "refused by policy setting 'allow_replace'" in text(replace)
    no_debugger = await client.call_tool("copy_pod", {**args, "add_debugger": False, "env": {"A": "1"}})
    assert no_debugger.is_error
    assert "env configure a debugger, and this copy has none" in text(no_debugger)
