"""Benchmarks: rerun with `.venv/bin/python -m bench.run` (starts the playground cluster if needed, and a
second KWOK-only cluster `bench` for 10,000 pods). Every figure below is measured in the same run:

- start-up: stdio spawn -> initialize answered, beside a bare `import mcp.server` in the same venv, in a
  venv holding only the runtime dependencies (what `uvx`/`pip install` gives users; the dev venv also
  has `rich`, which structlog imports when present); `--version` and `--help`;
- the tool list: model-visible bytes and the whole tools/list, ours (default and every opt-in feature on)
  beside the peers' (scripts/install-peers) and their start-up;
- per call, over stdio against the raw API calls each tool makes, interleaved: pod_status, pod_logs;
  exec `true` in a debugger;
- 10,000 pods: every page through list_pods against the same pages fetched raw; structuredContent
  against text for a page;
- on the real node: a 50 MB exec flood beside `kubectl exec`, progress notifications while a debugger
  starts.

Prints a Markdown report with each target and writes bench/results/latest.json.
Sample sizes: BENCH_STARTS (7), BENCH_CALLS (60), BENCH_PAGES_RUNS (3), BENCH_PODS (10000).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import anyio

from bench import calls, flood, peers, scale, startup
from bench.common import ROOT, cluster_up, kubectl
from k8s_debug_mcp.server.logs import configure_logging

N_START = int(os.environ.get("BENCH_STARTS", "7"))
N_CALLS = int(os.environ.get("BENCH_CALLS", "60"))
N_PAGES = int(os.environ.get("BENCH_PAGES_RUNS", "3"))
CACHE = Path(os.environ.get("K8S_DEBUG_MCP_CACHE", str(Path.home() / ".cache" / "k8s-debug-mcp")))


def runtime_python() -> str:
    """A venv with this checkout and only its locked runtime dependencies (no dev tools), cached by the
    lock's and the sources' hash."""
    digest = hashlib.sha256((ROOT / "constraints.txt").read_bytes())
    for path in sorted([*ROOT.glob("server/**/*.py"), *ROOT.glob("tools/**/*.py"), ROOT / "pyproject.toml"]):
        digest.update(path.read_bytes())
    venv = CACHE / f"bench-runtime-{digest.hexdigest()[:12]}"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-c", str(ROOT / "constraints.txt"), str(ROOT)], check=True
        )
    return str(python)


def kwok_slim(kubeconfig: str, namespace: str) -> str:
    kubectl(kubeconfig, "create", "namespace", namespace)
    kubectl(
        kubeconfig,
        "-n",
        namespace,
        "run",
        "slim",
        "--image=k8s-debug-mcp.local/slim-app:1",
        "--overrides",
        json.dumps(
            {
                "spec": {
                    "nodeSelector": {"type": "kwok"},
                    "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}],
                    "containers": [{"name": "app", "image": "k8s-debug-mcp.local/slim-app:1"}],
                }
            }
        ),
    )
    kubectl(kubeconfig, "-n", namespace, "wait", "--for=condition=Ready", "pod/slim", "--timeout=60s")
    return "slim"


def tool_lists(kubeconfig: str, python: str) -> dict[str, Any]:
    ours = [python, "-m", "k8s_debug_mcp", "--kubeconfig", kubeconfig]
    rows = peers.measure(kubeconfig, ours, N_START)
    env = {**os.environ, "K8S_DEBUG_MCP_NODE_DEBUGGING": "true", "K8S_DEBUG_MCP_ALLOWED_CONTEXTS": "staging-*"}
    rows["k8s-debug-mcp, every opt-in on"] = {**peers.sizes(peers.list_tools(ours, env)), "start": None}
    return rows


def verdicts(r: dict[str, Any]) -> list[tuple[str, str, bool]]:
    ours = r["tool_list"]["k8s-debug-mcp (this)"]
    return [
        ("model-visible tool bytes <= 8,192", f"{ours['model_visible_bytes']:,}", ours["model_visible_bytes"] <= 8192),
        ("tools/list <= 14,336", f"{ours['tools_list_bytes']:,}", ours["tools_list_bytes"] <= 14336),
        (
            "spawn -> initialized <= 1.1x bare import",
            f"{r['startup']['ratio_to_bare_import']}x",
            r["startup"]["ratio_to_bare_import"] <= 1.1,
        ),
        (
            "--version < 300 ms",
            f"{r['startup']['version']['median_ms']} ms",
            r["startup"]["version"]["median_ms"] < 300,
        ),
        ("--help < 300 ms", f"{r['startup']['help']['median_ms']} ms", r["startup"]["help"]["median_ms"] < 300),
        ("pod_status <= 1.5x raw", f"{r['calls']['pod_status']['ratio']}x", r["calls"]["pod_status"]["ratio"] <= 1.5),
        ("pod_logs <= 1.5x raw", f"{r['calls']['pod_logs']['ratio']}x", r["calls"]["pod_logs"]["ratio"] <= 1.5),
        ("10,000 pods, every page <= 1.2x raw", f"{r['scale']['ratio']}x", r["scale"]["ratio"] <= 1.2),
        (
            "list structuredContent <= 2x text",
            f"{r['scale']['structured_to_text']}x",
            r["scale"]["structured_to_text"] <= 2,
        ),
        (
            "50 MB exec flood cut < 1 s",
            f"{r['real_node']['exec_flood']['default cap']['ms']} ms",
            r["real_node"]["exec_flood"]["default cap"]["ms"] < 1000,
        ),
        (
            "progress seen during a debugger wait",
            str(r["real_node"]["progress"]["notifications"]),
            r["real_node"]["progress"]["notifications"] > 0,
        ),
    ]


def report(r: dict[str, Any]) -> str:
    lines = ["| target | measured | met |", "|---|---|---|"]
    lines += [f"| {what} | {value} | {'yes' if ok else 'NO'} |" for what, value, ok in verdicts(r)]
    lines += ["", "| server | tools | model-visible | tools/list | spawn -> initialized |", "|---|---|---|---|---|"]
    for name, row in r["tool_list"].items():
        start = f"{row['start']['median_ms']:.0f} ms" if row["start"] else "-"
        if name == "k8s-debug-mcp (this)":
            start = f"{r['startup']['spawn_to_initialized']['median_ms']:.0f} ms"
        lines.append(
            f"| {name} | {row['tools']} | {row['model_visible_bytes']:,} | {row['tools_list_bytes']:,} | {start} |"
        )
    s, c = r["startup"], r["calls"]
    lines += [
        "",
        f"bare `import mcp.server`: {s['bare_import_mcp_server']['median_ms']:.0f} ms; "
        f"CPU ratio {s['cpu_ratio_to_bare_import']}x",
        "",
        "| per call (median) | raw API calls | tool over stdio | ratio |",
        "|---|---|---|---|",
    ]
    for name in ("pod_status", "pod_logs"):
        lines.append(
            f"| {name} | {c[name]['raw']['median_ms']} ms | {c[name]['tool']['median_ms']} ms | {c[name]['ratio']}x |"
        )
    lines.append(f"| exec `true` (debugger) | - | {c['exec true (debugger)']['tool']['median_ms']} ms | - |")
    lines.append(f"| ping (the stdio round trip alone) | - | {c['ping']['tool']['median_ms']} ms | - |")
    sc = r["scale"]
    lines += [
        "",
        f"10,000 pods in pages of {sc['page']}: raw {sc['raw_all_pages']['median_ms']:.0f} ms, list_pods "
        f"{sc['list_pods_all_pages']['median_ms']:.0f} ms ({sc['ratio']}x); first page text "
        f"{sc['first_page_text_bytes']:,} B, structuredContent {sc['first_page_structured_bytes']:,} B; "
        f"problems_only over all pods {sc['problems_only_scan']['median_ms']:.0f} ms",
    ]
    fl = r["real_node"]["exec_flood"]
    lines.append(
        f"50 MB exec flood: {fl['default cap']['ms']} ms (default cap), {fl['4 KiB cap']['ms']} ms (4 KiB cap); "
        f"kubectl exec streaming all of it: {fl['kubectl exec, all 50 MB']['ms']} ms"
    )
    pr = r["real_node"]["progress"]
    lines.append(
        f"progress during a {pr['wait_ms']} ms debugger wait: {pr['notifications']} notifications {pr['messages']}"
    )
    return "\n".join(lines)


def main() -> None:
    configure_logging("warning")
    # The servers and bare imports run as `python -m` from here: without this, the checkout's
    # k8s_debug_mcp/ directory (package-dir stubs) would shadow the runtime venv's installed package.
    os.environ["PYTHONSAFEPATH"] = "1"
    kubeconfig = cluster_up()
    python = runtime_python()
    namespace = f"bench-{uuid.uuid4().hex[:6]}"
    result: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }
    try:
        pod = kwok_slim(kubeconfig, namespace)
        result["startup"] = startup.measure(kubeconfig, N_START, python=python)
        result["tool_list"] = tool_lists(kubeconfig, python)
        result["calls"] = anyio.run(calls.measure, kubeconfig, namespace, pod, N_CALLS)
    finally:
        kubectl(kubeconfig, "delete", "namespace", namespace, "--wait=false")
    result["real_node"] = flood.measure(kubeconfig)
    result["scale"] = scale.measure(N_PAGES)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(result, indent=2) + "\n")
    print(report(result))


if __name__ == "__main__":
    main()
