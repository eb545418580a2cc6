"""A corpus of broken workloads for testing `diagnose` ("why is X failing?"), as data.

Each `Case` is one namespace's worth of manifests (plain JSON-able dicts, applied with
`kubectl apply -n <namespace>`), the state that means "the failure has manifested" (a
tuple of checks from `checks.py`, all of which must hold), the root cause a person would
name, and 1-3 `must_mention` substrings that a good first finding must contain (compare
case-insensitively: "OOMKilled" matches "oomkilled"). `target` is what one asks diagnose
about ("Deployment/slim-crash").

Most cases run on the real node (kubelet + containerd: real crash loops, real OOM kills,
real probe failures) with the locally built images `k8s-debug-mcp.local/{busybox,slim-app,
slim-sidecar}:1` and `imagePullPolicy: Never`; scripted failures use busybox's `sh`. The
others fail before any node runs them (scheduling, quota, an unbound claim).

A case deploys in `stages`: each stage's manifests are applied once the previous stage's
`ready` checks hold (a quota must be synced before pods meet it; a rollout breaks a
Deployment that was healthy first). The first stage holds the namespace's setup
(Secrets, ResourceQuotas...). `runner.deploy` / `runner.wait_manifested` drive them.

Observed on the test cluster's real node (containerd 1.6, runc 1.1, cgroup v1): see
`test_corpus_manifests.py` and docs/testing.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.corpus.checks import (
    Check,
    DeploymentAvailable,
    DeploymentRevision,
    Event,
    JobFailed,
    Logs,
    PvcPhase,
    QuotaSynced,
    RevisionReady,
    RunningNotReady,
    Terminated,
    Unschedulable,
    Waiting,
)

Manifest = dict[str, Any]

REGISTRY = "k8s-debug-mcp.local"
BUSYBOX = f"{REGISTRY}/busybox:1"
SLIM_APP = f"{REGISTRY}/slim-app:1"
SLIM_SIDECAR = f"{REGISTRY}/slim-sidecar:1"
LOCAL_IMAGES = (BUSYBOX, SLIM_APP, SLIM_SIDECAR)

CONFIG_FATAL = "FATAL: cannot read /etc/slim/config.yaml: no such file or directory"
GO_PANIC = "panic: dial tcp: lookup db on 10.96.0.10:53: no such host"
INIT_ERROR = 'ERROR: relation "users" does not exist'
MIGRATION_ERROR = "ERROR: migration 0042_add_email failed: duplicate column name: email"


@dataclass(frozen=True)
class Stage:
    """Manifests applied together; the next stage waits until `ready` holds."""

    manifests: tuple[Manifest, ...]
    ready: tuple[Check, ...] = ()


@dataclass(frozen=True)
class Case:
    name: str  # short, DNS-label-safe; also part of the namespace name
    target: str  # Kind/name to ask diagnose about
    summary: str  # what is deployed and how it fails
    root_cause: str  # what a person would name
    must_mention: tuple[str, ...]  # 1-3 substrings of a good first finding (case-insensitive)
    stages: tuple[Stage, ...]
    manifested: tuple[Check, ...]  # all hold = the failure has manifested
    real_node: bool = True  # containers really run (and fail) on real-node-0
    tags: tuple[str, ...] = ()

    @property
    def manifested_description(self) -> str:
        return "; ".join(c.describe() for c in self.manifested)


# ----------------------------------------------------------------- builders ---


def sh(*lines: str) -> list[str]:
    """A busybox `sh -c` command from script lines."""
    return ["sh", "-c", "\n".join(lines)]


def container(name: str, image: str = BUSYBOX, command: list[str] | None = None, **extra: Any) -> Manifest:
    spec: Manifest = {"name": name, "image": image, "imagePullPolicy": "Never"}
    if command is not None:
        spec["command"] = command
    return {**spec, **extra}


def slim_app(name: str = "app", image: str = SLIM_APP, **extra: Any) -> Manifest:
    """The shell-less app: busybox httpd serving /www on :8080 (the image's entrypoint)."""
    return container(name, image, ports=[{"containerPort": 8080}], **extra)


def pod_spec(
    containers: list[Manifest],
    *,
    init_containers: list[Manifest] | None = None,
    volumes: list[Manifest] | None = None,
    real: bool = True,
    restart_policy: str = "Always",
) -> Manifest:
    """On the real node (nodeSelector + toleration) unless `real=False`; a short grace period,
    since busybox `sh`/`httpd` as PID 1 ignore SIGTERM and would hold namespace deletion."""
    spec: Manifest = {
        "containers": containers,
        "restartPolicy": restart_policy,
        "terminationGracePeriodSeconds": 1,
        "tolerations": [{"key": "k8s-debug-mcp/real", "operator": "Exists", "effect": "NoSchedule"}],
    }
    if real:
        spec["nodeSelector"] = {"type": "real"}
    if init_containers:
        spec["initContainers"] = init_containers
    if volumes:
        spec["volumes"] = volumes
    return spec


def deployment(name: str, spec: Manifest) -> Manifest:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": spec},
        },
    }


