"""Short text for each result: what the model reads first. Structured content carries the rest.

Every renderer gets the result after the output boundary (tools/boundary.py) and a `Fence`
drawn for this response: text that came from a workload (logs, exec output, files,
termination and event messages) is printed only inside a fence.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from k8s_debug_mcp.tools.kube import ANN_EXPIRES, format_age, obj, objs, parse_time
from k8s_debug_mcp.tools.models import (
    AddDebugContainerResult,
    CleanupResult,
    ConfirmationNeeded,
    ContainerInfo,
    CopyPodResult,
    DebugNodeResult,
    DiagnoseResult,
    ExecResult,
    InspectResult,
    ListPodsResult,
    PodLogsResult,
    PodStatusResult,
    WhoamiResult,
)
from k8s_debug_mcp.tools.text import Fence

__all__ = [
    "render_add_debug_container",
    "render_cleanup",
    "render_copy_pod",
    "render_debug_node",
    "render_diagnose",
    "render_exec",
    "render_inspect",
    "render_list_pods",
    "render_pod_logs",
    "render_pod_status",
    "render_whoami",
]


def _observed(value: str) -> datetime:
    return parse_time(value) or datetime.now(UTC)


def _ago(value: str | None, now: datetime) -> str:
    return format_age(parse_time(value), now) if value else "?"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def render_list_pods(res: ListPodsResult, fence: Fence) -> str:
    now = _observed(res.observed_at)
    where = f"namespace {res.namespace}" if res.namespace else "all namespaces"
    head = f"{len(res.pods)} pod(s) in {where}"
    if res.problems_only:
        head += f" with problems ({res.scanned} pods scanned"
        head += f", {res.problems_not_shown} more not shown)" if res.problems_not_shown else ")"
    if res.hidden_by_policy:
        head += f"; {res.hidden_by_policy} more in namespaces this server's policy hides"
    lines = [head]
    if res.note:
        lines.append(f"note: {res.note}")
    if res.pods:
        header = (["NAMESPACE"] if res.namespace is None else []) + [
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "NODE",
        ]
        rows = [header]
        for p in res.pods:
            restarts = str(p.restarts or 0)
            if p.last_restart_at:
                restarts += f" ({_ago(p.last_restart_at, now)} ago)"
            rows.append(
                ([p.namespace or ""] if res.namespace is None else [])
                + [p.name, p.ready, p.status, restarts, _ago(p.created, now), p.node or "<none>"]
            )
        lines += _table(rows)
        problems = [p for p in res.pods if p.problem]
        if problems:
            lines.append("problems:")
            lines += [f"  {p.name}: {p.problem}" for p in problems]
        notes = [p for p in res.pods if p.note]
        if notes:
            lines.append("notes:")
            lines += [f"  {p.name}: {p.note}" for p in notes]
    if res.continue_token:
        more = f" (~{res.remaining} more)" if res.remaining else ""
        if res.problems_only:
            lines.append(
                f"the scan stopped at its time budget{more}: continue with continue_token={res.continue_token}"
            )
        else:
            lines.append(f"more pods{more}: call again with continue_token={res.continue_token}")
    return "\n".join(lines)


def _state(c: ContainerInfo, now: datetime) -> str:
    if c.state == "running":
        text = f"running {_ago(c.started_at, now)}"
    elif c.state == "terminated":
        text = f"terminated {c.reason or ''}".rstrip()
        if c.exit_code is not None:
            text += f" exit={c.exit_code}"
        if c.signal:
            text += f" signal={c.signal}"
        if c.finished_at:
            text += f" {_ago(c.finished_at, now)} ago"
    else:
        text = f"{c.state} {c.reason or ''}".rstrip()
    return text


def render_pod_status(res: PodStatusResult, fence: Fence) -> str:
    now = _observed(res.observed_at)
    facts = [f"phase {res.phase}", f"status {res.status}", f"node {res.node or '<none>'}"]
    if res.pod_ip:
        facts.append(f"ip {res.pod_ip}")
    facts.append(f"age {_ago(res.created, now)}")
    if res.deleting:
        facts.append("being deleted")
    lines = [f"pod {res.namespace}/{res.name}: " + ", ".join(facts)]
    if res.note:
        lines.append(f"note: {res.note}")
    if res.owners:
        lines.append(
            "owners: " + " -> ".join(f"{o.kind} {o.name}" + (f" ({o.detail})" if o.detail else "") for o in res.owners)
        )
    conds = []
    messages: list[str] = []
    for cond in res.conditions:
        item = f"{cond.type}={cond.status}"
        if cond.status != "True" and cond.reason:
            item += f" ({cond.reason})"
        if cond.status != "True" and cond.message:
            messages.append(f"condition {cond.type}: {cond.message}")
        conds.append(item)
    if conds:
        lines.append("conditions: " + ", ".join(conds))
    lines.append("containers:")
    for c in res.containers:
        tail = [_state(c, now)]
        if c.kind != "ephemeral":
            tail.append(f"ready={str(c.ready).lower() if c.ready is not None else '?'}")
        if c.restart_count:
            tail.append(f"restarts={c.restart_count}")
        if c.last_termination:
            lt = c.last_termination
            last = f"last: {lt.reason or 'terminated'}"
            if lt.exit_code is not None:
                last += f" exit={lt.exit_code}"
            if lt.signal:
                last += f" signal={lt.signal}"
            if lt.finished_at:
                last += f" {_ago(lt.finished_at, now)} ago"
            tail.append(last)
        target = f" target={c.target}" if c.target else ""
        if c.ours:
            target += ", ours" + (f", expires {c.expires_at}" if c.expires_at else "")
        lines.append(f"  {c.name} [{c.kind}{target}] {c.image or ''}: " + "; ".join(tail))
        if c.message:
            messages.append(f"{c.name} {c.state}: {c.message}")
        if c.last_termination and c.last_termination.message:
            messages.append(f"{c.name} last termination message: {c.last_termination.message}")
    if messages:
        lines.append("messages (from the kubelet and the containers):")
        lines.append(fence.wrap(f"messages of pod {res.name}", "\n".join(messages)))
    if res.events:
        body = "\n".join(
            f"{e.type} {e.reason} x{e.count} {_ago(e.last_seen_at, now)} ago"
            + (f" [{e.source}{'/' + e.container if e.container else ''}]" if e.source else "")
            + f": {e.message}"
            for e in res.events
        )
        more = f" (+{res.events_omitted} older)" if res.events_omitted else ""
        lines.append(f"events, newest first{more}:")
        lines.append(fence.wrap(f"events of pod {res.name}", body))
    else:
        lines.append("events: none recorded (events expire after about an hour)")
    return "\n".join(lines)


def render_pod_logs(res: PodLogsResult, fence: Fence) -> str:
    which = "previous instance of " if res.previous else ""
    head = f"logs of {which}container {res.container} in pod {res.namespace}/{res.pod}: {res.lines} line(s)"
    if res.truncated:
        head += ", older output cut (raise limit_bytes or lower tail_lines)"
    lines = [head]
    if res.note:
        lines.append(f"note: {res.note}")
    if res.masked:
        lines.append(f"{res.masked} secret-looking value(s) masked")
    lines.append(fence.wrap(f"logs {res.pod}/{res.container}", res.text) if res.text else "(no output)")
    return "\n".join(lines)


def render_add_debug_container(res: AddDebugContainerResult, fence: Fence) -> str:
    target = f" targeting {res.target}" if res.target else ""
    where = f"pod {res.namespace}/{res.pod}"
    if res.dry_run:
        lines = [
            f"DRY RUN: would add debug container {res.container} ({res.image}, profile {res.profile}){target} "
            f"to {where}; nothing was changed.",
            f"server dry run: {res.server_dry_run}",
            f"request: {res.api_request}",
            "patch: " + json.dumps(res.patch, separators=(",", ":")),
        ]
        if res.kubectl:
            lines.append(f"kubectl equivalent: {res.kubectl}")
    else:
        verb = "reusing existing" if res.reused else "added"
        state = res.state + (f" ({res.reason})" if res.reason else "")
        lines = [
            f"{verb} debug container {res.container} ({res.image}, profile {res.profile}){target} in {where}: {state}."
        ]
        if res.message:
            lines.append(fence.wrap(f"message of {res.container}", res.message))
        if res.expires_at:
            lines.append(f"it sleeps until {res.expires_at}; run commands in it with exec (container {res.container}).")
    lines += [f"warning: {w}" for w in res.warnings]
    return "\n".join(lines)


def render_exec(res: ExecResult, fence: Fence) -> str:
    if res.exit_code is not None:
        outcome = f"exit code {res.exit_code}"
    elif res.timed_out:
        outcome = "timed out"
    elif res.output_limit_hit:
        outcome = "stopped: output limit"
    else:
        outcome = "did not run"
    head = f"{outcome} in {res.namespace}/{res.pod} container {res.container} ({res.duration_ms} ms)"
    lines = [head]
    if res.error:
        lines.append(f"error: {res.error}")
    if res.hint:
        lines.append(f"hint: {res.hint}")
    if res.masked:
        lines.append(f"{res.masked} secret-looking value(s) masked")
    for name, body, total in (("stdout", res.stdout, res.stdout_bytes), ("stderr", res.stderr, res.stderr_bytes)):
        if total:
            lines.append(fence.wrap(f"{name}, {total} bytes", body))
    if not (res.stdout_bytes or res.stderr_bytes):
        lines.append("(no output)")
    return "\n".join(lines)


def render_inspect(res: InspectResult, fence: Fence) -> str:
    where = f"pod {res.namespace}/{res.pod} debugger {res.container}"
    lines: list[str] = []
    if res.processes is not None:
        lines.append(f"{len(res.processes)} process(es) visible from {where}:")
        if any(p.container for p in res.processes):
            rows = [["PID", "USER", "CONTAINER", "COMMAND"]] + [
                [str(p.pid), p.user, p.container or "-", p.command] for p in res.processes
            ]
        else:
            rows = [["PID", "USER", "COMMAND"]] + [[str(p.pid), p.user, p.command] for p in res.processes]
        lines.append(fence.wrap("ps", "\n".join(_table(rows))))
    else:
        status = "ok" if res.exit_code == 0 else f"exit {res.exit_code}" if res.exit_code is not None else "failed"
        cut = ", truncated" if res.truncated else ""
        lines.append(f"{res.what} {res.path or ''} from {where}: {status}{cut}")
        if res.text:
            lines.append(fence.wrap(f"{res.what} {res.path}", res.text))
    if res.error:
        lines.append("error:")
        lines.append(fence.wrap("stderr", res.error))
    if res.hint:
        lines.append(f"hint: {res.hint}")
    return "\n".join(lines)


def render_copy_pod(res: CopyPodResult, fence: Fence) -> str:
    dbg = f", debugger {res.debugger}" if res.debugger else ""
    if res.dry_run:
        lines = [
            f"DRY RUN: would create {res.namespace}/{res.name}, a copy of {res.source}{dbg}; nothing was created.",
            f"server dry run: {res.server_dry_run}",
        ]
    else:
        lines = [
            f"created copy {res.namespace}/{res.name} of {res.source}{dbg}: {res.phase} on {res.node or '?'}; "
            f"expires {res.expires_at} (delete with cleanup)."
        ]
        if res.debugger:
            lines.append(f"exec and inspect use {res.debugger} by default.")
    lines.append("changes vs source:")
    lines += [f"  - {c}" for c in res.changes] or ["  (none)"]
    lines += [f"warning: {w}" for w in res.warnings]
    if res.dry_run:
        lines.append("manifest (built from the source pod's spec):")
        lines.append(fence.wrap(f"manifest of {res.name}", json.dumps(res.manifest, separators=(",", ":"))))
        if res.kubectl:
            lines.append(f"kubectl equivalent (without our markers): {res.kubectl}")
    return "\n".join(lines)


def _node_hints(res: DebugNodeResult) -> list[str]:
    spec = obj(res.manifest.get("spec"))
    mounts = [m for c in objs(spec.get("containers")) for m in objs(c.get("volumeMounts"))]
    hints: list[str] = []
    if spec.get("hostPID"):
        hints.append("host processes (the kubelet, containerd): inspect what=processes")
    if any(m.get("mountPath") == "/host" for m in mounts):
        hints += [
            "node files: inspect what=ls/cat path=/etc (read under /host)",
            "host commands: exec command=['chroot','/host','sh','-c','...']",
            "kubelet/containerd logs: chroot /host journalctl -u kubelet -u containerd (systemd nodes), "
            "else /host/var/log (kubelet.log, containerd.log, pods/, containers/)",
        ]
    if not hints:
        hints.append("no host access with this profile: a pod on the node with its own namespaces")
    return hints


def render_debug_node(res: DebugNodeResult, fence: Fence) -> str:
    meta, spec = obj(res.manifest.get("metadata")), obj(res.manifest.get("spec"))
    container = next(iter(objs(spec.get("containers"))), {}).get("name")
    where = f"{meta.get('namespace')}/{res.name} (container {container}) on node {spec.get('nodeName')}"
    expires = obj(meta.get("annotations")).get(ANN_EXPIRES)
    if res.phase == "dry-run":
        lines = [
            f"DRY RUN: would create node debugger {where}; nothing was created.",
            f"server dry run: {res.server_dry_run}",
        ]
        lines.append(fence.wrap(f"manifest of {res.name}", json.dumps(res.manifest, separators=(",", ":"))))
    else:
        lines = [f"node debugger {where}: {res.phase}; expires {expires} (delete with cleanup)."]
        if res.phase != "Running":
            lines.append(f"its command has ended: read pod_logs {res.name}.")
        lines += [f"- {h}" for h in _node_hints(res)]
    if res.kubectl:
        lines.append(f"kubectl equivalent (without our markers): {res.kubectl}")
    lines += [f"warning: {w}" for w in res.warnings]
    return "\n".join(lines)


def render_cleanup(res: CleanupResult, fence: Fence) -> str:
    verb = "would delete" if res.dry_run else "deleted"
    lines = [
        f"{verb} {len(res.deleted)} pod(s) in {res.namespace}" + (": " + ", ".join(res.deleted) if res.deleted else "")
    ]
    if res.kept:
        lines.append("kept (not expired): " + ", ".join(res.kept))
    if res.debuggers:
        lines.append(
            f"left in pods ({len(res.debuggers)} ephemeral debugger(s) of ours; they can never be removed and stay "
            "until each pod is replaced):"
        )
        lines += [f"  - {d}" for d in res.debuggers]
    if res.refused:
        lines.append("refused:")
        lines += [f"  - {r}" for r in res.refused]
    return "\n".join(lines)


def render_whoami(res: WhoamiResult, fence: Fence) -> str:
    lines = [f"{res.user} on {res.server}" + (f" (groups: {', '.join(res.groups[:6])})" if res.groups else "")]
    allowed = [f"{c.permission} ({c.tool})" for c in res.checks if c.allowed]
    denied = [f"{c.permission} ({c.tool})" for c in res.checks if not c.allowed]
    lines.append(f"RBAC in {res.namespace}: allowed: {', '.join(allowed) or 'nothing'}")
    if denied:
        lines.append(f"RBAC denies: {', '.join(denied)}")
    mode = "read-only" if res.read_only else "preview-only" if res.preview_only else "read-write"
    confirm = "with user confirmation" if res.confirm else "without confirmation"
    lines.append(f"server policy: {mode}, {confirm}; profiles: {', '.join(res.profiles)}")
    lines.append(f"secret values: {res.secret_masking}")
    return "\n".join(lines)


def render_confirmation(res: ConfirmationNeeded, fence: Fence) -> str:
    change = res.change if isinstance(res.change, str) else json.dumps(res.change, separators=(",", ":"))
    lines = [
        "Needs the user's yes (nothing was changed yet). Show them this; if they approve, call again with the "
        f'same arguments plus plan_id="{res.plan_id}" (once, within {res.expires_in_s // 60} minutes).',
        res.summary,
    ]
    if res.server_dry_run:
        lines.append(f"server dry run: {res.server_dry_run}")
    lines.append("exact change:")
    lines.append(fence.wrap("change", change))
    if res.kubectl:
        lines.append(f"kubectl equivalent: {res.kubectl}")
    return "\n".join(lines)


def render_diagnose(res: DiagnoseResult, fence: Fence) -> str:
    head = f"{res.target} in {res.namespace}: {len(res.pods)} pod(s) examined"
    if res.pod_security:
        head += f"; Pod Security enforce={res.pod_security}"
    lines = [head]
    for i, f in enumerate(res.findings, 1):
        where = "/".join(x for x in (f.pod, f.container) if x)
        lines.append(f"{i}. [{f.severity}] {f.title}" + (f" ({where})" if where else ""))
        lines.append(f"   evidence: {f.evidence}")
        if f.excerpt:
            lines.append(fence.wrap(f"{where or res.target}", f.excerpt))
        lines.append(f"   next: {f.next_step}")
    return "\n".join(lines)
