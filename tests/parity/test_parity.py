"""kubectl debug parity: every profile x mode x option, run with the real kubectl v1.36 and with our tools
on identical pods; what the API server stores must be the same, or differ exactly where docs/parity.md
says why.

Each case runs three times: our tool; the kubectl command a user would type for the same request
(written here by hand); and the kubectl command our tool printed, pasted as is. Ours must differ from
the hand-written one exactly by the case's `differs` (no more, no less), and the printed one must not
differ from it at all — so the printed command is runnable and truthful.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from tests.mcp.util import text
from tests.parity.conftest import (
    EVERY_PROFILE,
    IMAGE,
    KWOK_NODE,
    Obj,
    Parity,
    container_differences,
    differences,
    ephemeral,
    normalized_pod,
    source_pod,
    swap_tokens,
)

pytestmark = [pytest.mark.anyio, pytest.mark.cluster]

DOC = Path(__file__).resolve().parents[2] / "docs" / "parity.md"
CUSTOM = {"resources": {"limits": {"memory": "64Mi"}}, "env": [{"name": "FROM_CUSTOM", "value": "1"}]}
CUSTOM_EPHEMERAL = {"workingDir": "/tmp", "env": [{"name": "FROM_CUSTOM", "value": "1"}]}  # no resources there
PROBES = {f"containers/app/{p}" for p in ("livenessProbe", "readinessProbe", "startupProbe")}

NO_TRAFFIC = "no-traffic"
NO_PROBE_KILLS = "no-probe-kills"
ONE_COMMAND = "one-command-per-call"
LEGACY_KEEP = "legacy-ignores-keep"
KEEP_ALL = ["labels", "annotations", "liveness", "readiness", "startup"]
KEEP_FLAGS = [f"--keep-{k}" for k in KEEP_ALL] + ["--keep-init-containers=false"]
SLEEP = ["--", "sleep", "3600"]


@dataclass(frozen=True)
class Case:
    id: str
    mode: Literal["ephemeral", "copy", "node"]
    ours: dict[str, Any]
    kubectl: list[str]
    """kubectl debug flags and the `--` tail; {name} is our debugger's name, {custom} the custom file."""
    differs: dict[str, str] = field(default_factory=dict)
    """Where ours differs from kubectl -> the reason's id (a row of docs/parity.md)."""
    custom: Obj | None = None
    refused: str | None = None
    """Both must be refused by the API server with this message (no pod is stored by either)."""


def by_profile(p: str) -> list[Case]:
    image = f"--image={IMAGE}"
    legacy_keep = {"labels": LEGACY_KEEP, "initContainers/init": LEGACY_KEEP}
    return [
        Case(f"ephemeral-{p}", "ephemeral", {"profile": p}, [image, "-c", "{name}", f"--profile={p}", *SLEEP]),
        Case(f"copy-{p}", "copy", {"profile": p}, [image, "-c", "{name}", f"--profile={p}", *SLEEP]),
        Case(
            f"copy-{p}-c-naming-a-container",
            "copy",
            {"profile": p, "image": IMAGE, "options": {"name": "app"}},
            [image, "-c", "app", f"--profile={p}", *SLEEP],
            # app keeps its allowPrivilegeEscalation: false, which the API refuses next to privileged: true
            refused="cannot set `allowPrivilegeEscalation` to false" if p == "sysadmin" else None,
        ),
        Case(
            f"copy-{p}-keep-all-but-init",
            "copy",
            {"profile": p, "keep": KEEP_ALL},
            [image, "-c", "{name}", f"--profile={p}", *KEEP_FLAGS, *SLEEP],
            differs=legacy_keep if p == "legacy" else {},
        ),
        Case(f"node-{p}", "node", {"profile": p}, [image, f"--profile={p}", *SLEEP]),
    ]


