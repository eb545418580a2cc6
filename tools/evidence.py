"""Evidence that decides, as pure functions: log lines chosen for meaning, kubelet messages told
apart from the app's output, probe targets, and what changed between two pod templates."""

from __future__ import annotations

import re
import shlex
from typing import Final

from k8s_debug_mcp.tools.kube import Json, obj, objs, text

__all__ = [
    "is_kubelet_message",
    "log_excerpt",
    "missing_reference",
    "probe_target",
    "template_changes",
]

# Lines that look like the reason a process died, in any language's idiom.
_DECISIVE: Final = re.compile(
    r"(?i)(\bfatal\b|\bpanic\b|\berror\b|\bexception\b|traceback|\bfailed\b|\bfailure\b|\bcannot\b|can't|"
    r"could not|unable to|\bdenied\b|refused|not found|no such|read-only|segmentation fault|\binvalid\b|"
    r"\btimed? ?out\b|\babort)"
)
# Continuation lines of a trace that belong to the decisive line above them.
_CONTINUATION: Final = re.compile(r"^(\s+\S|goroutine \d+|Caused by|\s*at |\s*File \")")
_KUBELET: Final = re.compile(
    r"(?i)^(unable to retrieve container logs for|failed to try resolving symlinks in path|"
    r"previous terminated container .* not found|failed to get parse function)"
)


def is_kubelet_message(log: str) -> bool:
    """The kubelet's own error returned in place of a log (HTTP 200, one line): not the app's output."""
    first = log.strip().splitlines()[:1]
    return bool(first) and bool(_KUBELET.match(first[0].strip()))


