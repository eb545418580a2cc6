"""The diagnose corpus really breaks the way it says: every case deployed on the test cluster
(one namespace each, all at once), each failure observed as its `manifested` checks describe.

This verifies the corpus, not the diagnose tool. The well-formedness test needs no cluster.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import Client

from k8s_debug_mcp.server import build_server
from tests.conftest import Kube, server_settings
from tests.corpus.cases import BY_NAME, CASES, LOCAL_IMAGES, Case
from tests.corpus.runner import Run, create_namespace, deploy, describe_state, wait_all_manifested
from tests.mcp.util import data, text

# Crash loops need restartCount >= 2 (back-off 10 s + 20 s, plus up to 50% sync jitter), the
# broken rollout a healthy revision first; all cases wait together.
CORPUS_WAIT_S = 180

ISSUE_CASES = {
    "config-error",
    "oom-killed",
    "missing-configmap-volume",
    "missing-secret-key",
    "bad-command",
    "liveness-probe",
    "readiness-wrong-port",
    "image-never-pull",
    "unschedulable-resources",
    "job-backoff-limit",
    "init-container-fails",
    "broken-rollout",
    "quota-blocks-pods",
    "pending-pvc",
    "go-panic",
    "healthy-with-failing-siblings",
}


def containers_of(manifest: dict[str, object]) -> list[dict[str, object]]:
    spec = json.loads(json.dumps(manifest)).get("spec", {})
    pod = spec.get("template", {}).get("spec", {})
    return [*pod.get("initContainers", []), *pod.get("containers", [])]


def test_the_corpus_is_well_formed() -> None:
    assert len(CASES) >= 16
    assert len(BY_NAME) == len(CASES), "case names must be unique"
    assert set(BY_NAME) >= ISSUE_CASES
    assert sum(c.real_node for c in CASES) >= len(CASES) * 3 // 4
    for case in CASES:
        assert case.name.replace("-", "").isalnum(), case.name
        assert 1 <= len(case.must_mention) <= 3, case.name
        assert all(m.strip() for m in case.must_mention), case.name
        assert case.stages, case.name
        assert case.manifested, case.name
        assert case.root_cause, case.name
        assert case.summary, case.name
        manifests = [m for stage in case.stages for m in stage.manifests]
        json.dumps(manifests)  # JSON-able, as kubectl apply gets them
        kind, name = case.target.split("/")
        assert any(m["kind"] == kind and m["metadata"]["name"] == name for m in manifests), case.target
        for m in manifests:
            assert "namespace" not in m["metadata"], f"{case.name}: the runner picks the namespace"
            for c in containers_of(m):
                assert c["imagePullPolicy"] == "Never", f"{case.name}: {c['name']}"
                assert c["image"] in LOCAL_IMAGES or case.name in ("image-never-pull", "healthy-with-failing-siblings")


@pytest.fixture(scope="module")
def corpus(kube: Kube, real_node: str) -> Iterator[dict[str, Run]]:
    """Every case deployed in its own namespace, waited for together (one poll for all)."""
    runs: list[Run] = []
    try:
        for case in CASES:
            runs.append(deploy(kube, create_namespace(kube, case.name), case))
        wait_all_manifested(kube, runs, CORPUS_WAIT_S)
        for run in runs:  # shown with pytest -s: how long each took and what it looked like
            print(f"{run.case.name:32} {run.manifested_after or '-':>6}s  {run.observed or run.pending}")
        yield {r.case.name: r for r in runs}
    finally:
        for run in runs:
            kube.run("delete", "namespace", run.namespace, "--wait=false", check=False)


@pytest.mark.cluster
@pytest.mark.realnode
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_failure_manifests_as_described(kube: Kube, corpus: dict[str, Run], case: Case) -> None:
    run = corpus[case.name]
    assert run.manifested, (
        f"{case.name} did not manifest within {CORPUS_WAIT_S}s ({case.manifested_description}): "
        f"{describe_state(kube, run)}"
    )


# -- diagnose on the corpus: the root cause in the first finding, in one call -------------------------

TEXT_BUDGET = 1536


def first_finding_text(structured: dict[str, object]) -> str:
    findings = structured.get("findings")
    assert isinstance(findings, list), structured
    assert findings, structured
    first = findings[0]
    assert isinstance(first, dict)
    return " ".join(str(first.get(k) or "") for k in ("title", "evidence", "excerpt", "next_step"))


@pytest.mark.cluster
@pytest.mark.realnode
@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_diagnose_names_the_root_cause_first_in_one_call(
    kube: Kube, kubeconfig: str, corpus: dict[str, Run], case: Case, tmp_path: Path
) -> None:
    run = corpus[case.name]
    if not run.manifested:
        pytest.fail(f"{case.name} did not manifest; see test_the_failure_manifests_as_described", pytrace=False)
    async with Client(build_server(server_settings(kubeconfig, tmp_path / "audit.jsonl"))) as client:
        res = await client.call_tool("diagnose", {"namespace": run.namespace, "name": case.target.split("/")[1]})
    assert not res.is_error, text(res)
    body = text(res)
    first = first_finding_text(data(res)).lower()
    missing = [m for m in case.must_mention if m.lower() not in first]
    print(f"{case.name:32} calls=1 bytes={len(body.encode()):5} {'ok' if not missing else 'MISSING ' + str(missing)}")
    assert not missing, f"{case.name}: the first finding does not name {missing} ({case.root_cause}):\n{body}"
    assert len(body.encode()) <= TEXT_BUDGET, f"{case.name}: {len(body.encode())} bytes:\n{body}"
