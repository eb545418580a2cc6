# shellcheck shell=bash
# The real node of the test cluster: a kubelet (the k8s.io/kubernetes build of
# the control plane, scripts/build-cluster-bins) on containerd + runc from
# Debian, running real containers from images made by scripts/images/build.py.
# Sourced by scripts/cluster, which provides log, die, poll, now, elapsed,
# running, kc, CACHE_ROOT, CLUSTER_NAME, CLUSTER_DIR, KUBECONFIG_PATH, BIN_DIR,
# TIMEOUT and SCRIPT_DIR.
#
# The node: name real-node-0, label type=real, taint
# k8s-debug-mcp/real=true:NoSchedule (only pods that tolerate it land there),
# InternalIP 127.0.0.1. kwok-controller manages only nodes labelled type=kwok.
#
# Everything lives in $RN_DIR (~/.cache/k8s-debug-mcp/realnode):
#   containerd.sock, containerd/{config.toml,root,state}   containerd
#   runc/                  runc state        cni/{net.d,ipam}  CNI config, IPs
#   kubelet/{config.yaml,kubeconfig,root,pki}               kubelet
#   pki/                   the node's client certificate (system:node:real-node-0
#                          in system:nodes, signed by the cluster CA)
#   pod-logs/              container logs    logs/{containerd,kubelet}.log
#   pids/                  pid files         host-state  what `down` restores
#   cluster                the kwokctl cluster the node belongs to
#   fingerprint            of what the running node was made from
#
# What lands outside it, and is removed or restored by `down`:
#   - cgroups: /k8s-debug-mcp in every cgroup hierarchy (kubelet cgroupRoot);
#   - the bridge kdm0 (10.88.0.1/16) and the pods' veths and netns (bridge CNI,
#     no masquerade, no default route in pods: pod traffic cannot leave the host);
#   - sysctls: net.ipv4.ip_forward (bridge CNI, isGateway) and the ones the
#     kubelet sets at start (vm.overcommit_memory, kernel.panic, ...);
#   - paths that containerd/kubelet hardcode: /run/containerd/{s,fifo} (shim
#     sockets), /var/lib/cni (libcni cache), /var/lib/kubelet/device-plugins,
#     /var/log/containers (log symlinks), /run/mount (libmount): removed only
#     when they did not exist before the node first started (host-state).
# The kubelet runs with a PATH without /usr/sbin so it finds no iptables and
# creates no iptables chains; the bridge CNI (ipMasq false) adds no rules.
#
# Environment: K8S_DEBUG_MCP_REAL_NODE=0 disables the node; default: on for
# the default cluster when running as root, skipped with a message otherwise;
# 1: on for any cluster name (the one node moves there), fail if not root.

RN_NODE="real-node-0"
RN_DIR="$CACHE_ROOT/realnode"
RN_CONF_DIR="$SCRIPT_DIR/cluster.d/realnode"
RN_SOCK="$RN_DIR/containerd.sock"
RN_BRIDGE="kdm0"
RN_SUBNET="10.88.0.0/16"
RN_CGROUP="k8s-debug-mcp"
RN_KUBELET_PORT=10250
RN_HEALTHZ_PORT=10248
RN_LOCK_FILE="$CACHE_ROOT/realnode.lock"
RN_HOST_STATE="$RN_DIR/host-state"
RN_CNI_BIN_DIR=/usr/lib/cni
RN_PACKAGES=(containerd runc containernetworking-plugins busybox-static openssl)
# Host paths containerd/kubelet create outside $RN_DIR (see above).
RN_HOST_PATHS=(/run/containerd /var/lib/cni /var/lib/kubelet /var/log/containers /run/mount)
# Sysctls the kubelet (setupKernelTunables) and the bridge CNI change.
RN_SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.ipv4.ip_forward)
RN_IMAGES_JSON="" # set by rn_build_images

rn_log() { log "real node: $*"; }

# realnode_enabled: 0 if this `up` should run the real node.
realnode_enabled() {
  case "${K8S_DEBUG_MCP_REAL_NODE:-auto}" in
    0 | false | no) return 1 ;;
    auto) ((EUID == 0)) && [[ "$CLUSTER_NAME" == "$DEFAULT_CLUSTER_NAME" ]] ;;
    *)
      ((EUID == 0)) || die "K8S_DEBUG_MCP_REAL_NODE=${K8S_DEBUG_MCP_REAL_NODE} needs root (kubelet, containerd, cgroups)"
      ;;
  esac
}