def by_option() -> list[Case]:
    image = f"--image={IMAGE}"
    return [
        Case(
            "ephemeral-target-env-pull-stdin-tty",
            "ephemeral",
            {"target": "app", "env": {"Z": "1", "A": "2"}, "image_pull_policy": "Never", "stdin": True, "tty": True},
            [
                image,
                "-c",
                "{name}",
                "--target=app",
                "--env=Z=1",
                "--env=A=2",
                "--image-pull-policy=Never",
                "-i",
                "--attach=false",
                "-t",
                *SLEEP,
            ],
        ),
        Case(
            "ephemeral-command-and-args",
            "ephemeral",
            {"command": ["sh", "-c"], "args": ["sleep 1d"], "name": "dbg"},
            [image, "-c", "dbg", "--", "sh", "-c", "sleep 1d"],
        ),
        Case(
            "ephemeral-arguments-only",
            "ephemeral",
            {"args": ["sleep", "100"]},
            [image, "-c", "{name}", "--arguments-only", "--", "sleep", "100"],
        ),
        Case(
            "ephemeral-custom",
            "ephemeral",
            {"custom": CUSTOM_EPHEMERAL, "profile": "netadmin"},
            [image, "-c", "{name}", "--profile=netadmin", "--custom={custom}", *SLEEP],
            custom=CUSTOM_EPHEMERAL,
        ),
        Case(
            "copy-set-image-only",
            "copy",
            {"set_image": {"*": IMAGE}, "add_debugger": False},
            [f"--set-image=*={IMAGE}"],
            differs={"labels": NO_TRAFFIC, **dict.fromkeys(PROBES, NO_PROBE_KILLS)},
        ),
        Case(
            "copy-set-image-and-debugger",
            "copy",
            {"set_image": {"app": IMAGE}},
            [f"--set-image=app={IMAGE}", image, "-c", "{name}", *SLEEP],
        ),
        Case(
            "copy-c-naming-a-container-command-only",
            "copy",
            {"options": {"name": "app", "command": ["sleep", "1000"]}, "profile": "baseline"},
            ["-c", "app", "--profile=baseline", "--", "sleep", "1000"],
        ),
        Case(
            "copy-c-naming-a-container-env",
            "copy",
            {"image": IMAGE, "env": {"X": "1"}, "options": {"name": "app"}},
            [image, "-c", "app", "--env=X=1", *SLEEP],
        ),
        Case(
            "copy-share-processes-false",
            "copy",
            {"share_processes": False},
            [image, "-c", "{name}", "--share-processes=false", *SLEEP],
        ),
        Case(
            "copy-legacy-share-processes-true",
            "copy",
            {"share_processes": True, "profile": "legacy"},
            [image, "-c", "{name}", "--profile=legacy", "--share-processes=true", *SLEEP],
        ),
        Case("copy-same-node", "copy", {"same_node": True}, [image, "-c", "{name}", "--same-node", *SLEEP]),
        Case(
            "copy-debugger-options",
            "copy",
            {
                "env": {"B": "2", "A": "1"},
                "options": {
                    "name": "dbg",
                    "command": ["sh", "-c"],
                    "args": ["sleep 1d"],
                    "image_pull_policy": "Never",
                    "stdin": True,
                    "tty": True,
                    "custom": CUSTOM,
                },
            },
            [
                image,
                "-c",
                "dbg",
                "--env=B=2",
                "--env=A=1",
                "--image-pull-policy=Never",
                "-i",
                "--attach=false",
                "-t",
                "--custom={custom}",
                "--",
                "sh",
                "-c",
                "sleep 1d",
            ],
            custom=CUSTOM,
        ),
        Case(
            "copy-arguments-only",
            "copy",
            {"options": {"args": ["sleep", "100"]}, "profile": "restricted"},
            [image, "-c", "{name}", "--profile=restricted", "--arguments-only", "--", "sleep", "100"],
        ),
        Case("copy-replace", "copy", {"options": {"replace": True}}, [image, "-c", "{name}", "--replace", *SLEEP]),
        Case(
            "copy-replace-command-beyond-kubectl",
            "copy",
            {"replace_command": {"app": ["sleep", "1000"]}},
            [image, "-c", "{name}", *SLEEP],
            differs={"containers/app/command": ONE_COMMAND, "containers/app/args": ONE_COMMAND},
        ),
        Case(
            "node-options",
            "node",
            {
                "options": {
                    "command": ["sh", "-c"],
                    "args": ["sleep 1d"],
                    "image_pull_policy": "Never",
                    "custom": CUSTOM,
                }
            },
            [image, "--image-pull-policy=Never", "--custom={custom}", "--", "sh", "-c", "sleep 1d"],
            custom=CUSTOM,
        ),
        Case(
            "node-arguments-only",
            "node",
            {"options": {"args": ["sleep", "100"]}, "profile": "sysadmin"},
            [image, "--profile=sysadmin", "--arguments-only", "--", "sleep", "100"],
        ),
    ]


def cases() -> list[Case]:
    return [c for p in EVERY_PROFILE for c in by_profile(p)] + by_option()


CASES = cases()


def _flags(case: Case, parity: Parity, name: str) -> list[str]:
    custom = parity.custom_file(case.custom) if case.custom else ""
    return [a.replace("{name}", name).replace("{custom}", custom) for a in case.kubectl]


