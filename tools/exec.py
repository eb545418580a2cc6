"""exec: run an argv in a container (by default our debugger), bounded in time and output."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any, Final

from k8s_debug_mcp.tools.access import require
from k8s_debug_mcp.tools.debug import debugger_status, marker
from k8s_debug_mcp.tools.errors import InvalidTarget
from k8s_debug_mcp.tools.gateway import KubeGateway
from k8s_debug_mcp.tools.models import ExecRequest, ExecResult
from k8s_debug_mcp.tools.patches import MANAGED_BY, MANAGED_BY_LABEL, MARKER_KEY
from k8s_debug_mcp.tools.podview import container_entries
from k8s_debug_mcp.tools.policy import Policy
from k8s_debug_mcp.tools.redact import mask_text
from k8s_debug_mcp.tools.text import StreamCapture, one_line

__all__ = ["exec_command", "explain_exit"]

# Stop reading (and close the stream) once this many times the cap has gone by.
OVERREAD_FACTOR: Final = 16
MIN_OVERREAD: Final = 1024 * 1024

Json = Mapping[str, Any]


def _running_debugger(pod: Json) -> str | None:
    """The newest ephemeral container this server added that is running."""
    for container in reversed((pod.get("spec") or {}).get("ephemeralContainers") or []):
        if isinstance(container, Mapping) and marker(container, MARKER_KEY) is not None:
            name = str(container.get("name"))
            if "running" in (debugger_status(pod, name).get("state") or {}):
                return name
    return None


def _is_ours(pod: Json, container: str) -> bool:
    """A debugger we added, or any container of a pod copy we made."""
    labels = (pod.get("metadata") or {}).get("labels") or {}
    if labels.get(MANAGED_BY_LABEL) == MANAGED_BY:
        return True
    return any(
        isinstance(c, Mapping) and c.get("name") == container and marker(c, MARKER_KEY) is not None
        for c in (pod.get("spec") or {}).get("ephemeralContainers") or []
    )


def _check_running(pod: Json, pod_name: str, container: str) -> None:
    for kind, spec, status in container_entries(pod):
        if spec.get("name") != container:
            continue
        state = status.get("state") or {}
        if "running" in state:
            return
        if "waiting" in state:
            detail = f"waiting ({(state['waiting'] or {}).get('reason') or 'no reason'})"
        elif "terminated" in state:
            term = state["terminated"] or {}
            detail = f"terminated ({term.get('reason') or 'exit ' + str(term.get('exitCode'))})"
        else:
            detail = "not started yet"
        hint = (
            "add_debug_container again: a debugger whose sleeper expired cannot restart."
            if kind == "ephemeral"
            else f"add_debug_container with target={container} to inspect it from a debugger, or copy the pod."
        )
        raise InvalidTarget(f"Container {container} of pod {pod_name} is {detail}; exec needs it running.", hint=hint)
    names = ", ".join(f"{c.get('name')} ({k})" for k, c, _ in container_entries(pod))
    raise InvalidTarget(f"Pod {pod_name} has no container named {container!r}. Containers: {names}.")


def explain_exit(code: int | None, error: str | None) -> str | None:
    text = (error or "").lower()
    if code == 127 or "executable file not found" in text or "no such file or directory" in text:
        return (
            "the command does not exist in this container's image (shell-less or distroless image?); "
            "run it from a debugger: add_debug_container with target=<container>, then exec there."
        )
    if code == 126:
        return "the command exists but cannot be executed (permissions or wrong architecture)."
    if code == 137:
        return "killed by SIGKILL (out of memory, or killed from outside)."
    if code == 143:
        return "terminated by SIGTERM."
    return None


def _exit_code(status: Json | None) -> tuple[int | None, str | None]:
    """Exit code and runtime error from the error channel's Status."""
    if status is None:
        return None, None
    if status.get("status") == "Success":
        return 0, None
    details = status.get("details") or {}
    for cause in details.get("causes") or []:
        if isinstance(cause, Mapping) and cause.get("reason") == "ExitCode":
            try:
                return int(str(cause.get("message"))), None
            except ValueError:
                break
    return None, one_line(str(status.get("message") or status.get("reason") or "exec failed"), 400)


async def checked_container(req: ExecRequest, *, gateway: KubeGateway, policy: Policy) -> str:
    """The container exec will run in, after every policy and state check."""
    policy.check_namespace(req.namespace)
    policy.check_write(dry_run=False)
    await require(gateway, req.namespace, ("create", "pods", "exec"), ("get", "pods", "exec"))
    pod = await gateway.get_pod(req.namespace, req.pod)
    container = req.container or _running_debugger(pod)
    if container is None:
        raise InvalidTarget(
            f"No running debugger added by this server in pod {req.pod}.",
            hint="call add_debug_container first, or pass container.",
        )
    _check_running(pod, req.pod, container)
    policy.check_exec_target(req.namespace, container, ours=_is_ours(pod, container))
    return container


async def exec_command(req: ExecRequest, *, gateway: KubeGateway, policy: Policy) -> ExecResult:
    container = await checked_container(req, gateway=gateway, policy=policy)

    out, err = StreamCapture(req.max_output_bytes), StreamCapture(req.max_output_bytes)
    limit = max(MIN_OVERREAD, OVERREAD_FACTOR * req.max_output_bytes)
    over = False

    def on_output(channel: int, data: bytes) -> bool:
        nonlocal over
        (out if channel == 1 else err).feed(data)
        over = out.total + err.total > limit
        return not over

    started = time.monotonic()
    timed_out = False
    status: Json | None = None
    try:
        async with asyncio.timeout(req.timeout_seconds):
            status = await gateway.exec_stream(
                req.namespace,
                req.pod,
                container=container,
                argv=list(req.command),
                stdin=req.stdin.encode() if req.stdin is not None else None,
                on_output=on_output,
            )
    except TimeoutError:
        timed_out = True
    code, error = _exit_code(status)
    hint = explain_exit(code, error)
    if timed_out:
        hint = f"no exit within {req.timeout_seconds}s; the stream was closed (the process may still run)."
    elif over:
        hint = f"output passed {limit} bytes; the stream was closed. Narrow the command (head, grep, tail)."
    stdout, masked_out = mask_text(out.text())
    stderr, masked_err = mask_text(err.text())
    return ExecResult(
        namespace=req.namespace,
        pod=req.pod,
        container=container,
        command=list(req.command),
        exit_code=code,
        stdout=stdout,
        stderr=stderr,
        masked=masked_out + masked_err,
        stdout_bytes=out.total,
        stderr_bytes=err.total,
        truncated=out.truncated or err.truncated,
        timed_out=timed_out,
        output_limit_hit=over,
        duration_ms=int((time.monotonic() - started) * 1000),
        error=error,
        hint=hint,
    )
