"""The official MCP conformance suite (npm @modelcontextprotocol/conformance) drives the installed
server over streamable HTTP in both protocol eras: every server scenario the suite runs for a
revision (`server --requirements ERA`) runs here. The checks that need the suite's own fixture
tools, prompts and resources (`test_*`), or capabilities this server does not offer, are listed in
conformance-expected-failures.txt; any other failure fails the test, and so does a listed failure
that passes. The suite has no stdio target (docs/testing.md): its fixture-independent protocol
checks are replayed here over stdio with raw JSON-RPC, and the Inspector CLI (test_inspector.py)
drives stdio as an independent client.

No cluster is needed: the server starts, lists and refuses without one.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest

from tests.conftest import ROOT
from tests.mcp.test_transports import serving_http

EXPECTED_FILE = Path(__file__).with_name("conformance-expected-failures.txt")
ERAS = ("2025-11-25", "2026-07-28")
# The scenarios that apply to any server (no fixtures): each must run and show a real pass, and may
# not be waved through as a whole by the expected-failure file.
CORE = {
    "2025-11-25": {
        "server-initialize",
        "ping",
        "tools-list",
        "resources-list",
        "prompts-list",
        "server-sse-multiple-streams",
        "dns-rebinding-protection",
        "server-session-lifecycle",
    },
    "2026-07-28": {
        "server-stateless",
        "tools-list",
        "resources-list",
        "prompts-list",
        "server-sse-multiple-streams",
        "sep-2164-resource-not-found",
        "dns-rebinding-protection",
        "caching",
        "http-header-validation",
        "input-required-result-unsupported-methods",
    },
}
_RESULT_DIR = re.compile(r"^server-(?P<scenario>.+)-\d{4}-\d\d-\d\dT[\d-]+Z$")


@dataclass(frozen=True)
class Check:
    id: str
    status: str  # SUCCESS, FAILURE, WARNING, INFO or SKIPPED (the suite counts only FAILURE as failed)
    message: str = ""


@dataclass(frozen=True)
class Entry:
    """One line of the expected-failure file."""

    era: str
    scenario: str
    expect: Literal["fail", "hollow"]  # fail: the check fails; hollow: it passes but proves nothing
    check: str  # a check id, or * for every check of the scenario
    reason: str
    line: int


def parse_expected(text: str) -> list[Entry]:
    """`era scenario fail|hollow check reason...` per line; # starts a comment."""
    entries: list[Entry] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 4)
        if len(parts) < 5 or parts[0] not in ERAS or parts[2] not in ("fail", "hollow"):
            raise ValueError(f"{EXPECTED_FILE.name}:{number}: want 'era scenario fail|hollow check reason': {raw!r}")
        era, scenario, expect, check, reason = parts
        entries.append(Entry(era, scenario, "fail" if expect == "fail" else "hollow", check, reason, number))
    return entries


def judge(era: str, ran: dict[str, list[Check]], entries: Iterable[Entry]) -> list[str]:
    """What is wrong with one era's run: an unlisted failure, a listed failure that passes, an entry
    for a scenario or check that did not run, a core scenario missing, waved through or without a
    real pass. Empty when the run matches the list."""
    mine = [e for e in entries if e.era == era]
    problems: list[str] = []
    for e in mine:
        checks = ran.get(e.scenario)
        if checks is None:
            problems.append(f"line {e.line}: {e.scenario} did not run in {era}; update the entry")
            continue
        failing = {c.id for c in checks if c.status == "FAILURE"}
        if e.check != "*" and e.check not in {c.id for c in checks}:
            problems.append(f"line {e.line}: {e.scenario} has no check {e.check} in {era}; update the entry")
        elif e.expect == "fail" and not (failing if e.check == "*" else failing & {e.check}):
            problems.append(f"line {e.line}: {e.scenario} {e.check} passes now in {era}; remove it from the list")
    for scenario, checks in sorted(ran.items()):
        allowed = {e.check for e in mine if e.scenario == scenario and e.expect == "fail"}
        for c in checks:
            if c.status == "FAILURE" and c.id not in allowed and "*" not in allowed:
                problems.append(f"{scenario}: {c.id} fails in {era}: {c.message[:300]}")
    for scenario in sorted(CORE[era]):
        if scenario not in ran:
            problems.append(f"core scenario {scenario} did not run in {era}")
        elif any(e.scenario == scenario and e.check == "*" for e in mine):
            problems.append(f"core scenario {scenario} may not be listed as a whole ({era})")
        elif not any(c.status == "SUCCESS" and c.id != "wire-schema-valid" for c in ran[scenario]):
            problems.append(f"core scenario {scenario} passed no check of its own in {era}")
    return problems