def _sources(parity: Parity, *names: str) -> None:
    pods = [source_pod(n) for n in names]
    parity.kube.run(
        "create",
        "-n",
        parity.namespace,
        "-f",
        "-",
        stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": pods}),
    )

    def running() -> bool:
        return all(parity.get(n).get("status", {}).get("phase") == "Running" for n in names)

    parity.kube.wait_until(f"{', '.join(names)} running", running)


async def _ephemeral(parity: Parity, case: Case) -> tuple[set[str], set[str]]:
    _sources(parity, "src-ours", "src-kubectl", "src-printed")
    ours = await parity.call("add_debug_container", namespace=parity.namespace, pod="src-ours", **case.ours)
    name = ours["container"]
    parity.kubectl.run(["debug", "-n", parity.namespace, "src-kubectl", *_flags(case, parity, name)])
    parity.kubectl.shell(swap_tokens(ours["kubectl"], {"src-ours": "src-printed"}))
    mine, hand, printed = (ephemeral(parity.get(p), name) for p in ("src-ours", "src-kubectl", "src-printed"))
    return container_differences(mine, hand), container_differences(printed, hand)


async def _copy(parity: Parity, case: Case) -> tuple[set[str], set[str]]:
    replace = bool(case.ours.get("options", {}).get("replace"))
    sources = ("src-ours", "src-kubectl", "src-printed") if replace else ("src", "src", "src")
    _sources(parity, *dict.fromkeys(sources))
    ours_src, hand_src, printed_src = sources
    if case.refused:
        res = await parity.client.call_tool(
            "copy_pod", {"namespace": parity.namespace, "pod": ours_src, "name": "copy-ours", **case.ours}
        )
        assert res.is_error
        assert case.refused in text(res)
        said = parity.kubectl.fails(
            ["debug", "-n", parity.namespace, hand_src, "--copy-to=copy-kubectl", *_flags(case, parity, "")]
        )
        assert case.refused in said
        assert not parity.get("copy-ours")
        assert not parity.get("copy-kubectl")
        return set(), set()
    ours = await parity.call("copy_pod", namespace=parity.namespace, pod=ours_src, name="copy-ours", **case.ours)
    flags = _flags(case, parity, ours["debugger"] or "")
    parity.kubectl.run(["debug", "-n", parity.namespace, hand_src, "--copy-to=copy-kubectl", *flags])
    assert ours["kubectl"] is not None, ours["warnings"]
    parity.kubectl.shell(
        swap_tokens(ours["kubectl"], {ours_src: printed_src, "--copy-to=copy-ours": "--copy-to=copy-printed"})
    )
    if replace:
        parity.kube.wait_until("sources deleted", lambda: not any(parity.exists(s) for s in sources))
    keep_node = bool(case.ours.get("same_node"))
    mine, hand, printed = (
        normalized_pod(parity.get(p), keep_node=keep_node) for p in ("copy-ours", "copy-kubectl", "copy-printed")
    )
    for d in differences(mine, hand):
        assert any(
            d.split("/")[-1] in line or d in line for line in ours["warnings"] if line.startswith("unlike kubectl: ")
        ), (d, ours)
    return differences(mine, hand), differences(printed, hand)


_CREATED = re.compile(r"Creating debugging pod (\S+) with container")


async def _node(parity: Parity, case: Case) -> tuple[set[str], set[str]]:
    ours = await parity.call("debug_node", namespace=parity.namespace, node=KWOK_NODE, **case.ours)
    said = parity.kubectl.run(["debug", f"node/{KWOK_NODE}", "-n", parity.namespace, *_flags(case, parity, "")])
    printed_said = parity.kubectl.shell(ours["kubectl"])
    hand_name, printed_name = (_CREATED.search(s) for s in (said, printed_said))
    assert hand_name, said
    assert printed_name, printed_said
    mine, hand, printed = (
        normalized_pod(parity.get(p), keep_node=True) for p in (ours["name"], hand_name[1], printed_name[1])
    )
    return differences(mine, hand), differences(printed, hand)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_we_store_what_kubectl_stores_or_differ_where_the_table_says(parity: Parity, case: Case) -> None:
    run = {"ephemeral": _ephemeral, "copy": _copy, "node": _node}[case.mode]
    ours_vs_kubectl, printed_vs_kubectl = await run(parity, case)
    assert ours_vs_kubectl == set(case.differs)
    assert printed_vs_kubectl == set()


def test_every_case_and_every_reason_is_in_the_table() -> None:
    table = DOC.read_text()
    for case in CASES:
        assert f"`{case.id}`" in table, case.id
        for reason in case.differs.values():
            assert f"`{reason}`" in table, (case.id, reason)
