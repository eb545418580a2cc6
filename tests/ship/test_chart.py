"""The Helm chart: `helm lint` passes, and `helm template` renders exactly the RBAC of each
preset, a hardened Deployment with unauthenticated probes and a separate metrics port, and the
playground's overrides only when asked for."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
import yaml

from tests.ship.conftest import BUILD_TIMEOUT_S, CHART, PLAYGROUND_VALUES

# The first test builds helm (minutes on a cold machine): the build's time, not the default 300 s.
pytestmark = [pytest.mark.chart, pytest.mark.timeout(BUILD_TIMEOUT_S)]

READ_ONLY_RULES = [
    {"apiGroups": [""], "resources": ["pods", "pods/log", "events"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]},
    {
        "apiGroups": ["apps"],
        "resources": ["deployments", "replicasets", "statefulsets", "daemonsets"],
        "verbs": ["get", "list", "watch"],
    },
    {"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": ["get", "list", "watch"]},
]
DEBUGGER_RULES = [
    *READ_ONLY_RULES,
    {"apiGroups": [""], "resources": ["pods/ephemeralcontainers"], "verbs": ["patch"]},
    {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create", "get"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "delete"]},
]


def template(helm: str, *args: str, namespace: str = "tools", check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [helm, "template", "mcp", str(CHART), "--namespace", namespace, *args],
        capture_output=True,
        text=True,
        check=check,
        timeout=60,
    )


def render(helm: str, *args: str, namespace: str = "tools") -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(template(helm, *args, namespace=namespace).stdout) if doc]


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [d for d in docs if d["kind"] == kind]
    return found


def container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    spec = one(docs, "Deployment")["spec"]["template"]["spec"]
    (c,) = spec["containers"]
    return c  # type: ignore[no-any-return]


@pytest.mark.parametrize("values", [[], ["-f", str(PLAYGROUND_VALUES), "--set", "apiServerOverride.port=6443"]])
def test_helm_lint_is_clean(helm: str, values: list[str]) -> None:
    proc = subprocess.run([helm, "lint", "--strict", str(CHART), *values], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in proc.stdout


def test_read_only_preset_grants_exactly_the_read_rules_in_the_release_namespace(helm: str) -> None:
    docs = render(helm)
    role = one(docs, "Role")
    assert role["metadata"]["namespace"] == "tools"
    assert role["rules"] == READ_ONLY_RULES
    binding = one(docs, "RoleBinding")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "mcp-k8s-debug-mcp"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "mcp-k8s-debug-mcp", "namespace": "tools"}]
    assert not [d for d in docs if d["kind"].startswith("Cluster")]
    assert "--allow-namespaces=tools" in container(docs)["args"]  # policy agrees with RBAC


def test_debugger_preset_adds_ephemeral_containers_exec_and_pod_copies(helm: str) -> None:
    assert one(render(helm, "--set", "rbac.preset=debugger"), "Role")["rules"] == DEBUGGER_RULES


def test_namespace_scope_makes_a_role_and_binding_per_listed_namespace(helm: str) -> None:
    docs = render(helm, "--set", "rbac.preset=debugger", "--set", "rbac.namespaces={team-a,team-b}")
    roles = [d for d in docs if d["kind"] == "Role"]
    bindings = [d for d in docs if d["kind"] == "RoleBinding"]
    assert sorted(r["metadata"]["namespace"] for r in roles) == ["team-a", "team-b"]
    assert sorted(b["metadata"]["namespace"] for b in bindings) == ["team-a", "team-b"]
    assert all(r["rules"] == DEBUGGER_RULES for r in roles)
    assert all(b["subjects"][0]["namespace"] == "tools" for b in bindings)  # the SA stays in the release ns
    assert "--allow-namespaces=team-a,team-b" in container(docs)["args"]


@pytest.mark.parametrize(("preset", "rules"), [("read-only", READ_ONLY_RULES), ("debugger", DEBUGGER_RULES)])
def test_cluster_scope_makes_one_cluster_role_named_after_the_release_namespace(
    helm: str, preset: str, rules: list[dict[str, Any]]
) -> None:
    docs = render(helm, "--set", "rbac.scope=cluster", "--set", f"rbac.preset={preset}")
    role = one(docs, "ClusterRole")
    assert role["metadata"]["name"] == "tools-mcp-k8s-debug-mcp"
    assert role["rules"] == rules
    binding = one(docs, "ClusterRoleBinding")
    assert binding["roleRef"]["name"] == "tools-mcp-k8s-debug-mcp"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "mcp-k8s-debug-mcp", "namespace": "tools"}]
    assert not [d for d in docs if d["kind"] in ("Role", "RoleBinding")]
    assert not [a for a in container(docs)["args"] if a.startswith("--allow-namespaces")]


def test_an_unknown_preset_or_scope_fails_the_render(helm: str) -> None:
    bad = template(helm, "--set", "rbac.preset=admin", check=False)
    assert bad.returncode != 0
    assert "rbac.preset must be read-only, debugger or team" in bad.stderr
    assert "rbac.scope must be namespace or cluster" in template(helm, "--set", "rbac.scope=x", check=False).stderr


def test_the_deployment_is_hardened(helm: str) -> None:
    docs = render(helm)
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    c = container(docs)
    assert c["securityContext"] == {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert pod["automountServiceAccountToken"] is True  # --in-cluster needs it
    assert one(docs, "ServiceAccount")["automountServiceAccountToken"] is False  # nobody else's pods
    assert pod["enableServiceLinks"] is False
    assert "hostNetwork" not in pod
    mounts = {m["mountPath"] for m in c["volumeMounts"]}
    assert mounts == {
        "/tmp",
        "/var/lib/k8s-debug-mcp",
        "/var/run/secrets/k8s-debug-mcp",
        "/var/run/secrets/k8s-debug-mcp-owner",
    }
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert env["K8S_DEBUG_MCP_OWNER_KEY_FILE"] == "/var/run/secrets/k8s-debug-mcp-owner/key"
    assert c["imagePullPolicy"] == "IfNotPresent"
    assert c["image"] == "ghcr.io/k8s-debug-mcp/k8s-debug-mcp:0.1.0"


def test_probes_use_the_unauthenticated_endpoints_and_metrics_have_their_own_port(helm: str) -> None:
    docs = render(helm)
    c = container(docs)
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"http": 8000, "metrics": 9090}
    args = c["args"]
    assert {"--in-cluster", "--transport=streamable-http", "--host=0.0.0.0", "--metrics-port=9090"} <= set(args)
    assert "--http-token-file=/var/run/secrets/k8s-debug-mcp/token" in args
    service = one(docs, "Service")
    assert {p["name"]: (p["port"], p["targetPort"]) for p in service["spec"]["ports"]} == {
        "http": (8000, "http"),
        "metrics": (9090, "metrics"),
    }
    assert not [d for d in docs if d["kind"] in ("ServiceMonitor", "NetworkPolicy")]


def test_the_token_and_the_owner_key_come_from_generated_secrets_or_existing_ones(helm: str) -> None:
    docs = render(helm)
    secrets = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Secret"}
    assert len(secrets["mcp-k8s-debug-mcp-token"]["data"]["token"]) >= 64  # base64 of 48 random characters
    assert len(secrets["mcp-k8s-debug-mcp-owner-key"]["data"]["key"]) >= 64  # base64 of 64 random characters
    mine = render(
        helm,
        "--set",
        "auth.existingSecret=my-token",
        "--set",
        "auth.existingSecretKey=value",
        "--set",
        "ownerKey.existingSecret=my-key",
    )
    assert not [d for d in mine if d["kind"] == "Secret"]
    volumes = one(mine, "Deployment")["spec"]["template"]["spec"]["volumes"]
    token = next(v for v in volumes if v["name"] == "token")
    assert token["secret"]["secretName"] == "my-token"
    assert token["secret"]["items"] == [{"key": "value", "path": "token"}]


def test_metrics_port_is_a_value_and_the_service_monitor_is_optional(helm: str) -> None:
    docs = render(helm, "--set", "metrics.port=9191", "--set", "metrics.serviceMonitor.enabled=true")
    assert "--metrics-port=9191" in container(docs)["args"]
    monitor = one(docs, "ServiceMonitor")
    assert monitor["spec"]["endpoints"] == [
        {"port": "metrics", "path": "/metrics", "interval": "30s", "scrapeTimeout": "10s"}
    ]
    off = render(helm, "--set", "metrics.enabled=false")
    assert not [a for a in container(off)["args"] if a.startswith("--metrics-port")]
    assert [p["name"] for p in one(off, "Service")["spec"]["ports"]] == ["http"]


def test_the_network_policy_is_optional_and_limits_egress_to_dns_and_the_api_server(helm: str) -> None:
    docs = render(
        helm,
        "--set",
        "networkPolicy.enabled=true",
        "--set",
        "networkPolicy.egress.enabled=true",
        "--set",
        "networkPolicy.egress.apiServer.cidrs={10.0.0.1/32}",
    )
    policy = one(docs, "NetworkPolicy")["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert policy["ingress"][0] == {"ports": [{"port": "http", "protocol": "TCP"}], "from": [{"podSelector": {}}]}
    assert policy["egress"][1]["to"] == [{"ipBlock": {"cidr": "10.0.0.1/32"}}]


def test_playground_values_are_host_network_and_loopback_only_when_asked_for(helm: str) -> None:
    docs = render(helm, "-f", str(PLAYGROUND_VALUES), "--set", "apiServerOverride.port=32764")
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    c = container(docs)
    assert pod["hostNetwork"] is True
    assert one(docs, "Deployment")["spec"]["strategy"] == {"type": "Recreate"}
    assert {e["name"]: e["value"] for e in c["env"]} == {
        "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        "KUBERNETES_SERVICE_PORT": "32764",
        "K8S_DEBUG_MCP_OWNER_KEY_FILE": "/var/run/secrets/k8s-debug-mcp-owner/key",
    }
    assert "--host=127.0.0.1" in c["args"]
    assert c["imagePullPolicy"] == "Never"
    assert pod["nodeSelector"] == {"type": "real"}
    default_env = {e["name"] for e in container(render(helm)).get("env") or []}
    assert default_env == {"K8S_DEBUG_MCP_OWNER_KEY_FILE"}  # no playground override by default


SA_EXTRAS = [
    f"userextras/authentication.kubernetes.io/{key}"
    for key in ("credential-id", "node-name", "node-uid", "pod-name", "pod-uid")
]


def test_team_preset_grants_only_token_reviews_impersonation_and_the_plan_ledger(helm: str) -> None:
    docs = render(helm, "--set", "rbac.preset=team")
    kinds = sorted(d["kind"] for d in docs)
    assert kinds.count("ClusterRoleBinding") == 2
    delegator = next(d for d in docs if d["kind"] == "ClusterRoleBinding" and "auth-delegator" in d["metadata"]["name"])
    assert delegator["roleRef"]["name"] == "system:auth-delegator"  # create tokenreviews (and subjectaccessreviews)
    assert delegator["subjects"] == [{"kind": "ServiceAccount", "name": "mcp-k8s-debug-mcp", "namespace": "tools"}]
    impersonate = one(docs, "ClusterRole")
    assert impersonate["metadata"]["name"] == "tools-mcp-k8s-debug-mcp-impersonate"
    assert impersonate["rules"] == [
        {"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"]},
        {"apiGroups": [""], "resources": ["groups"], "verbs": ["impersonate"]},
        {"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["impersonate"]},
        {"apiGroups": ["authentication.k8s.io"], "resources": ["uids"], "verbs": ["impersonate"]},
        {"apiGroups": ["authentication.k8s.io"], "resources": SA_EXTRAS, "verbs": ["impersonate"]},
    ]
    ledger = one(docs, "Role")  # nothing on pods: every pod operation is the caller's
    assert ledger["metadata"]["namespace"] == "tools"
    assert ledger["rules"] == [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create", "get", "list", "patch", "delete"]}
    ]
    args = container(docs)["args"]
    assert {
        "--http-auth=tokenreview",
        "--token-audience=k8s-debug-mcp",
        "--public-url=http://mcp-k8s-debug-mcp.tools.svc:8000/mcp",
        "--http-stateless",
        "--plan-ledger=cluster",
        "--plan-ledger-namespace=tools",
    } <= set(args)
    assert not [a for a in args if a.startswith(("--http-token-file", "--allow-namespaces"))]
    assert [d["metadata"]["name"] for d in docs if d["kind"] == "Secret"] == ["mcp-k8s-debug-mcp-owner-key"]
    volumes = {v["name"] for v in one(docs, "Deployment")["spec"]["template"]["spec"]["volumes"]}
    assert "token" not in volumes


def test_team_preset_can_limit_whom_the_server_impersonates(helm: str) -> None:
    docs = render(
        helm,
        "--set",
        "rbac.preset=team",
        "--set",
        "team.impersonate.users={alice@example.com}",
        "--set",
        "team.impersonate.groups={oncall,system:serviceaccounts}",
        "--set",
        "team.impersonate.serviceAccounts={ci-bot}",
        "--set",
        "team.impersonate.extraKeys={example.com/team}",
        "--set",
        "team.audience=mcp.example.com",
        "--set",
        "team.publicUrl=https://mcp.example.com/mcp",
    )
    rules = {tuple(r["resources"]): r.get("resourceNames") for r in one(docs, "ClusterRole")["rules"]}
    assert rules == {
        ("users",): ["alice@example.com"],
        ("groups",): ["oncall", "system:serviceaccounts"],
        ("serviceaccounts",): ["ci-bot"],
        ("uids",): None,
        ("userextras/example.com/team",): None,
    }
    args = container(docs)["args"]
    assert "--token-audience=mcp.example.com" in args
    assert "--public-url=https://mcp.example.com/mcp" in args


def test_more_than_one_replica_shares_plans_through_the_cluster(helm: str) -> None:
    one_replica = container(render(helm, "--set", "rbac.preset=debugger"))["args"]
    assert not [a for a in one_replica if a.startswith(("--plan-ledger", "--http-stateless"))]
    docs = render(helm, "--set", "rbac.preset=debugger", "--set", "replicaCount=2")
    assert one(docs, "Deployment")["spec"]["replicas"] == 2
    args = container(docs)["args"]
    assert {"--http-stateless", "--plan-ledger=cluster", "--plan-ledger-namespace=tools"} <= set(args)
    assert "--http-token-file=/var/run/secrets/k8s-debug-mcp/token" in args  # still the shared token
    roles = {d["metadata"]["name"]: d["rules"] for d in docs if d["kind"] == "Role"}
    assert roles["mcp-k8s-debug-mcp"] == DEBUGGER_RULES
    assert roles["mcp-k8s-debug-mcp-plan-ledger"][0]["resources"] == ["configmaps"]
