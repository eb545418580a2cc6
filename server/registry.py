"""Tools as data, and the one path every call takes.

A `ToolSpec` is a tool's whole contract: request and result models, the runner, the
renderer, the RBAC it needs, its preview (what the user approves) and its annotations.
`build_tools` turns specs into MCP tools whose handler does, in this order and for every tool:

1. validate the raw arguments with the request model (unknown keys refused, short messages);
2. write tools: the audit's intent line (flushed) — before anything else can happen;
3. policy: namespace allow/deny; write tools: read-only/preview-only; then RBAC (`needs`);
4. write tools: confirmation (elicitation or a one-time plan id bound to the previewed body);
5. run the tool with a per-call `Deps`, recording which pods it read;
6. the output boundary: every string of the result masked (shapes + the values of the Secrets
   those pods reference), disarmed and capped (tools/boundary.py); text rendered from that,
   untrusted parts inside a per-response fence;
7. write tools: the audit's outcome line (applied / not applied / unknown).
Exposure (read-only mode) is decided here and only here; tool bodies never look at it.
"""

from __future__ import annotations

import inspect
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

from mcp.server.elicitation import AcceptedElicitation, CancelledElicitation, DeclinedElicitation, ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp.server.mcpserver.tools import Tool
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import ValidationError
from pydantic.json_schema import WithJsonSchema

from k8s_debug_mcp.server.audit import AuditUnavailable, CallRecord
from k8s_debug_mcp.server.confirm import (
    Approval,
    Arguments,
    Caller,
    Claim,
    Ctx,
    Gate,
    args_digest,
    caller_of,
    confirmation_needed,
    supports_elicitation,
)
from k8s_debug_mcp.server.errors import describe_debug_error, describe_validation_error
from k8s_debug_mcp.server.logs import get_logger
from k8s_debug_mcp.server.plans import PlanBinding
from k8s_debug_mcp.tools.access import Need, require
from k8s_debug_mcp.tools.boundary import sanitize, sanitize_text
from k8s_debug_mcp.tools.deps import Deps
from k8s_debug_mcp.tools.errors import ClusterUnavailable, DebugError, Forbidden, KubeApiError, PolicyDenied
from k8s_debug_mcp.tools.kube import JsonDict
from k8s_debug_mcp.tools.models import ConfirmationNeeded, Request, Result
from k8s_debug_mcp.tools.preview import Preview, request_seed
from k8s_debug_mcp.tools.redact import Masker
from k8s_debug_mcp.tools.render import render_confirmation
from k8s_debug_mcp.tools.secrets import masker_for, touched_pods
from k8s_debug_mcp.tools.text import Fence

if TYPE_CHECKING:
    from k8s_debug_mcp.server.app import AppContext

__all__ = ["ToolSpec", "build_tools", "compact_schema", "present"]

Req = TypeVar("Req", bound=Request)
Res = TypeVar("Res", bound=Result)
ERROR_CAP = 4000

_raw_arguments: ContextVar[Arguments | None] = ContextVar("k8s_debug_mcp_raw_arguments", default=None)


@dataclass(frozen=True, slots=True)
class ToolSpec(Generic[Req, Res]):
    name: str
    title: str
    description: str
    request: type[Req]
    result: type[Res]
    run: Callable[[Req, Deps], Awaitable[Res]]
    render: Callable[[Res, Fence], str]
    read_only: bool
    needs: tuple[Need, ...] = ()
    """RBAC the tool needs: checked before every write (SelfSubjectAccessReview); whoami reports it."""
    preview: Callable[[Req, Deps], Awaitable[Preview | None]] | None = None
    """What the user approves; None: no confirmation (or nothing would change)."""
    destructive: bool = False
    idempotent: bool = True

    @property
    def annotations(self) -> ToolAnnotations:
        # Only what differs from the spec's defaults (readOnly false, destructive true, idempotent
        # false, openWorld true), and destructive false on read tools for clients that ignore
        # readOnly. openWorld stays true: every tool returns text from the cluster's workloads
        # (logs, exec output, event messages, annotations), which the client should treat as
        # coming from outside, as it would a web page.
        return ToolAnnotations(
            read_only_hint=True if self.read_only else None,
            destructive_hint=False if not self.destructive else None,
            idempotent_hint=True if self.idempotent and not self.read_only else None,
        )


AnySpec = ToolSpec[Any, Any]