def log_excerpt(log: str, *, decisive: int = 4, tail: int = 2, max_chars: int = 700) -> str | None:
    """The lines a person would quote: those that look decisive (with a trace line after each), then
    the last lines; in their order, with `…` where lines were skipped."""
    lines = [line.rstrip() for line in log.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        return None
    chosen: set[int] = set()
    for i, line in enumerate(lines):
        if len([j for j in chosen if _DECISIVE.search(lines[j])]) >= decisive:
            break
        if _DECISIVE.search(line):
            chosen.add(i)
            after = next((j for j in range(i + 1, min(i + 3, len(lines))) if lines[j].strip()), None)
            if after is not None and _CONTINUATION.match(lines[after]):
                chosen.add(after)
    chosen.update(range(max(len(lines) - tail, 0), len(lines)))
    out: list[str] = []
    last = -1
    for i in sorted(chosen):
        if lines[i].strip() == "":
            continue
        if last >= 0 and any(lines[j].strip() for j in range(last + 1, i)):
            out.append("…")
        out.append(lines[i].strip())
        last = i
    excerpt = " | ".join(out)
    return excerpt if len(excerpt) <= max_chars else excerpt[: max_chars - 1] + "…"


_MISSING: Final = re.compile(
    r"""(?i)\b(configmap|secret|persistentvolumeclaim)s?\s+"([\w.-]+)"\s+not\s+found"""
    r"""|couldn't\s+find\s+key\s+([\w.-]+)\s+in\s+(ConfigMap|Secret)\s+[\w.-]+/([\w.-]+)"""
)


def missing_reference(message: str) -> str | None:
    """From a kubelet message: what is missing, e.g. `ConfigMap "app-config"`, `key "password" of Secret "db"`."""
    m = _MISSING.search(message)
    if m is None:
        return None
    names = {"configmap": "ConfigMap", "secret": "Secret", "persistentvolumeclaim": "PersistentVolumeClaim"}
    if m.group(1):
        return f'{names[m.group(1).lower()]} "{m.group(2)}"'
    return f'key "{m.group(3)}" of {m.group(4)} "{m.group(5)}"'


def probe_target(probe: Json) -> str:
    """`httpGet :8081/healthz`, `tcpSocket :5432`, `exec cat /tmp/ready`, `grpc :9000`."""
    for kind in ("httpGet", "tcpSocket", "grpc"):
        if kind in probe:
            spec = obj(probe[kind])
            path = text(spec.get("path")) or ""
            return f"{kind} :{spec.get('port')}{path}"
    command = obj(probe.get("exec")).get("command")
    if isinstance(command, list):
        return "exec " + shlex.join(str(c) for c in command)[:80]
    return "probe"


def _argv(container: Json, key: str) -> str:
    value = container.get(key)
    return shlex.join(str(v) for v in value) if isinstance(value, list) else "(image default)"


def _refs(container: Json, spec: Json) -> set[str]:
    refs: set[str] = set()
    for env in objs(container.get("env")):
        source = obj(env.get("valueFrom"))
        for kind, key in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
            ref = obj(source.get(kind))
            if ref:
                refs.add(f"{key} {ref.get('name')}/{ref.get('key')}")
    for src in objs(container.get("envFrom")):
        for kind, key in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            if obj(src.get(kind)):
                refs.add(f"{key} {obj(src.get(kind)).get('name')}")
    for vol in objs(spec.get("volumes")):
        for kind, key, field in (("configMap", "ConfigMap", "name"), ("secret", "Secret", "secretName")):
            if obj(vol.get(kind)):
                refs.add(f"{key} {obj(vol.get(kind)).get(field)}")
        if obj(vol.get("persistentVolumeClaim")):
            refs.add(f"PVC {obj(vol.get('persistentVolumeClaim')).get('claimName')}")
    return refs


def _env_values(container: Json) -> dict[str, str]:
    return {
        str(e.get("name")): str(e.get("value") if "value" in e else e.get("valueFrom"))
        for e in objs(container.get("env"))
    }


def template_changes(old: Json, new: Json) -> list[str]:
    """What a rollout changed in the pod template, one short line per difference (env by name only)."""
    old_spec, new_spec = obj(old.get("spec")), obj(new.get("spec"))
    changes: list[str] = []
    for key in ("initContainers", "containers"):
        before = {str(c.get("name")): c for c in objs(old_spec.get(key))}
        after = {str(c.get("name")): c for c in objs(new_spec.get(key))}
        for name in after.keys() - before.keys():
            changes.append(f"{name}: container added ({after[name].get('image')})")
        for name in before.keys() - after.keys():
            changes.append(f"{name}: container removed")
        for name in sorted(after.keys() & before.keys()):
            a, b = before[name], after[name]
            if a.get("image") != b.get("image"):
                changes.append(f"{name}: image {a.get('image')} -> {b.get('image')}")
            for field in ("command", "args"):
                if a.get(field) != b.get(field):
                    changes.append(f"{name}: {field} {_argv(a, field)} -> {_argv(b, field)}")
            env_a, env_b = _env_values(a), _env_values(b)
            added = sorted(env_b.keys() - env_a.keys())
            removed = sorted(env_a.keys() - env_b.keys())
            changed = sorted(k for k in env_a.keys() & env_b.keys() if env_a[k] != env_b[k])
            for label, names in (("env added", added), ("env removed", removed), ("env changed", changed)):
                if names:
                    changes.append(f"{name}: {label}: {', '.join(names)}")
            if a.get("resources") != b.get("resources"):
                changes.append(f"{name}: resources {a.get('resources') or {}} -> {b.get('resources') or {}}")
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                pa, pb = obj(a.get(probe)), obj(b.get(probe))
                if pa != pb:
                    was = probe_target(pa) if pa else "none"
                    now = probe_target(pb) if pb else "none"
                    changes.append(f"{name}: {probe} {was} -> {now}")
            refs_a, refs_b = _refs(a, old_spec), _refs(b, new_spec)
            if refs_a != refs_b:
                gained, lost = sorted(refs_b - refs_a), sorted(refs_a - refs_b)
                if gained:
                    changes.append(f"{name}: now uses {', '.join(gained)}")
                if lost:
                    changes.append(f"{name}: no longer uses {', '.join(lost)}")
    for field in ("serviceAccountName", "nodeSelector", "securityContext"):
        if old_spec.get(field) != new_spec.get(field):
            changes.append(f"pod {field}: {old_spec.get(field)} -> {new_spec.get(field)}")
    return changes