# The cluster the node's files belong to (empty if none).
rn_owner() { cat "$RN_DIR/cluster" 2>/dev/null || true; }

crictl_() {
  "$BIN_DIR/crictl" --runtime-endpoint "unix://$RN_SOCK" --image-endpoint "unix://$RN_SOCK" --timeout 20s \
    "$@" </dev/null 8>&- 9>&- 2> >(grep -v 'level=warning msg="Config .* does not exist' >&2)
}
ctr_() { ctr --address "$RN_SOCK" "$@" </dev/null 8>&- 9>&-; }

# rn_pid NAME EXE: the pid in pids/NAME.pid if that process is alive and runs
# EXE (basename); empty otherwise.
rn_pid() {
  local f="$RN_DIR/pids/$1.pid" pid exe
  [[ -f "$f" ]] || return 0
  pid="$(cat "$f" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
  exe="${exe% (deleted)}"
  if [[ "${exe##*/}" == "$2" ]] && running "$pid"; then echo "$pid"; fi
}

# ------------------------------------------------------------ packages ---

rn_missing_packages() {
  local p missing=()
  for p in "${RN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  echo "${missing[*]}"
}

rn_ensure_packages() {
  local missing t
  missing="$(rn_missing_packages)"
  [[ -z "$missing" ]] && return 0
  command -v apt-get >/dev/null || die "missing packages ($missing) and no apt-get"
  t=$(now)
  rn_log "installing $missing (apt-get update + install)"
  # policy-rc.d-less hosts with an init system would start Debian's own
  # containerd service; it uses other paths and does not disturb ours.
  DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >&2 || die "apt-get update failed"
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing </dev/null >&2 ||
    die "apt-get install $missing failed"
  missing="$(rn_missing_packages)"
  [[ -z "$missing" ]] || die "still missing after apt-get install: $missing"
  rn_log "packages installed ($(elapsed "$t"))"
}

# -------------------------------------------------------------- images ---

# Build (cached) the image archive; sets RN_IMAGES_TAR and RN_IMAGES_JSON.
rn_build_images() {
  RN_IMAGES_TAR="$(python3 "$SCRIPT_DIR/images/build.py" --out "$CACHE_ROOT/images" </dev/null)" ||
    die "scripts/images/build.py failed"
  RN_IMAGES_JSON="$RN_IMAGES_TAR.json"
}

# 0 if every image of the archive is in containerd with the archive's digest.
rn_images_present() {
  local listing name digest
  listing="$(ctr_ -n k8s.io images ls 2>/dev/null)" || return 1
  while read -r name digest; do
    grep -qE "^${name}[[:space:]].*[[:space:]]${digest}[[:space:]]" <<<"$listing" || return 1
  done < <(python3 -c 'import json,sys; [print(k, v) for k, v in json.load(open(sys.argv[1])).items()]' "$RN_IMAGES_JSON")
}

rn_import_images() {
  local t
  rn_images_present && return 0
  t=$(now)
  ctr_ -n k8s.io images import "$RN_IMAGES_TAR" >&2 || die "ctr images import $RN_IMAGES_TAR failed"
  rn_images_present || die "images missing after import of $RN_IMAGES_TAR"
  rn_log "images imported ($(elapsed "$t"))"
}

# ---------------------------------------------------------- host state ---

# Record, once, what `down` must restore: sysctl values and which host paths
# existed. Kept until rn_restore_host ran, so a crashed node's `up` does not
# record the values the kubelet changed.
rn_record_host() {
  [[ -f "$RN_HOST_STATE" ]] && return 0
  local s p
  {
    for s in "${RN_SYSCTLS[@]}"; do
      echo "sysctl $s $(sysctl -n "$s" 2>/dev/null || echo -)"
    done
    for p in "${RN_HOST_PATHS[@]}"; do
      if [[ -e "$p" ]]; then echo "path $p existed"; else echo "path $p absent"; fi
    done
  } >"$RN_HOST_STATE.tmp"
  mv -f "$RN_HOST_STATE.tmp" "$RN_HOST_STATE"
}