def compact_schema(schema: Any, *, output: bool = False, top: bool = True) -> Any:
    """Shrink a pydantic JSON schema without changing what it accepts (the model re-reads it every turn).

    - drops auto-generated 'title' keywords (property names are kept);
    - an optional field, ``anyOf: [{type: T, ...}, {type: null}]``, becomes the T branch: a null
      input means "not given" (the handler drops nulls), and results leave out fields that are
      None (structured content is dumped without them), so no consumer ever sees a null;
    - inputs: drops ``default`` of null or false (they go without saying) and the length and
      number bounds (validated by the server, whose message names the bound; noise to the model);
    - outputs: drops every default, description and ``required`` (the text explains the
      result; a result is validated by its model before it is sent), and ``type`` where
      ``properties`` or ``items`` already say it (the root keeps ``type: object``).
    """
    if isinstance(schema, list):
        return [compact_schema(item, output=output, top=False) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: Arguments = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "default" and (value is None or value is False or value == "" or output):
            continue
        if key in ("maxLength", "minLength", "maximum", "minimum", "maxItems", "pattern") and not output:
            continue  # bounds are validated by the server, which names the bound when one is crossed
        if key in ("description", "required") and output and isinstance(value, str | list):
            continue
        if key == "additionalProperties" and (value is True or (value is False and top)):
            continue  # the default; unknown arguments are refused by the handler, not by the client
        if key == "enum" and output:
            continue  # the text names the value; the type says enough
        if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {name: compact_schema(sub, output=output, top=False) for name, sub in value.items()}
        else:
            out[key] = compact_schema(value, output=output, top=False)
    if output and not top and out.get("type") in ("object", "array") and ("properties" in out or "items" in out):
        del out["type"]  # implied by properties/items for what we send; the root keeps its type
    branches = out.get("anyOf")
    if isinstance(branches, list) and len(branches) == 2 and {"type": "null"} in branches:
        other = next(b for b in branches if b != {"type": "null"})
        if isinstance(other, dict):
            del out["anyOf"]
            out = {**other, **out}  # the field's own keywords (description) win over the alias's
    return out


def inline_single_use_defs(schema: Any) -> Any:
    """Replace each `$ref` to a definition used only once by the definition itself (fewer bytes, same schema)."""
    if not isinstance(schema, dict) or "$defs" not in schema:
        return schema
    defs: dict[str, Any] = dict(schema["$defs"])
    text = json.dumps(schema)
    once = {name for name in defs if text.count(f'"#/$defs/{name}"') == 1}

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(n) for n in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/") and ref[8:] in once and len(node) == 1:
            return walk(defs[ref[8:]])
        return {k: walk(v) for k, v in node.items() if k != "$defs"}

    out = walk(schema)
    kept = {name: walk(d) for name, d in defs.items() if name not in once}
    if kept:
        out["$defs"] = kept
    if "anyOf" in out and "type" not in out:
        out = {"type": "object", **out}  # an output schema's root is an object, whichever branch
    return out


def output_schema(spec: AnySpec) -> Any:
    """The compact outputSchema of a tool: its result's properties, none required.

    A write that first needs the user's yes answers with a ConfirmationNeeded object instead (plan_id,
    summary, change, server_dry_run, kubectl); with nothing required and no extra properties forbidden,
    it is valid against the same schema, so the question costs no schema bytes on every turn.
    """
    return inline_single_use_defs(compact_schema(spec.result.model_json_schema(), output=True))


def _present_args(arguments: Arguments) -> Arguments:
    """Arguments without nulls: a null means "not given" (every optional field defaults to it or better)."""
    return {k: v for k, v in arguments.items() if v is not None}


def _validate(spec: AnySpec, arguments: Arguments) -> Request:
    raw = _raw_arguments.get()
    req: Request = spec.request.model_validate(_present_args(raw if raw is not None else arguments))
    return req


def _app(ctx: Ctx) -> AppContext:
    app: AppContext = ctx.request_context.lifespan_context
    return app


async def _deps(app: AppContext, spec: AnySpec, req: Request, ctx: Ctx | None, who: Caller) -> Deps:
    """The per-call dependencies: the caller's view of the cluster (team mode: impersonated), generated
    names seeded by the request, progress to this client."""
    started = time.monotonic()

    async def progress(message: str) -> None:
        if ctx is not None:
            try:
                # Phases quote the kubelet and event messages: cleaned and masked like every answer.
                text = sanitize_text(message, Masker(), cap=300)
                await ctx.report_progress(round(time.monotonic() - started, 1), None, text)
            except Exception:
                get_logger("k8s_debug_mcp.tool").debug("progress_failed", tool=spec.name)

    return replace(await app.deps_for(req.context, who), name_seed=request_seed(req), progress=progress)


async def _with_namespace(req: Req, deps: Deps) -> Req:
    """A request without a namespace gets the kubeconfig context's (as kubectl does)."""
    if getattr(req, "namespace", None) != "":
        return req
    return req.model_copy(update={"namespace": await deps.gateway.default_namespace()})


async def _admit(spec: AnySpec, req: Request, deps: Deps) -> None:
    """Policy and RBAC, before any preview or run: the same gate for every tool."""
    namespace, _ = req.scope
    if namespace and not getattr(req, "all_namespaces", False):
        deps.policy.check_namespace(namespace)
    if not spec.read_only:
        deps.policy.check_write(dry_run=req.is_dry_run)
        await require(deps.gateway, namespace or "", spec.needs)


async def present(result: Res, render: Callable[[Res, Fence], str], masker: Masker) -> CallToolResult:
    """The output boundary applied to a result: sanitized structured content and the text rendered from it."""
    clean, _ = sanitize(result, masker)
    return CallToolResult(
        content=[TextContent(type="text", text=render(clean, Fence()))],
        structured_content=clean.model_dump(mode="json", exclude_none=True),
    )


def _error_text(message: str, masker: Masker) -> str:
    return sanitize_text(message, masker, cap=ERROR_CAP)


def _resolver(spec: AnySpec) -> Callable[..., Awaitable[Elicit[Approval] | Gate]]:
    """Runs before the tool body: previews a mutation and asks the user where the client can."""

    async def resolve(ctx: Ctx, **arguments: object) -> Elicit[Approval] | Gate:
        app = _app(ctx)
        try:
            req = _validate(spec, arguments)
        except ValidationError:
            return Gate("skip")  # the handler reports the bad arguments
        if spec.preview is None or not app.policy.confirm or req.is_dry_run or getattr(req, "plan_id", None):
            return Gate("skip")  # a plan id is redeemed (against a fresh preview) by the handler
        pods = touched_pods()
        who = caller_of(ctx)
        deps = app.caller_deps(who)
        asking = CallRecord(id=uuid.uuid4().hex[:16], caller=who.name, tool=spec.name)
        try:
            with app.audit.current(asking):  # the preview's dry-run request lines name the caller
                deps = await _deps(app, spec, req, ctx, who)
                req = await _with_namespace(req, deps)
                await _admit(spec, req, deps)
                preview = await spec.preview(req, deps)
        except DebugError as exc:
            masker = await masker_for(deps.secrets, pods)
            return Gate("failed", error=_error_text(describe_debug_error(exc), masker))  # never proceed unconfirmed
        if preview is None:
            return Gate("noop")  # nothing would change (e.g. a running debugger is reused)
        masker = await masker_for(deps.secrets, pods)
        shown = replace(preview, summary=sanitize_text(preview.summary, masker, cap=ERROR_CAP))
        if not supports_elicitation(ctx):
            return Gate("no_elicitation", shown)
        return Elicit(f"{shown.summary}\n\nApprove this change?", Approval)

    params = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)]
    annotations: Arguments = {"ctx": Context, "return": Elicit[Approval] | Gate}
    for name in spec.request.model_fields:
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=Any))
        annotations[name] = Any
    resolve.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    resolve.__annotations__ = annotations
    resolve.__name__ = resolve.__qualname__ = f"confirm_{spec.name}"
    return resolve


