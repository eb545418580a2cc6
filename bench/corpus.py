"""The diagnose corpus as a benchmark: `.venv/bin/python -m bench.corpus` (the playground cluster with
its real node must be up: `scripts/cluster up`).

Deploys every case of tests/corpus/cases.py in its own namespace, waits until each failure has
manifested, then asks `diagnose` once per case through an in-memory MCP client and records
whether the first finding names the root cause (the case's `must_mention`), the calls needed
(always one: the question is answered or not) and the bytes of text the model reads. Prints a
Markdown table and writes bench/results/corpus.json; the namespaces are deleted afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from k8s_debug_mcp.server import Settings, build_server
from k8s_debug_mcp.tools.policy import Policy
from tests.conftest import Kube
from tests.corpus.cases import CASES
from tests.corpus.runner import Run, create_namespace, deploy, wait_all_manifested

ROOT = Path(__file__).resolve().parents[1]
WAIT_S = 240


def kubeconfig() -> str:
    out = subprocess.run([str(ROOT / "scripts/cluster"), "kubeconfig"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


async def ask(path: str, runs: list[Run], audit: str) -> list[dict[str, Any]]:
    settings = Settings(kubeconfig=path, audit_log=audit, policy=Policy(confirm=False))
    rows: list[dict[str, Any]] = []
    async with Client(build_server(settings)) as client:
        for run in runs:
            started = time.perf_counter()
            res = await client.call_tool(
                "diagnose", {"namespace": run.namespace, "name": run.case.target.split("/")[1]}
            )
            elapsed = time.perf_counter() - started
            body = "".join(getattr(b, "text", "") for b in res.content)
            findings = (res.structured_content or {}).get("findings") or [{}]
            first = " ".join(str(findings[0].get(k) or "") for k in ("title", "evidence", "excerpt", "next_step"))
            missing = [m for m in run.case.must_mention if m.lower() not in first.lower()]
            rows.append(
                {
                    "case": run.case.name,
                    "manifested": run.manifested,
                    "calls": 1,
                    "bytes": len(body.encode()),
                    "ms": round(elapsed * 1000, 1),
                    "root_cause_first": run.manifested and not res.is_error and not missing,
                    "missing": missing,
                }
            )
    return rows


def main() -> int:
    path = kubeconfig()
    kube = Kube(path)
    runs: list[Run] = []
    try:
        for case in CASES:
            runs.append(deploy(kube, create_namespace(kube, case.name), case))
        wait_all_manifested(kube, runs, WAIT_S)
        with tempfile.TemporaryDirectory() as tmp:
            rows = anyio.run(ask, path, runs, f"{tmp}/audit.jsonl")
    finally:
        for run in runs:
            kube.run("delete", "namespace", run.namespace, "--wait=false", check=False)
    score = sum(r["root_cause_first"] for r in rows)
    print("| case | root cause first | calls | bytes | ms |\n|---|---|---|---|---|")
    for r in rows:
        verdict = "yes" if r["root_cause_first"] else f"no {r['missing']}" if r["manifested"] else "did not manifest"
        print(f"| {r['case']} | {verdict} | {r['calls']} | {r['bytes']} | {r['ms']} |")
    total = sum(r["bytes"] for r in rows)
    print(f"\nscore {score}/{len(rows)}; text bytes: max {max(r['bytes'] for r in rows)}, total {total}")
    out = ROOT / "bench" / "results" / "corpus.json"
    out.write_text(json.dumps({"when": time.strftime("%Y-%m-%d"), "score": score, "cases": rows}, indent=1) + "\n")
    return 0 if score == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
