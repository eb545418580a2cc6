"""exec: run an argv in a container (by default our debugger), bounded in time and output.

By default the command runs in the newest running debugger this server can prove it added
(tools/ownership.py), or in the debugger of a pod copy it made; any other container needs
the policy's `exec_any_container_in`.
"""

from __future__ import annotations

import asyncio
import shlex
import time
from collections.abc import Mapping
from typing import Final

from k8s_debug_mcp.tools.access import Need
from k8s_debug_mcp.tools.deps import Deps
from k8s_debug_mcp.tools.errors import InvalidTarget, WaitTimeout
from k8s_debug_mcp.tools.kube import ANN_DEBUGGER, Json, Pod, exit_meaning, text
from k8s_debug_mcp.tools.models import ExecRequest, ExecResult
from k8s_debug_mcp.tools.preview import Preview, digest
from k8s_debug_mcp.tools.secrets import masker_for
from k8s_debug_mcp.tools.text import StreamCapture, one_line
from k8s_debug_mcp.tools.waiting import ticking

__all__ = ["NEEDS", "checked_container", "exec_command", "exit_status", "explain_exit", "preview_exec"]

NEEDS: Final = (Need("create", "pods", "exec"), Need("get", "pods", "exec"))
# Stop reading (and close the stream) once this many times the cap has gone by.
OVERREAD_FACTOR: Final = 16
MIN_OVERREAD: Final = 1024 * 1024


def default_container(pod: Pod, deps: Deps) -> str | None:
    """Our newest running debugger in the pod; in a pod we created, its debugger."""
    if deps.owner.owns_pod(pod):
        named = text(pod.annotations.get(ANN_DEBUGGER))
        found = pod.container(named) if named else None
        if found is not None and found.state.phase == "running":
            return found.name
    for c in reversed(deps.owner.debuggers(pod)):
        if c.state.phase == "running":
            return c.name
    return None


def _check_running(pod: Pod, container: str) -> None:
    found = pod.container(container)
    if found is None:
        raise InvalidTarget(f"Pod {pod.name} has no container named {container!r}. Containers: {pod.listing()}.")
    state = found.state
    if state.phase == "running":
        return
    hint = (
        "add_debug_container again: a debugger whose sleeper expired cannot restart."
        if found.kind == "ephemeral"
        else f"add_debug_container with target={container} to inspect it from a debugger, or copy the pod."
    )
    raise InvalidTarget(
        f"Container {container} of pod {pod.name} is {state.describe()}; exec needs it running.", hint=hint
    )


def explain_exit(code: int | None, error: str | None) -> str | None:
    lowered = (error or "").lower()
    if code == 127 or "executable file not found" in lowered or "no such file or directory" in lowered:
        return (
            "the command does not exist in this container's image (shell-less or distroless image?); "
            "run it from a debugger: add_debug_container with target=<container>, then exec there."
        )
    return exit_meaning(code)


def exit_status(status: Json | None) -> tuple[int | None, str | None]:
    """Exit code and runtime error from the exec error channel's Status."""
    if status is None:
        return None, None
    if status.get("status") == "Success":
        return 0, None
    details = status.get("details")
    for cause in (details.get("causes") or []) if isinstance(details, Mapping) else []:
        if isinstance(cause, Mapping) and cause.get("reason") == "ExitCode":
            try:
                return int(str(cause.get("message"))), None
            except ValueError:
                break
    return None, one_line(str(status.get("message") or status.get("reason") or "exec failed"))


async def checked_container(req: ExecRequest, deps: Deps) -> tuple[Pod, str, bool]:
    """The pod, the container exec will run in, and whether it is ours, after every policy and state check."""
    pod = Pod(await deps.gateway.get_pod(req.namespace, req.pod))
    container = req.container or default_container(pod, deps)
    if container is None:
        raise InvalidTarget(
            f"No running debugger added by this server in pod {req.pod}.",
            hint="call add_debug_container first (or copy_pod, debug_node), or pass container.",
        )
    _check_running(pod, container)
    found = pod.container(container)
    ours = found is not None and deps.owner.owns_container(pod, found)
    deps.policy.check_exec_target(req.namespace, container, ours=ours)
    return pod, container, ours


async def preview_exec(req: ExecRequest, deps: Deps) -> Preview | None:
    """None when no confirmation is needed: a read-only command in our own debugger (policy)."""
    _, container, ours = await checked_container(req, deps)
    if req.stdin is None and not deps.policy.exec_needs_confirm(list(req.command), ours=ours):
        return None
    stdin = f" with {len(req.stdin.encode())} bytes on stdin" if req.stdin is not None else ""
    summary = f"Run {shlex.join(req.command)} in container {container} of pod {req.namespace}/{req.pod}{stdin}."
    body = {"container": container, "command": list(req.command), "stdin": digest(req.stdin) if req.stdin else None}
    return Preview(summary, body, details={"change": {"container": container, "argv": list(req.command)}})


async def exec_command(req: ExecRequest, deps: Deps) -> ExecResult:
    """timeout_seconds bounds the whole call: the pre-checks (reading the pod) and the stream."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(req.timeout_seconds):
            pod, container, _ = await checked_container(req, deps)
    except TimeoutError:
        raise WaitTimeout(
            f"Reading pod {req.namespace}/{req.pod} before exec took longer than "
            f"timeout_seconds={req.timeout_seconds}.",
            hint="nothing was run; the API server is slow. Retry, or raise timeout_seconds.",
        ) from None
    out, err = StreamCapture(req.max_output_bytes), StreamCapture(req.max_output_bytes)
    limit = max(MIN_OVERREAD, OVERREAD_FACTOR * req.max_output_bytes)
    over = False

    def on_output(channel: int, data: bytes) -> bool:
        nonlocal over
        (out if channel == 1 else err).feed(data)
        over = out.total + err.total > limit
        return not over

    async def report() -> str:
        return f"running in {container}: {out.total + err.total} bytes of output so far"

    timed_out = False
    status: Json | None = None
    remaining = max(req.timeout_seconds - (time.monotonic() - started), 0.1)
    try:
        async with ticking(deps, report), asyncio.timeout(remaining):
            status = await deps.gateway.exec_stream(
                req.namespace,
                req.pod,
                container=container,
                argv=list(req.command),
                stdin=req.stdin.encode() if req.stdin is not None else None,
                on_output=on_output,
            )
    except TimeoutError:
        timed_out = True
    code, error = exit_status(status)
    hint = explain_exit(code, error)
    if timed_out:
        hint = f"no exit within {req.timeout_seconds}s; the stream was closed (the process may still run)."
    elif over:
        hint = f"output passed {limit} bytes; the stream was closed. Narrow the command (head, grep, tail)."
    masker = await masker_for(deps.secrets, [pod.raw])
    stdout, masked_out = out.text(masker.mask)
    stderr, masked_err = err.text(masker.mask)
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