def _binding(spec: AnySpec, req: Request, arguments: Arguments, who: Caller) -> PlanBinding:
    namespace, pod = req.scope
    return PlanBinding(
        caller=who.key, tool=spec.name, args=args_digest(spec.name, arguments), target=f"{namespace or ''}/{pod or '*'}"
    )


async def _confirm(
    spec: AnySpec, req: Request, deps: Deps, arguments: Arguments, approval: object, ctx: Ctx, who: Caller
) -> ConfirmationNeeded | Claim | None:
    """None when the change may go ahead; a Claim when it goes ahead on a redeemed plan id; the question
    for the user when the client cannot ask; ToolError when it was declined or cannot be confirmed."""
    app = _app(ctx)
    preview = spec.preview
    if preview is None or not app.policy.confirm or req.is_dry_run:
        return None
    plan_id = getattr(req, "plan_id", None)
    if plan_id:

        async def fresh() -> Preview | None:
            return await preview(req, deps)

        return await app.plans.redeem(plan_id, _binding(spec, req, arguments, who), fresh)
    if isinstance(approval, DeclinedElicitation | CancelledElicitation):
        app.observe.refusal("user_declined")
        raise ToolError("The user declined this change. Nothing was changed.")
    value = approval.data if isinstance(approval, AcceptedElicitation) else approval
    if isinstance(value, Approval):
        if value.approve is True:
            return None
        app.observe.refusal("user_declined")
        raise ToolError("The user did not approve this change. Nothing was changed.")
    if isinstance(value, Gate) and value.kind == "failed":
        raise ToolError(value.error or "The change could not be previewed. Nothing was changed.")
    if isinstance(value, Gate) and value.kind == "noop":
        # Nothing would change when the resolver looked; make sure that still holds right now.
        if await preview(req, deps) is not None:
            raise ToolError("The cluster changed while this call was prepared. Nothing was changed; call again.")
        return None
    if isinstance(value, Gate) and value.kind == "no_elicitation" and value.preview is not None:
        plan = app.plans.issue(_binding(spec, req, arguments, who), value.preview)
        return confirmation_needed(value.preview, plan)
    if not (isinstance(value, Gate) and value.kind == "skip"):
        raise ToolError("This change was not confirmed. Nothing was changed.")
    return None