def read_results(out: Path) -> dict[str, list[Check]]:
    """The suite writes one `server-<scenario>-<timestamp>/checks.json` per scenario."""
    ran: dict[str, list[Check]] = {}
    for folder in sorted(out.iterdir()):
        match = _RESULT_DIR.match(folder.name)
        if match is None or not (folder / "checks.json").is_file():
            continue
        ran[match["scenario"]] = [
            Check(str(c["id"]), str(c["status"]), str(c.get("errorMessage") or ""))
            for c in json.loads((folder / "checks.json").read_text())
        ]
    return ran


def listed_scenarios(suite: list[str], era: str) -> set[str]:
    """The server scenarios `conformance list --server --requirements ERA` names, scored or not."""
    proc = subprocess.run(
        [*suite, "list", "--server", "--requirements", era], capture_output=True, text=True, timeout=60, check=True
    )
    names: set[str] = set()
    section = ""
    for line in proc.stdout.splitlines():
        if line.strip().endswith(":") and not line.startswith("  "):
            section = line
        item = re.match(r"^\s+- (\S+)(?: \[(\w+)\])?$", line)
        if item and (section.startswith("Server scenarios") or item[2] == "server"):
            names.add(item[1])
    return names


@pytest.fixture(scope="session")
def suite() -> list[str]:
    proc = subprocess.run(
        [str(ROOT / "scripts" / "install-interop"), "conformance"], capture_output=True, text=True, timeout=900
    )
    if proc.returncode != 0:
        if os.environ.get("CI", "").lower() in ("1", "true"):
            pytest.fail(f"cannot install the conformance suite: {proc.stderr[-2000:]}", pytrace=False)
        pytest.skip("MCP conformance suite not installable here (npm)")
    folder = Path(proc.stdout.strip().splitlines()[-1])
    return [str(folder / "node_modules/.bin/node"), str(folder / "node_modules/.bin/conformance")]


@pytest.mark.parametrize("era", ERAS)
def test_the_conformance_suite_passes_over_streamable_http_but_for_the_listed_checks(
    suite: list[str], era: str, tmp_path: Path
) -> None:
    entries = parse_expected(EXPECTED_FILE.read_text())
    out = tmp_path / "results"
    with serving_http(str(tmp_path / "no-kubeconfig"), tmp_path, XDG_STATE_HOME=str(tmp_path)) as url:
        proc = subprocess.run(
            [*suite, "server", "--url", url, "--requirements", era, "-o", str(out)],
            capture_output=True,
            text=True,
            timeout=240,  # ~5 s here; each scenario has the suite's own 30 s limit
        )
    ran = read_results(out) if out.is_dir() else {}
    assert ran, f"the suite ran nothing (exit {proc.returncode}): {proc.stderr[-2000:]}{proc.stdout[-2000:]}"
    listed = listed_scenarios(suite, era)
    assert len(listed) >= len(CORE[era]), f"could not read the suite's scenario list for {era}: {listed}"
    missing = listed - ran.keys()
    assert not missing, f"scenarios the suite lists for {era} but did not run: {sorted(missing)}"
    problems = judge(era, ran, entries)
    assert not problems, f"{len(problems)} problem(s); results in {out}:\n" + "\n".join(problems)


def test_the_expected_failure_list_parses_and_names_each_check_once() -> None:
    entries = parse_expected(EXPECTED_FILE.read_text())
    keys = [(e.era, e.scenario, e.check) for e in entries]
    assert len(keys) == len(set(keys))
    assert {e.era for e in entries} == set(ERAS)


def test_the_judge_reports_unlisted_failures_listed_passes_and_stale_entries() -> None:
    ran = {
        "tools-list": [Check("tools-list", "SUCCESS")],
        "tools-call-image": [Check("tools-call-image", "FAILURE", "Unknown tool: test_image_content")],
        "ping": [Check("ping", "FAILURE", "Method not found")],
        "caching": [Check("sep-2549-ttl", "SUCCESS")],
    }
    entries = parse_expected(
        "2026-07-28 tools-call-image fail tools-call-image needs test_image_content\n"
        "2026-07-28 tools-list fail tools-list was broken once\n"
        "2026-07-28 gone-scenario fail * renamed by the suite\n"
        "# a comment\n"
        "2026-07-28 caching hollow no-such-check proves nothing\n"
    )
    problems = judge("2026-07-28", ran, entries)
    assert any(p.startswith("ping: ping fails") for p in problems)
    assert any("tools-list tools-list passes now" in p for p in problems)
    assert any("gone-scenario did not run" in p for p in problems)
    assert any("caching has no check no-such-check" in p for p in problems)
    assert any("core scenario server-stateless did not run" in p for p in problems)
    assert not any("tools-call-image" in p for p in problems)