# 0 if some other containerd runs (a system service, not ours: ours is stopped
# when this is asked; zombies do not count).
rn_other_containerd() {
  local pid
  for pid in $(pgrep -x containerd 2>/dev/null); do
    running "$pid" && return 0
  done
  return 1
}

rn_restore_host() {
  [[ -f "$RN_HOST_STATE" ]] || return 0
  local kind key value cur
  while read -r kind key value; do
    case "$kind" in
      sysctl)
        [[ "$value" == - ]] && continue
        cur="$(sysctl -n "$key" 2>/dev/null || true)"
        if [[ "$cur" != "$value" ]]; then
          sysctl -q -w "$key=$value" >/dev/null 2>&1 || rn_log "could not restore sysctl $key=$value (now $cur)"
        fi
        ;;
      path)
        if [[ "$value" == absent && -e "$key" ]]; then
          # Another containerd (system service) may use /run/containerd.
          if [[ "$key" == /run/containerd ]] && rn_other_containerd; then continue; fi
          rm -rf --one-file-system "$key" 2>/dev/null || rn_log "could not remove $key"
        fi
        ;;
    esac
  done <"$RN_HOST_STATE"
  rm -f "$RN_HOST_STATE"
}

# ------------------------------------------------------------- cgroups ---

# Mount points of every cgroup hierarchy (v1 controllers, named, and v2).
rn_cgroup_mounts() {
  awk '$0 ~ / - cgroup2? / { print $5 }' /proc/self/mountinfo | sort -u
}

rn_create_cgroups() {
  local m f
  while read -r m; do
    mkdir -p "$m/$RN_CGROUP"
    if [[ -f "$m/cpuset.cpus" && ! -f "$m/cgroup.subtree_control" ]]; then
      # v1 cpuset: a new group starts with empty cpus/mems.
      for f in cpuset.cpus cpuset.mems; do
        [[ -n "$(cat "$m/$RN_CGROUP/$f")" ]] || cat "$m/$f" >"$m/$RN_CGROUP/$f"
      done
    fi
    if [[ -f "$m/cgroup.subtree_control" && "$m" == /sys/fs/cgroup ]]; then
      # cgroup v2 only host: hand the controllers down to the kubelet's root.
      for f in $(<"$m/cgroup.subtree_control"); do
        echo "+$f" >"$m/$RN_CGROUP/cgroup.subtree_control" 2>/dev/null || true
      done
    fi
  done < <(rn_cgroup_mounts)
}

# Kill every process left in our cgroups, then remove them (deepest first).
rn_remove_cgroups() {
  local m pids tries
  for tries in 1 2 3 4 5 6 7 8 9 10; do
    pids="$(rn_cgroup_mounts | while read -r m; do
      if [[ -d "$m/$RN_CGROUP" ]]; then find "$m/$RN_CGROUP" -name cgroup.procs -exec cat {} + 2>/dev/null || true; fi
    done | sort -un)"
    [[ -z "$pids" ]] && break
    ((tries == 1)) && rn_log "killing processes left in the node's cgroups: ${pids//$'\n'/ }"
    # shellcheck disable=SC2086
    kill -9 $pids 2>/dev/null || true
    sleep 0.3
  done
  while read -r m; do
    [[ -d "$m/$RN_CGROUP" ]] || continue
    for tries in 1 2 3 4 5 6 7 8 9 10; do
      find "$m/$RN_CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null || true
      [[ -d "$m/$RN_CGROUP" ]] || break
      sleep 0.3
    done
    [[ -d "$m/$RN_CGROUP" ]] && rn_log "could not remove cgroup $m/$RN_CGROUP"
  done < <(rn_cgroup_mounts)
  return 0
}

# ------------------------------------------------------------- cleanup ---

# stop_pid PID SECONDS: SIGTERM, then SIGKILL after SECONDS.
rn_stop_pid() {
  local pid="$1" limit="$2"
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  if ! poll "process $pid to exit" "$limit" not_running "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    poll "process $pid to exit" 10 not_running "$pid" || rn_log "process $pid does not exit"
  fi
}