def _handler(spec: AnySpec, input_schema: JsonDict) -> Callable[..., Awaitable[CallToolResult]]:
    log = get_logger("k8s_debug_mcp.tool")
    properties: Arguments = input_schema.get("properties", {})
    if "$defs" in input_schema:
        raise TypeError(f"{spec.name}: request models must have flat fields (found $defs)")
    mutating = not spec.read_only

    async def handler(ctx: Ctx, approval: object = None, **arguments: object) -> CallToolResult:
        started = time.perf_counter()
        app = _app(ctx)
        raw = _raw_arguments.get()
        who = caller_of(ctx)
        call = CallRecord(id=uuid.uuid4().hex[:16], caller=who.name, tool=spec.name)
        pods = touched_pods()
        outcome, error = "ok", None
        applied: bool | None = None
        claim: Claim | None = None
        masker = Masker()
        try:
            try:
                req = _validate(spec, arguments)
            except ValidationError as exc:
                outcome = "invalid_arguments"
                if mutating:
                    await app.audit.intent(call, raw if raw is not None else arguments, dry_run=False)
                raise ToolError(describe_validation_error(exc, tool=spec.name)) from None
            call.namespace, call.pod = req.scope
            deps = app.caller_deps(who)
            try:
                if mutating:
                    await app.audit.intent(call, req.model_dump(mode="json", exclude_none=True), dry_run=req.is_dry_run)
                with app.audit.current(call):  # request lines (previews' dry runs too) name this call and caller
                    deps = await _deps(app, spec, req, ctx, who)
                    req = await _with_namespace(req, deps)
                    call.namespace = req.scope[0]
                    await _admit(spec, req, deps)
                    question = await _confirm(spec, req, deps, arguments, approval, ctx, who) if mutating else None
                    if isinstance(question, Claim):
                        claim, question = question, None
                    if question is not None:
                        outcome = "confirmation_needed"
                        masker = await masker_for(deps.secrets, pods)
                        return await present(question, render_confirmation, masker)
                    result = await spec.run(req, deps)
            except DebugError as exc:
                outcome, applied = exc.kind, exc.applied
                _observe_error(app, exc)
                masker = await masker_for(deps.secrets, pods)
                raise ToolError(_error_text(describe_debug_error(exc), masker)) from None
            except AuditUnavailable as exc:
                outcome = "audit_unavailable"
                app.observe.refusal("audit_unavailable")
                raise ToolError(f"Refused: {exc}. Mutations need a working audit log; nothing was changed.") from None
            applied = True if mutating and not req.is_dry_run else None
            masker = await masker_for(deps.secrets, pods)
            return await present(result, spec.render, masker)
        except ToolError as exc:
            if outcome == "ok":
                outcome = "refused"
            error = str(exc)
            raise
        except BaseException as exc:
            outcome = "cancelled" if not isinstance(exc, Exception) else "crash"
            if outcome == "crash":
                log.exception("tool crashed", tool=spec.name)
            raise
        finally:
            duration = round((time.perf_counter() - started) * 1000, 1)
            log.info(
                "tool_call",
                tool=spec.name,
                caller=who.name,
                namespace=call.namespace,
                pod=call.pod,
                outcome=outcome,
                duration_ms=duration,
            )
            app.observe.call(spec.name, outcome, duration / 1000)
            if claim is not None:
                await app.plans.settle(claim, outcome, applied)
            if mutating and call.intent_written:
                await _audit_outcome(app, call, outcome, applied, error, masker)

    params = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)]
    annotations: Arguments = {"ctx": Context}
    if mutating:
        approval_type = Annotated[ElicitationResult[Approval], Resolve(_resolver(spec))]
        params.append(inspect.Parameter("approval", inspect.Parameter.KEYWORD_ONLY, annotation=approval_type))
        annotations["approval"] = approval_type
    required = set(input_schema.get("required", []))
    for name, field in spec.request.model_fields.items():
        # Every parameter is optional for the SDK, so a missing argument reaches our request
        # model (and its short message) instead of failing in the SDK's argument model.
        annotation = Annotated[Any, WithJsonSchema(properties[name])]
        default = None if name in required else field.get_default(call_default_factory=True)
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default))
        annotations[name] = annotation
    returns = Annotated[CallToolResult, spec.result]
    annotations["return"] = returns
    handler.__signature__ = inspect.Signature(params, return_annotation=returns)  # type: ignore[attr-defined]
    handler.__annotations__ = annotations
    handler.__name__ = spec.name
    handler.__qualname__ = spec.name
    return handler