def job(name: str, spec: Manifest, *, backoff_limit: int) -> Manifest:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "backoffLimit": backoff_limit,
            "template": {"metadata": {"labels": {"app": name}}, "spec": spec},
        },
    }


def config_error_script() -> list[str]:
    """The headline crash: the decisive line first (stderr), then two ordinary lines."""
    return sh(
        f'echo "{CONFIG_FATAL}" >&2',
        # containerd copies stdout and stderr in two goroutines: lines written within the
        # same instant may land in the log in either order; the pause keeps them in order.
        "sleep 0.2",
        'echo "slim-server 1.4.2: shutting down"',
        'echo "slim-server 1.4.2: flushed 0 pending requests"',
        "exit 1",
    )


def oom_script() -> list[str]:
    """Reads 64 MiB into memory: `tail` keeps the whole newline-free input; the limit is 16Mi."""
    return sh('echo "warming the cache: 64 MiB"', "head -c 64m /dev/zero | tail")


def healthy_slim(name: str = "slim") -> Manifest:
    """slim as it runs in production: app (with a readiness probe on /) and sidecar. The probe
    also keeps a bad rollout from replacing the healthy pod: the rollout stalls instead."""
    ready = {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 2}
    return deployment(name, pod_spec([slim_app(readinessProbe=ready), container("sidecar", SLIM_SIDECAR)]))


def config_error_deployment(name: str) -> Manifest:
    return deployment(name, pod_spec([container("app", command=config_error_script())]))


def oom_deployment(name: str) -> Manifest:
    limits = {"memory": "16Mi"}
    return deployment(
        name, pod_spec([container("app", command=oom_script(), resources={"limits": limits, "requests": limits})])
    )


def bad_image_deployment(name: str) -> Manifest:
    return deployment(name, pod_spec([slim_app(image=f"{REGISTRY}/slim-app:2")]))


def crash_looping(app: str, container_name: str = "app", **kw: Any) -> Terminated:
    return Terminated(app, container_name, **kw)


# -------------------------------------------------------------------- cases ---


def _rollout_v2() -> Manifest:
    """Revision 2 of `slim`: the docroot moved to /srv/www, which the image does not have."""
    dep = healthy_slim()
    app = dep["spec"]["template"]["spec"]["containers"][0]
    app["command"] = ["/app/httpd", "-f", "-p", "8080", "-h", "/srv/www"]
    return dep


def _quota() -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "team-quota"},
        "spec": {"hard": {"requests.memory": "256Mi", "pods": "10"}},
    }


def _secret() -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db-credentials"},
        "type": "Opaque",
        "stringData": {"username": "orders"},
    }


def _pvc() -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "pg-data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }


