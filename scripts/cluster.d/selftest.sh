#!/usr/bin/env bash
# End-to-end check of a running test cluster: `scripts/cluster selftest`.
# Usage: selftest.sh KUBECTL KUBECONFIG
# Works in a namespace of its own, deleted at the end. Exit 0 when every check
# passes. Needs python3 (one JSON check).
set -uo pipefail

KUBECTL="$1"
KUBECONFIG_PATH="$2"
NS="cluster-selftest-$$"
k() { "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" --request-timeout=20s "$@"; }
passed=0
failed=0
check() {
  if eval "$2"; then
    passed=$((passed + 1))
    echo "ok      $1"
  else
    failed=$((failed + 1))
    echo "FAILED  $1"
  fi
}
# wait_for SECONDS COMMAND...: retry COMMAND every 0.1 s until it succeeds.
wait_for() {
  local end=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS >= end)) && return 1
    sleep 0.1
  done
}
jp() { k -n "$NS" get "$1" -o "jsonpath=$2"; }
cleanup() { k delete namespace "$NS" --wait=false >/dev/null 2>&1 || true; }
trap cleanup EXIT

k create namespace "$NS" >/dev/null || { echo "FAILED  create namespace $NS"; exit 1; }
k -n "$NS" apply -f - >/dev/null <<'EOF' || { echo "FAILED  apply workloads"; exit 1; }
apiVersion: apps/v1
kind: Deployment
metadata: {name: slim}
spec:
  replicas: 2
  selector: {matchLabels: {app: slim}}
  template:
    metadata: {labels: {app: slim}}
    spec:
      nodeSelector: {type: kwok}
      containers:
      - {name: app, image: registry.example/slim-app:1.0}
      - {name: sidecar, image: busybox:1.36}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: slim-crashloop}
spec:
  replicas: 1
  selector: {matchLabels: {app: slim-crashloop}}
  template:
    metadata:
      labels: {app: slim-crashloop}
      annotations:
        k8s-debug-mcp.test/simulate: crashloop
        k8s-debug-mcp.test/crashloop-containers: app
    spec:
      nodeSelector: {type: kwok}
      containers:
      - {name: app, image: registry.example/slim-app:1.0}
      - {name: sidecar, image: busybox:1.36}
EOF

check "Deployment slim rolls out (2 pods, 2 containers each)" \
  "k -n $NS rollout status deployment/slim --timeout=60s >/dev/null"
check "namespace gets a default ServiceAccount" "wait_for 30 k -n $NS get serviceaccount default"
P="$(k -n "$NS" get pods -l app=slim -o 'jsonpath={.items[0].metadata.name}')"
check "pod on a kwok node, hostIP 127.0.0.1, containerIDs set" \
  "[[ \$(jp pod/$P '{.spec.nodeName}/{.status.hostIP}/{.status.containerStatuses[0].containerID}') == kwok-node-?/127.0.0.1/containerd://* ]]"

# Ephemeral container through kubectl debug (PATCH pods/P/ephemeralcontainers).
k -n "$NS" debug "$P" --image=busybox:1.36 --target=app --container=debugger -- sleep 100 >/dev/null 2>&1
eph_running() { [[ -n "$(jp "pod/$P" '{.status.ephemeralContainerStatuses[?(@.name=="debugger")].state.running.startedAt}')" ]]; }
check "ephemeral container status running within 3 s" "wait_for 3 eph_running"
check "ephemeral container status fields" \
  "jp pod/$P '{.status.ephemeralContainerStatuses[0]}' | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"name\"]==\"debugger\" and d[\"ready\"] is False and d[\"image\"]==\"busybox:1.36\" and d[\"imageID\"] and d[\"containerID\"].startswith(\"containerd://\") and \"startedAt\" in d[\"state\"][\"running\"], d'"

# exec runs on the host (ClusterExec); exit code and both streams come back.
out="$(k -n "$NS" exec "$P" -c app -- sh -c 'echo out; echo err >&2; exit 3' 2>"/tmp/selftest-$$.err")"
rc=$?
check "exec: stdout" "[[ '$out' == out ]]"
check "exec: stderr" "grep -qx err /tmp/selftest-$$.err"
check "exec: exit code 3 (got $rc)" "[[ $rc == 3 ]]"
rm -f "/tmp/selftest-$$.err"
check "exec -i: stdin reaches the command, EOF ends it" \
  "[[ \$(echo hi | timeout 20 '$KUBECTL' --kubeconfig '$KUBECONFIG_PATH' -n $NS exec -i $P -c app -- cat) == hi ]]"
check "exec into the ephemeral container" "[[ \$(k -n $NS exec $P -c debugger -- echo eph) == eph ]]"
check "logs (ClusterLogs file)" "k -n $NS logs $P -c app | grep -q 'simulated log line 1'"
check "logs --previous" "k -n $NS logs $P -c app --previous | grep -q 'simulated crash'"
check "create --dry-run=server" "k -n $NS create deployment dry --image=nginx --dry-run=server -o name | grep -qx deployment.apps/dry"
check "dry-run stored nothing" "! k -n $NS get deployment dry >/dev/null 2>&1"

# Crash-loop simulation (annotation), only container app crashes.
CP=""
crashpod() { CP="$(k -n "$NS" get pods -l app=slim-crashloop -o 'jsonpath={.items[0].metadata.name}')"; [[ -n "$CP" ]]; }
crashing() { crashpod && [[ "$(jp "pod/$CP" '{.status.containerStatuses[?(@.name=="app")].state.waiting.reason}')" == CrashLoopBackOff ]]; }
check "crashloop: app waiting CrashLoopBackOff" "wait_for 30 crashing"
check "crashloop: lastState terminated exitCode 1 reason Error" \
  "[[ \$(jp pod/$CP '{.status.containerStatuses[?(@.name==\"app\")].lastState.terminated.exitCode}/{.status.containerStatuses[?(@.name==\"app\")].lastState.terminated.reason}') == 1/Error ]]"
check "crashloop: restartCount > 0" "(( \$(jp pod/$CP '{.status.containerStatuses[?(@.name==\"app\")].restartCount}') > 0 ))"
check "crashloop: sidecar running and ready" "[[ \$(jp pod/$CP '{.status.containerStatuses[?(@.name==\"sidecar\")].ready}') == true ]]"
check "crashloop: phase Running, Ready False" \
  "[[ \$(jp pod/$CP '{.status.phase}/{.status.conditions[?(@.type==\"Ready\")].status}') == Running/False ]]"

check "RBAC: unbound ServiceAccount may not list pods" \
  "[[ \$(k auth can-i list pods -n $NS --as=system:serviceaccount:$NS:default) == no ]]"
check "pod deletion completes" "k -n $NS delete pod $P --timeout=30s >/dev/null"

echo "selftest: $passed checks ok, $failed failed"
((failed == 0))