def _observe_error(app: AppContext, exc: DebugError) -> None:
    if isinstance(exc, PolicyDenied):
        app.observe.refusal(exc.setting)
    elif isinstance(exc, Forbidden) and "SelfSubjectAccessReview" in exc.message:
        app.observe.refusal("rbac")
    elif isinstance(exc, KubeApiError):
        app.observe.api_error(exc.status)
    elif isinstance(exc, ClusterUnavailable):
        app.observe.api_error(0)


async def _audit_outcome(
    app: AppContext, call: CallRecord, outcome: str, applied: bool | None, error: str | None, masker: Masker
) -> None:
    """The outcome line. When it cannot be written after a change was made, say so (the change stands)."""
    try:
        await app.audit.outcome(call, outcome, applied=applied, error=_error_text(error, masker) if error else None)
    except AuditUnavailable as exc:
        get_logger("k8s_debug_mcp.audit").error("audit_write_failed", tool=call.tool, error=str(exc))
        if error is None:
            raise ToolError(
                f"The change was applied, but its audit outcome line could not be written: {exc}."
            ) from None


class StrictTool(Tool):
    """A tool that sees the caller's raw arguments, so unknown keys are refused instead of dropped."""

    async def run(self, arguments: dict[str, Any], context: Any, convert_result: bool = False) -> Any:
        token = _raw_arguments.set(dict(arguments))
        try:
            return await super().run(arguments, context, convert_result=convert_result)
        finally:
            _raw_arguments.reset(token)


def build_tools(specs: Iterable[AnySpec], *, per_call_context: bool = True) -> list[Tool]:
    """MCP tools for the given specs. Without other allowed contexts, `context` is not published: it
    could only name the server's own (a call that passes it anyway is still checked)."""
    tools: list[Tool] = []
    for spec in specs:
        input_schema = spec.request.model_json_schema()
        published = compact_schema(input_schema)
        if not per_call_context:
            published["properties"].pop("context", None)
        tool = StrictTool.from_function(
            _handler(spec, input_schema),
            name=spec.name,
            title=spec.title,
            description=spec.description,
            annotations=spec.annotations,
            structured_output=False,  # the output schema is ours (below); the SDK's would be generated for nothing
        )
        tool = tool.model_copy(
            update={
                "parameters": published,
                # Our results are validated models already; the schema published is the result's, or for a
                # write that may first ask the user, either the result or the question (ConfirmationNeeded).
                "fn_metadata": tool.fn_metadata.model_copy(
                    update={"output_schema": output_schema(spec), "output_model": None}
                ),
            }
        )
        tools.append(tool)
    return tools