rn_start_containerd() {
  mkdir -p "$RN_DIR/pids" "$RN_DIR/logs"
  rm -f "$RN_SOCK" "$RN_SOCK.ttrpc"
  (
    cd /
    exec setsid containerd --config "$RN_DIR/containerd/config.toml" </dev/null >>"$RN_DIR/logs/containerd.log" 2>&1 8>&- 9>&-
  ) &
  echo $! >"$RN_DIR/pids/containerd.pid"
  poll "containerd on $RN_SOCK" 30 ctr_ version || {
    tail -n 30 "$RN_DIR/logs/containerd.log" >&2
    die "containerd did not start (log: $RN_DIR/logs/containerd.log)"
  }
}

# Unmount everything below $RN_DIR (deepest first): pod volumes (tmpfs),
# container rootfs (overlay), sandbox /dev/shm, netns bind mounts.
rn_unmount_all() {
  local m tries mounts
  for tries in 1 2 3; do
    mapfile -t mounts < <(awk -v d="$RN_DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r -u)
    ((${#mounts[@]})) || return 0
    for m in "${mounts[@]}"; do
      m="$(printf '%b' "$m")" # mountinfo escapes blanks as \040
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
  done
  rn_log "mounts left below $RN_DIR: $(awk -v d="$RN_DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | tr '\n' ' ')"
}

# Stop the node and remove everything it made (containers, sandboxes, mounts,
# cgroups, network, state), restoring sysctls and host paths. Works on a
# running node, a half-dead one (processes killed, mounts left) and on none.
realnode_cleanup() {
  local pid t shims
  t=$(now)
  [[ -d "$RN_DIR" ]] || return 0
  mkdir -p "$RN_DIR/pids"

  # 1. kubelet first, so it recreates nothing.
  rn_stop_pid "$(rn_pid kubelet kubelet)" 10

  # 2. Pods and containers through CRI (stops containers, CNI DEL, netns and
  # shm unmounts). Needs containerd: started again if it died with state left.
  if [[ -f "$RN_DIR/containerd/config.toml" && -d "$RN_DIR/containerd/state" && -x "$BIN_DIR/crictl" ]] &&
    command -v containerd >/dev/null; then
    if [[ -z "$(rn_pid containerd containerd)" ]]; then
      rn_log "starting containerd again to clean up its pods"
      rn_start_containerd
    fi
    crictl_ rmp --all --force >/dev/null 2>&1 || crictl_ rmp --all --force >&2 || rn_log "crictl rmp failed"
    local ns id
    # Anything created with ctr directly (not CRI).
    for ns in $(ctr_ namespaces ls -q 2>/dev/null); do
      for id in $(ctr_ -n "$ns" tasks ls -q 2>/dev/null); do
        ctr_ -n "$ns" tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
        ctr_ -n "$ns" tasks delete -f "$id" >/dev/null 2>&1 || true
      done
      for id in $(ctr_ -n "$ns" containers ls -q 2>/dev/null); do
        ctr_ -n "$ns" containers delete "$id" >/dev/null 2>&1 || true
      done
    done
  fi

  # 3. containerd, then any shim of ours still running (they name our socket).
  rn_stop_pid "$(rn_pid containerd containerd)" 10
  shims="$(pgrep -f -- "-address $RN_SOCK( |\$)" 2>/dev/null || true)"
  for pid in $shims; do rn_stop_pid "$pid" 3; done

  # 4. Whatever the runtime left: processes and cgroups, mounts, network.
  rn_remove_cgroups
  rn_unmount_all
  if ip link show "$RN_BRIDGE" >/dev/null 2>&1; then
    ip link delete "$RN_BRIDGE" 2>/dev/null || rn_log "could not delete bridge $RN_BRIDGE"
  fi
  # Shim sockets (/run/containerd/s/<hash of our socket path and ids>) that
  # no process listens on any more: ours are gone now, a system containerd's
  # live shims still listen.
  if [[ -d /run/containerd/s ]]; then
    local sock
    for sock in /run/containerd/s/*; do
      [[ -S "$sock" ]] || continue
      grep -qF " $sock" /proc/net/unix || rm -f "$sock"
    done
  fi

  # 5. State (images included; the next `up` imports them again).
  rm -rf --one-file-system "$RN_DIR/containerd/root" "$RN_DIR/containerd/state" "$RN_DIR/runc" \
    "$RN_DIR/kubelet/root" "$RN_DIR/kubelet/pki" "$RN_DIR/cni/ipam" "$RN_DIR/pod-logs" \
    "$RN_SOCK" "$RN_SOCK.ttrpc" "$RN_DIR/fingerprint" "$RN_DIR/pids" 2>/dev/null ||
    rn_log "could not remove all state below $RN_DIR"
  rn_restore_host
  rm -f "$RN_DIR/cluster"
  rn_log "stopped and cleaned up ($(elapsed "$t"))"
}

# ---------------------------------------------------------------- start ---

rn_fill() { # rn_fill TEMPLATE OUT
  sed -e "s#@RN@#$RN_DIR#g" \
    -e "s#@RUNC@#$(command -v runc)#g" \
    -e "s#@CNI_BIN_DIR@#$RN_CNI_BIN_DIR#g" \
    -e "s#@BRIDGE@#$RN_BRIDGE#g" \
    -e "s#@POD_SUBNET@#$RN_SUBNET#g" \
    -e "s#@KUBELET_PORT@#$RN_KUBELET_PORT#g" \
    -e "s#@KUBELET_HEALTHZ_PORT@#$RN_HEALTHZ_PORT#g" \
    -e "s#@CA_FILE@#$CLUSTER_DIR/pki/ca.crt#g" \
    -e "s#@CGROUP_ROOT@#$RN_CGROUP#g" \
    "$1" >"$2.tmp"
  mv -f "$2.tmp" "$2"
}

rn_api_server() { awk '$1 == "server:" { print $2; exit }' "$KUBECONFIG_PATH"; }

# What the running node was made from: templates, this file, binaries, the
# images, the cluster's CA and API server. A change means "restart the node".
# The definition files are hashed by name relative to their folder, so every
# checkout (git worktree) of the same definition agrees and does not restart
# the node another checkout started.
rn_fingerprint() {
  {
    echo "cluster=$CLUSTER_NAME api=$(rn_api_server) bin=$BIN_DIR images=$RN_IMAGES_TAR"
    (cd "$RN_CONF_DIR" && sha256sum ./*)
    sha256sum "$CLUSTER_DIR/pki/ca.crt" "$(command -v containerd)" "$(command -v runc)" 2>/dev/null
  } | sha256sum | cut -d' ' -f1
}

# The node's client certificate (CN system:node:NAME, O system:nodes) signed
# with the cluster CA, and the kubelet's kubeconfig.
rn_write_credentials() {
  local pki="$RN_DIR/pki" ca="$CLUSTER_DIR/pki/ca.crt" cakey="$CLUSTER_DIR/pki/ca.key"
  [[ -f "$ca" && -f "$cakey" ]] || die "no cluster CA in $CLUSTER_DIR/pki"
  rm -rf "$pki"
  mkdir -p "$pki"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$pki/kubelet-client.key" \
    -subj "/O=system:nodes/CN=system:node:$RN_NODE" -out "$pki/kubelet-client.csr" 2>/dev/null ||
    die "openssl req failed"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' \
    >"$pki/ext.cnf"
  openssl x509 -req -in "$pki/kubelet-client.csr" -CA "$ca" -CAkey "$cakey" -CAcreateserial \
    -CAserial "$pki/ca.srl" -days 3650 -sha256 -extfile "$pki/ext.cnf" -out "$pki/kubelet-client.crt" 2>/dev/null ||
    die "signing the kubelet client certificate failed"
  chmod 600 "$pki/kubelet-client.key"
  mkdir -p "$RN_DIR/kubelet"
  cat >"$RN_DIR/kubelet/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $CLUSTER_NAME
  cluster:
    server: $(rn_api_server)
    certificate-authority: $ca
users:
- name: system:node:$RN_NODE
  user:
    client-certificate: $pki/kubelet-client.crt
    client-key: $pki/kubelet-client.key
contexts:
- name: $RN_NODE
  context:
    cluster: $CLUSTER_NAME
    user: system:node:$RN_NODE
current-context: $RN_NODE
EOF
}

rn_port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

rn_node_field() { kc get node "$RN_NODE" -o "jsonpath=$1" 2>/dev/null; }
rn_node_registered() { kc get node "$RN_NODE" >/dev/null 2>&1; }
rn_node_ready() {
  kc -n kube-node-lease get lease "$RN_NODE" >/dev/null 2>&1 &&
  [[ "$(rn_node_field '{.status.conditions[?(@.type=="Ready")].status}/{.status.addresses[?(@.type=="InternalIP")].address}/{.spec.taints[*].key}')" == \
    "True/127.0.0.1/k8s-debug-mcp/real" ]]
}

# The kubelet runs with --cloud-provider=external and no --node-ip: it refuses
# a loopback --node-ip ("nodeIP can't be loopback address", so no addresses at
# all), and would otherwise pick eth0's address, where nothing listens. In
# external mode it waits for "the cloud provider" to set the addresses and
# keeps them; this script plays that part: InternalIP 127.0.0.1 (where the
# kubelet API listens) and removes the node.cloudprovider.kubernetes.io/
# uninitialized taint.
rn_initialize_node() {
  kc patch node "$RN_NODE" --subresource=status --type=merge \
    -p "{\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"127.0.0.1\"},{\"type\":\"Hostname\",\"address\":\"$RN_NODE\"}]}}" \
    >/dev/null || return 1
  if [[ "$(rn_node_field '{.spec.taints[*].key}')" == *node.cloudprovider.kubernetes.io/uninitialized* ]]; then
    kc taint node "$RN_NODE" node.cloudprovider.kubernetes.io/uninitialized- >/dev/null || return 1
  fi
}

# --maximum-dead-containers-per-container=2 (a flag only, not in
# KubeletConfiguration; default 1): keep the last TWO exited instances of each
# container, so `kubectl logs --previous` works right after a crash. With 1,
# the kubelet deletes instance N-1 (and its log) the moment instance N exits
# (pod_container_deletor on the PLEG ContainerDied event), but the pod status
# still names N-1 as lastState until the pod's next sync, which comes when the
# restart back-off expires (at most syncFrequency, x1-1.5 jitter): for those
# seconds --previous fails with "unable to retrieve container logs for
# containerd://<N-1>". Init containers are pruned to one exited instance on
# every sync whatever this says (kuberuntime pruneInitContainersBeforeStart).
rn_start_kubelet() {
  (
    cd /
    # PATH without /usr/sbin: no iptables, so the kubelet adds no chains.
    PATH=/usr/local/bin:/usr/bin:/bin exec setsid "$BIN_DIR/kubelet" \
      --config="$RN_DIR/kubelet/config.yaml" \
      --kubeconfig="$RN_DIR/kubelet/kubeconfig" \
      --root-dir="$RN_DIR/kubelet/root" \
      --cert-dir="$RN_DIR/kubelet/pki" \
      --hostname-override="$RN_NODE" \
      --node-labels=type=real \
      --cloud-provider=external \
      --maximum-dead-containers-per-container=2 \
      --v=2 </dev/null >"$RN_DIR/logs/kubelet.log" 2>&1 8>&- 9>&-
  ) &
  echo $! >"$RN_DIR/pids/kubelet.pid"
}

rn_fail() {
  log "ERROR: real node: $*"
  local f
  for f in "$RN_DIR/logs/containerd.log" "$RN_DIR/logs/kubelet.log"; do
    [[ -f "$f" ]] || continue
    printf '\n===== last 30 error lines of %s =====\n' "$f" >&2
    grep -a -E '^[EF][0-9]{4}|level=(error|fatal)' "$f" | tail -n 30 >&2 || true
  done
  die "real node: $* (logs in $RN_DIR/logs)"
}

realnode_healthy() {
  local verbose="${1:-}" why=""
  if [[ "$(rn_owner)" != "$CLUSTER_NAME" ]]; then why="not started for cluster $CLUSTER_NAME"
  elif [[ -z "$(rn_pid containerd containerd)" ]]; then why="containerd not running"
  elif [[ -z "$(rn_pid kubelet kubelet)" ]]; then why="kubelet not running"
  elif [[ -n "$RN_IMAGES_JSON" && "$(cat "$RN_DIR/fingerprint" 2>/dev/null)" != "$(rn_fingerprint)" ]]; then
    why="definition changed (scripts/cluster.d/realnode, binaries, images or cluster CA)"
  elif ! rn_node_ready; then why="node $RN_NODE not Ready (or no InternalIP 127.0.0.1)"
  fi
  if [[ -n "$why" ]]; then
    [[ -n "$verbose" ]] && log "real node not healthy: $why"
    return 1
  fi
  [[ -n "$verbose" ]] && log "real node healthy: $RN_NODE"
  return 0
}

# Start the node for this cluster (or leave it if healthy).
realnode_up() {
  local t0 t owner p
  t0=$(now)
  exec 8>"$RN_LOCK_FILE"
  flock -w 600 8 || die "could not lock $RN_LOCK_FILE"
  rn_ensure_packages
  [[ -x "$BIN_DIR/kubelet" && -x "$BIN_DIR/crictl" ]] || die "missing $BIN_DIR/kubelet or crictl (scripts/build-cluster-bins)"
  rn_build_images
  if realnode_healthy ""; then
    rn_log "already up ($(elapsed "$t0"))"
    exec 8>&-
    return 0
  fi
  owner="$(rn_owner)"
  if [[ -n "$owner" && "$owner" != "$CLUSTER_NAME" ]]; then
    rn_log "moving the node from cluster $owner to $CLUSTER_NAME"
  fi
  realnode_cleanup

  t=$(now)
  mkdir -p "$RN_DIR"/{containerd,cni/net.d,cni/ipam,kubelet,logs,pids,pod-logs,runc}
  echo "$CLUSTER_NAME" >"$RN_DIR/cluster"
  rn_record_host
  for p in "$RN_KUBELET_PORT" "$RN_HEALTHZ_PORT"; do
    rn_port_free "$p" || rn_fail "port 127.0.0.1:$p is in use (another kubelet?)"
  done
  rn_fill "$RN_CONF_DIR/containerd.toml" "$RN_DIR/containerd/config.toml"
  rn_fill "$RN_CONF_DIR/cni.conflist" "$RN_DIR/cni/net.d/10-k8s-debug-mcp.conflist"
  rn_fill "$RN_CONF_DIR/kubelet.yaml" "$RN_DIR/kubelet/config.yaml"
  rn_write_credentials
  rn_create_cgroups

  : >"$RN_DIR/logs/containerd.log"
  rn_start_containerd
  rn_import_images
  rn_log "containerd ready ($(elapsed "$t"))"

  t=$(now)
  # A node object left from an earlier run keeps its addresses; new ones get
  # them from rn_initialize_node.
  rn_start_kubelet
  poll "node $RN_NODE to register" "$TIMEOUT" rn_node_registered || rn_fail "kubelet did not register $RN_NODE"
  rn_initialize_node || rn_fail "could not set the addresses of $RN_NODE"
  poll "node $RN_NODE Ready" "$TIMEOUT" rn_node_ready || rn_fail "node $RN_NODE did not become Ready"
  [[ -n "$(rn_pid kubelet kubelet)" ]] || rn_fail "kubelet exited"
  rn_fingerprint >"$RN_DIR/fingerprint"
  rn_log "$RN_NODE Ready ($(elapsed "$t")); up in $(elapsed "$t0")"
  exec 8>&-
}

# Stop the node if it belongs to this cluster (or to none).
realnode_down() {
  local owner
  [[ -d "$RN_DIR" ]] || return 0
  owner="$(rn_owner)"
  if [[ -n "$owner" && "$owner" != "$CLUSTER_NAME" ]]; then
    return 0
  fi
  exec 8>"$RN_LOCK_FILE"
  flock -w 600 8 || die "could not lock $RN_LOCK_FILE"
  realnode_cleanup
  # The node object goes with the cluster; when only the node stops, remove it.
  exec 8>&-
}

realnode_logs() {
  local n="${1:-40}" f
  for f in "$RN_DIR/logs/containerd.log" "$RN_DIR/logs/kubelet.log"; do
    [[ -f "$f" ]] || continue
    printf '\n===== last %s lines of %s =====\n' "$n" "$f" >&2
    tail -n "$n" "$f" >&2 || true
  done
}