CASES: tuple[Case, ...] = (
    Case(
        name="config-error",
        target="Deployment/slim-crash",
        summary="busybox prints a FATAL line on stderr, then two ordinary lines, exits 1; CrashLoopBackOff",
        root_cause="the app cannot read its config file /etc/slim/config.yaml (not in the image, no volume)",
        must_mention=("FATAL: cannot read /etc/slim/config.yaml",),
        stages=(Stage((config_error_deployment("slim-crash"),)),),
        manifested=(
            crash_looping("slim-crash", min_restarts=2, exit_code=1, reason="Error"),
            Logs("slim-crash", "app", f"{CONFIG_FATAL}\nslim-server 1.4.2: shutting down\n", previous=True),
        ),
        tags=("crashloop", "logs"),
    ),
    Case(
        name="oom-killed",
        target="Deployment/slim-oom",
        summary="busybox reads 64 MiB into memory with a 16Mi memory limit; the kernel OOM-kills it",
        root_cause="memory limit 16Mi is too small: the container is OOMKilled (exit 137) and restarted",
        must_mention=("OOMKilled", "16Mi"),
        stages=(Stage((oom_deployment("slim-oom"),)),),
        manifested=(crash_looping("slim-oom", min_restarts=2, exit_code=137, reason="OOMKilled"),),
        tags=("crashloop", "resources"),
    ),
    Case(
        name="missing-configmap-volume",
        target="Deployment/slim",
        summary="slim mounts ConfigMap slim-config at /etc/slim; the ConfigMap does not exist",
        root_cause='ConfigMap "slim-config" (volume config) does not exist: the pod stays in ContainerCreating',
        must_mention=("slim-config", "not found"),
        stages=(
            Stage(
                (
                    deployment(
                        "slim",
                        pod_spec(
                            [slim_app(volumeMounts=[{"name": "config", "mountPath": "/etc/slim"}])],
                            volumes=[{"name": "config", "configMap": {"name": "slim-config"}}],
                        ),
                    ),
                )
            ),
        ),
        manifested=(
            Waiting("slim", "app", "ContainerCreating"),
            Event("Pod", "FailedMount", 'configmap "slim-config" not found'),
        ),
        tags=("config", "events"),
    ),
    Case(
        name="missing-secret-key",
        target="Deployment/orders",
        summary="env DB_PASSWORD from Secret db-credentials key password; the Secret has only username",
        root_cause='Secret "db-credentials" has no key "password" (referenced by env DB_PASSWORD)',
        must_mention=("db-credentials", "password"),
        stages=(
            Stage(
                (
                    _secret(),
                    deployment(
                        "orders",
                        pod_spec(
                            [
                                container(
                                    "app",
                                    command=["sleep", "3600"],
                                    env=[
                                        {
                                            "name": "DB_PASSWORD",
                                            "valueFrom": {
                                                "secretKeyRef": {"name": "db-credentials", "key": "password"}
                                            },
                                        }
                                    ],
                                )
                            ]
                        ),
                    ),
                )
            ),
        ),
        manifested=(Waiting("orders", "app", "CreateContainerConfigError", "couldn't find key password in Secret"),),
        tags=("config",),
    ),
    Case(
        name="missing-configmap-env",
        target="Deployment/checkout",
        summary="envFrom ConfigMap feature-flags, which does not exist",
        root_cause='ConfigMap "feature-flags" (envFrom) does not exist: CreateContainerConfigError',
        must_mention=("feature-flags", "not found"),
        stages=(
            Stage(
                (
                    deployment(
                        "checkout",
                        pod_spec(
                            [
                                container(
                                    "app",
                                    command=["sleep", "3600"],
                                    envFrom=[{"configMapRef": {"name": "feature-flags"}}],
                                )
                            ]
                        ),
                    ),
                )
            ),
        ),
        manifested=(Waiting("checkout", "app", "CreateContainerConfigError", 'configmap "feature-flags" not found'),),
        tags=("config",),
    ),
    Case(
        name="bad-command",
        target="Deployment/web",
        summary="command slim-server, which the busybox image does not have; runc cannot start it",
        root_cause='the command "slim-server" does not exist in the image (executable file not found in $PATH)',
        must_mention=("slim-server", "executable file not found"),
        stages=(
            Stage(
                (
                    deployment(
                        "web",
                        pod_spec([container("app", command=["slim-server", "--config", "/etc/slim/config.yaml"])]),
                    ),
                )
            ),
        ),
        manifested=(
            crash_looping("web", min_restarts=2, reason="StartError", message_contains="executable file not found"),
        ),
        tags=("crashloop",),
    ),
    Case(
        name="liveness-probe",
        target="Deployment/slim",
        summary="liveness probe GET /healthz on :8080; slim-app serves only /, so 404; the kubelet kills it",
        root_cause="the liveness probe GET /healthz:8080 gets 404 (the app has no /healthz): killed and restarted",
        must_mention=("liveness", "404"),
        stages=(
            Stage(
                (
                    deployment(
                        "slim",
                        pod_spec(
                            [
                                slim_app(
                                    livenessProbe={
                                        "httpGet": {"path": "/healthz", "port": 8080},
                                        "initialDelaySeconds": 1,
                                        "periodSeconds": 2,
                                        "failureThreshold": 2,
                                    }
                                )
                            ]
                        ),
                    ),
                )
            ),
        ),
        manifested=(
            Event("Pod", "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 404"),
            Event("Pod", "Killing", "failed liveness probe"),
            crash_looping("slim", min_restarts=1),
        ),
        tags=("probes", "events"),
    ),
    Case(
        name="readiness-wrong-port",
        target="Deployment/slim",
        summary="readiness probe on :8081; the app listens on :8080; Running but never Ready",
        root_cause="the readiness probe targets port 8081 but the app listens on 8080 (connection refused)",
        must_mention=("readiness", "8081"),
        stages=(
            Stage(
                (
                    deployment(
                        "slim",
                        pod_spec(
                            [slim_app(readinessProbe={"httpGet": {"path": "/", "port": 8081}, "periodSeconds": 2})]
                        ),
                    ),
                )
            ),
        ),
        manifested=(
            RunningNotReady("slim", "app"),
            Event("Pod", "Unhealthy", "Readiness probe failed"),
        ),
        tags=("probes", "events"),
    ),
    Case(
        name="image-never-pull",
        target="Deployment/slim-badimage",
        summary="image k8s-debug-mcp.local/slim-app:2 (never built) with imagePullPolicy Never",
        root_cause="image k8s-debug-mcp.local/slim-app:2 is not on the node and pull policy Never forbids pulling",
        must_mention=("slim-app:2", "ErrImageNeverPull"),
        stages=(Stage((bad_image_deployment("slim-badimage"),)),),
        manifested=(Waiting("slim-badimage", "app", "ErrImageNeverPull", f"{REGISTRY}/slim-app:2"),),
        tags=("image",),
    ),
    Case(
        name="unschedulable-resources",
        target="Deployment/bigmem",
        summary="requests cpu 64 and memory 512Gi: more than any node has",
        root_cause="the pod requests cpu 64 / memory 512Gi, more than any node can offer (Insufficient cpu/memory)",
        must_mention=("Insufficient cpu", "Insufficient memory"),
        stages=(
            Stage(
                (
                    deployment(
                        "bigmem",
                        pod_spec(
                            [slim_app(resources={"requests": {"cpu": "64", "memory": "512Gi"}})],
                            real=False,
                        ),
                    ),
                )
            ),
        ),
        manifested=(Unschedulable("bigmem", "Insufficient cpu"), Event("Pod", "FailedScheduling", "Insufficient")),
        real_node=False,
        tags=("scheduling",),
    ),
    Case(
        name="job-backoff-limit",
        target="Job/migrate",
        summary="a Job (restartPolicy Never, backoffLimit 1) whose pods print an ERROR and exit 2",
        root_cause="the migration fails (duplicate column name: email, exit 2); the Job reached its backoffLimit",
        must_mention=("backoff", "duplicate column name: email"),
        stages=(
            Stage(
                (
                    job(
                        "migrate",
                        pod_spec(
                            [
                                container(
                                    "migrate",
                                    command=sh(
                                        'echo "applying migration 0042_add_email"',
                                        f'echo "{MIGRATION_ERROR}" >&2',
                                        "exit 2",
                                    ),
                                )
                            ],
                            restart_policy="Never",
                        ),
                        backoff_limit=1,
                    ),
                )
            ),
        ),
        manifested=(
            JobFailed("migrate", "BackoffLimitExceeded"),
            Terminated("migrate", "migrate", min_restarts=0, exit_code=2, reason="Error"),
            Logs("migrate", "migrate", MIGRATION_ERROR),
        ),
        tags=("job", "logs"),
    ),
    Case(
        name="init-container-fails",
        target="Deployment/api",
        summary="init container migrate prints a SQL error and exits 1; Init:CrashLoopBackOff",
        root_cause='the init container migrate fails: ERROR: relation "users" does not exist (exit 1)',
        must_mention=('relation "users" does not exist', "migrate"),
        stages=(
            Stage(
                (
                    deployment(
                        "api",
                        pod_spec(
                            [slim_app()],
                            init_containers=[
                                container(
                                    "migrate",
                                    command=sh(
                                        'echo "running migrations against db:5432"',
                                        f"echo '{INIT_ERROR}' >&2",
                                        "exit 1",
                                    ),
                                )
                            ],
                        ),
                    ),
                )
            ),
        ),
        manifested=(
            Terminated("api", "migrate", min_restarts=2, exit_code=1, init=True),
            Logs("api", "migrate", INIT_ERROR, previous=True, init=True),
        ),
        tags=("crashloop", "init", "logs"),
    ),
    Case(
        name="broken-rollout",
        target="Deployment/slim",
        summary="revision 1 (slim-app:1, image entrypoint) is healthy; revision 2 sets command "
        "`/app/httpd -f -p 8080 -h /srv/www`, a docroot the image lacks: its pod crash-loops and the rollout "
        "stalls (revision 1's pod keeps serving)",
        root_cause="revision 2 changed the command (docroot -h /srv/www, which does not exist): httpd exits 1; "
        "revision 1 was healthy",
        must_mention=("revision 2", "/srv/www"),
        stages=(
            Stage((healthy_slim(),), ready=(DeploymentAvailable("slim"),)),
            Stage((_rollout_v2(),)),
        ),
        manifested=(
            DeploymentRevision("slim", 2),
            RevisionReady("slim", 1, ready=1),
            crash_looping("slim", min_restarts=2, exit_code=1),
            Logs("slim", "app", "/srv/www", previous=True),
        ),
        tags=("rollout", "crashloop"),
    ),
    Case(
        name="quota-blocks-pods",
        target="Deployment/reports",
        summary="ResourceQuota team-quota allows requests.memory 256Mi; the Deployment's pod requests 512Mi",
        root_cause="ResourceQuota team-quota (requests.memory 256Mi) forbids the pod (requests 512Mi): "
        "the ReplicaSet cannot create it (FailedCreate)",
        must_mention=("exceeded quota", "team-quota"),
        stages=(
            Stage((_quota(),), ready=(QuotaSynced("team-quota"),)),
            Stage(
                (
                    deployment(
                        "reports",
                        pod_spec([slim_app(resources={"requests": {"memory": "512Mi"}})]),
                    ),
                )
            ),
        ),
        manifested=(Event("ReplicaSet", "FailedCreate", "exceeded quota: team-quota", name_prefix="reports-"),),
        real_node=False,
        tags=("quota", "events"),
    ),
    Case(
        name="pending-pvc",
        target="Deployment/postgres",
        summary="PVC pg-data without storageClassName; the cluster has no StorageClass, no provisioner, no PV",
        root_cause="PersistentVolumeClaim pg-data stays Pending (no StorageClass/provisioner, no matching PV): "
        "the pod cannot be scheduled",
        must_mention=("pg-data", "no storage class"),
        stages=(
            Stage(
                (
                    _pvc(),
                    deployment(
                        "postgres",
                        pod_spec(
                            [
                                container(
                                    "postgres",
                                    command=["sleep", "3600"],
                                    volumeMounts=[{"name": "data", "mountPath": "/var/lib/postgresql"}],
                                )
                            ],
                            volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "pg-data"}}],
                        ),
                    ),
                )
            ),
        ),
        manifested=(
            PvcPhase("pg-data", "Pending"),
            Unschedulable("postgres", "unbound immediate PersistentVolumeClaims"),
            Event("PersistentVolumeClaim", "FailedBinding", "no storage class is set", name_prefix="pg-data"),
        ),
        real_node=False,
        tags=("storage", "scheduling"),
    ),
    Case(
        name="go-panic",
        target="Deployment/orders-api",
        summary="busybox prints two startup lines, then a Go-style panic with a goroutine trace on stderr, exits 2",
        root_cause="the app panics at start: dial tcp: lookup db on 10.96.0.10:53: no such host "
        "(the database host name does not resolve)",
        must_mention=("panic: dial tcp: lookup db", "no such host"),
        stages=(
            Stage(
                (
                    deployment(
                        "orders-api",
                        pod_spec(
                            [
                                container(
                                    "app",
                                    command=sh(
                                        'echo "orders-api v2.3.0 starting"',
                                        'echo "connecting to postgres://db:5432/orders"',
                                        "sleep 0.2",
                                        "printf '%s\\n' "
                                        f"'{GO_PANIC}' '' 'goroutine 1 [running]:' "
                                        "'main.mustConnect(...)' '\t/src/orders/db.go:31 +0x1a5' "
                                        "'main.main()' '\t/src/orders/main.go:18 +0x25' >&2",
                                        "exit 2",
                                    ),
                                )
                            ]
                        ),
                    ),
                )
            ),
        ),
        manifested=(
            crash_looping("orders-api", min_restarts=2, exit_code=2),
            Logs("orders-api", "app", GO_PANIC, previous=True),
            Logs("orders-api", "app", "goroutine 1 [running]:", previous=True),
        ),
        tags=("crashloop", "logs"),
    ),
    Case(
        name="healthy-with-failing-siblings",
        target="Deployment/slim",
        summary="slim is healthy; slim-crash (config error), slim-oom (OOMKilled) and slim-badimage "
        "(ErrImageNeverPull) in the same namespace are failing",
        root_cause="slim itself is healthy (1/1 ready); its siblings slim-crash, slim-oom and slim-badimage fail",
        must_mention=("slim-crash", "slim-oom", "slim-badimage"),
        stages=(
            Stage(
                (
                    healthy_slim(),
                    config_error_deployment("slim-crash"),
                    oom_deployment("slim-oom"),
                    bad_image_deployment("slim-badimage"),
                )
            ),
        ),
        manifested=(
            DeploymentAvailable("slim"),
            crash_looping("slim-crash", min_restarts=1, exit_code=1),
            crash_looping("slim-oom", min_restarts=1, reason="OOMKilled"),
            Waiting("slim-badimage", "app", "ErrImageNeverPull"),
        ),
        tags=("namespace",),
    ),
    Case(
        name="oneshot-in-deployment",
        target="Deployment/report",
        summary="a Deployment whose command prints a report and exits 0; restartPolicy Always restarts it forever",
        root_cause="the container's command completes and exits 0 (Completed), and a Deployment restarts it: "
        "a one-shot task belongs in a Job/CronJob, or the command should keep serving",
        must_mention=("Completed",),
        stages=(
            Stage(
                (
                    deployment(
                        "report",
                        pod_spec([container("app", command=sh('echo "report generated: 0 rows"', "exit 0"))]),
                    ),
                )
            ),
        ),
        manifested=(crash_looping("report", min_restarts=2, exit_code=0, reason="Completed"),),
        tags=("crashloop",),
    ),
    Case(
        name="read-only-root",
        target="Deployment/cache",
        summary="readOnlyRootFilesystem true; the app creates /var/cache/app at start and exits 1 when it cannot",
        root_cause="the root filesystem is read-only (securityContext.readOnlyRootFilesystem) and the app writes "
        "/var/cache/app: mount an emptyDir there",
        must_mention=("Read-only file system", "/var/cache"),
        stages=(
            Stage(
                (
                    deployment(
                        "cache",
                        pod_spec(
                            [
                                container(
                                    "app",
                                    command=sh(
                                        'echo "cache starting"',
                                        "mkdir -p /var/cache/app || exit 1",
                                        "sleep 3600",
                                    ),
                                    securityContext={"readOnlyRootFilesystem": True},
                                )
                            ]
                        ),
                    ),
                )
            ),
        ),
        manifested=(
            crash_looping("cache", min_restarts=2, exit_code=1),
            Logs("cache", "app", "Read-only file system", previous=True),
        ),
        tags=("crashloop", "security"),
    ),
)

BY_NAME: dict[str, Case] = {c.name: c for c in CASES}