def test_a_core_scenario_cannot_be_waved_through_as_a_whole() -> None:
    ran = {s: [Check(s, "SUCCESS")] for s in CORE["2025-11-25"]}
    assert judge("2025-11-25", ran, []) == []
    ran["tools-list"] = [Check("tools-list", "FAILURE", "boom")]
    entries = parse_expected("2025-11-25 tools-list fail * hides everything\n")
    assert judge("2025-11-25", ran, entries) == ["core scenario tools-list may not be listed as a whole (2025-11-25)"]


# --- stdio: the suite cannot reach it, so its fixture-independent protocol checks are replayed ---

ENVELOPE = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}
TOOL_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")  # tools-name-format


def over_stdio(tmp_path: Path, *requests: tuple[str, dict[str, Any] | None]) -> list[dict[str, Any]]:
    """Each request in turn (a notification when its params are None), one answer read per request."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "k8s_debug_mcp", "--kubeconfig", str(tmp_path / "no-kubeconfig")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "XDG_STATE_HOME": str(tmp_path), "K8S_DEBUG_MCP_LOG_LEVEL": "warning"},
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    answers: list[dict[str, Any]] = []
    try:
        for number, (method, params) in enumerate(requests, 1):
            if params is None:
                proc.stdin.write(json.dumps({"jsonrpc": "2.0", "method": method}) + "\n")
                proc.stdin.flush()
                continue
            proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": number, "method": method, "params": params}) + "\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
            assert line, f"the server closed stdout before answering {method}"
            answer = json.loads(line)
            assert answer["id"] == number, answer
            answers.append(answer)
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    return answers


def test_the_suites_stateless_checks_hold_over_stdio(tmp_path: Path) -> None:
    discover, no_meta, bad_version, tools, missing, ping, unknown_tool = over_stdio(
        tmp_path,
        ("server/discover", {"_meta": ENVELOPE}),
        ("tools/list", {}),
        ("tools/list", {"_meta": {**ENVELOPE, "io.modelcontextprotocol/protocolVersion": "v999.0.0"}}),
        ("tools/list", {"_meta": ENVELOPE}),
        ("resources/read", {"uri": "test://nonexistent-resource-for-conformance-testing", "_meta": ENVELOPE}),
        ("ping", {"_meta": ENVELOPE}),
        ("tools/call", {"name": "test_simple_text", "arguments": {}, "_meta": ENVELOPE}),
    )
    # server-stateless: discover answers with capabilities and identifies the server in _meta
    assert {"tools", "prompts", "resources"} <= discover["result"]["capabilities"].keys()
    assert discover["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "k8s-debug-mcp"
    assert no_meta["error"]["code"] == -32602
    assert bad_version["error"]["code"] == -32022
    assert bad_version["error"]["data"]["supported"] == ["2026-07-28"]
    assert ping["error"]["code"] == -32601  # removed in 2026-07-28
    # tools-list and caching
    assert tools["result"]["tools"]
    assert all(TOOL_NAME.match(t["name"]) for t in tools["result"]["tools"])
    assert tools["result"]["cacheScope"] in ("public", "private")
    assert isinstance(tools["result"]["ttlMs"], int)
    assert tools["result"]["ttlMs"] >= 0
    # sep-2164-resource-not-found, and an unknown tool is a protocol error too
    assert missing["error"]["code"] == -32602
    assert missing["error"]["data"]["uri"] == "test://nonexistent-resource-for-conformance-testing"
    assert unknown_tool["error"]["code"] == -32602


def test_the_suites_handshake_checks_hold_over_stdio(tmp_path: Path) -> None:
    hello = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "conformance", "version": "0"}}
    initialize, ping, tools, prompts, resources, missing = over_stdio(
        tmp_path,
        ("initialize", hello),
        ("notifications/initialized", None),
        ("ping", {}),
        ("tools/list", {}),
        ("prompts/list", {}),
        ("resources/list", {}),
        ("resources/read", {"uri": "test://nonexistent-resource-for-conformance-testing"}),
    )
    # server-initialize, ping, tools-list, prompts-list, resources-list
    assert initialize["result"]["protocolVersion"] == "2025-11-25"
    assert initialize["result"]["serverInfo"]["name"] == "k8s-debug-mcp"
    assert ping["result"] == {}
    assert all(TOOL_NAME.match(t["name"]) for t in tools["result"]["tools"])
    assert {p["name"] for p in prompts["result"]["prompts"]} >= {"investigate_crash"}
    assert resources["result"]["resources"] == []  # templates only
    assert missing["error"]["code"] == -32602
