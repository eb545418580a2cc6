"""Tools as data: each ToolSpec names its request/result models, its runner and its renderer.

The registry turns specs into MCP tools. The input schema is the request model's own
JSON schema (titles stripped: the model pays for every byte on every turn); the
handler accepts the raw arguments and validates them with the request model, so a bad
argument yields our short message instead of pydantic's dump. Exposure filtering
(read-only mode) happens here and only here; tool bodies never look at it.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from mcp.server.elicitation import AcceptedElicitation, CancelledElicitation, DeclinedElicitation, ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp.server.mcpserver.tools import Tool
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import WithJsonSchema

from k8s_debug_mcp.server.audit import AuditUnavailable
from k8s_debug_mcp.server.confirm import (
    Approval,
    Gate,
    args_digest,
    caller_of,
    confirmation_request,
    supports_elicitation,
)
from k8s_debug_mcp.server.errors import describe_debug_error, describe_validation_error
from k8s_debug_mcp.server.logging import get_logger
from k8s_debug_mcp.tools.errors import DebugError
from k8s_debug_mcp.tools.models import Request, Result
from k8s_debug_mcp.tools.preview import Preview, digest

__all__ = ["ToolSpec", "build_tools", "compact_schema"]

Req = TypeVar("Req", bound=Request)
Res = TypeVar("Res", bound=Result)


@dataclass(frozen=True, slots=True)
class ToolSpec(Generic[Req, Res]):
    name: str
    title: str
    description: str
    request: type[Req]
    result: type[Res]
    run: Callable[[Req, Any], Awaitable[Res]]
    """(request, app context) -> result; the app context carries gateway, policy, settings."""
    render: Callable[[Res], str]
    read_only: bool
    preview: Callable[[Req, Any], Awaitable[Preview | None]] | None = None
    """(request, app context) -> what the user approves; None: no confirmation (or nothing would change)."""
    destructive: bool = False
    idempotent: bool = True

    @property
    def annotations(self) -> ToolAnnotations:
        return ToolAnnotations(
            title=self.title,
            read_only_hint=self.read_only,
            destructive_hint=self.destructive,
            idempotent_hint=self.idempotent,
            open_world_hint=False,
        )


def compact_schema(schema: Any, *, output: bool = False) -> Any:
    """Shrink a pydantic JSON schema without changing what it accepts.

    - drops auto-generated 'title' keywords (property names are kept);
    - in input schemas, turns ``anyOf: [{type: T, ...}, {type: null}]`` into the T branch (a null
      argument means "not given"); output schemas keep the portable ``anyOf``;
    - drops ``default: null``, and in output schemas every default and description: the
      result's text explains itself, and the schema is re-read by the model on every turn.
    """
    if isinstance(schema, list):
        return [compact_schema(item, output=output) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "default" and (value is None or output):
            continue
        if key == "description" and output and isinstance(value, str):
            continue
        if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {name: compact_schema(sub, output=output) for name, sub in value.items()}
        else:
            out[key] = compact_schema(value, output=output)
    branches = out.get("anyOf")
    if not output and isinstance(branches, list) and len(branches) == 2 and {"type": "null"} in branches:
        # An optional input: null means "not given" (the handler drops nulls), so the single-type
        # branch says it all, and single-type schemas map onto every provider's function dialect.
        other = next(b for b in branches if b != {"type": "null"})
        if isinstance(other, dict) and "$ref" not in other:
            del out["anyOf"]
            out = {**other, **out}  # the field's own keywords (description) win over the alias's
    return out


def _present(arguments: dict[str, Any]) -> dict[str, Any]:
    """Arguments without nulls: a null means "not given" (every optional field defaults to it or better)."""
    return {k: v for k, v in arguments.items() if v is not None}


def _canonical_fields(req: BaseModel) -> dict[str, Any]:
    data = req.model_dump()
    return {k: data[k] for k in ("namespace", "pod") if data.get(k) is not None}


def _audit_args(req: BaseModel) -> dict[str, Any]:
    """The request as the audit log keeps it: stdin only as a digest."""
    data = req.model_dump(mode="json", exclude_none=True)
    if isinstance(data.get("stdin"), str):
        data["stdin"] = "sha256:" + digest(data["stdin"])
    return data


def _resolver(spec: ToolSpec[Any, Any]) -> Callable[..., Awaitable[Any]]:
    """Runs before the tool body: previews a mutation and asks the user where the client can."""

    async def resolve(ctx: Context[Any, Any], **arguments: Any) -> Elicit[Approval] | Gate:
        app = ctx.request_context.lifespan_context
        try:
            req = spec.request.model_validate(_present(arguments))
        except ValidationError:
            return Gate("skip")  # the handler reports the bad arguments
        if spec.preview is None or not app.policy.confirm or getattr(req, "dry_run", False):
            return Gate("skip")
        if getattr(req, "plan_id", None):
            return Gate("skip")  # redeemed (and checked against a fresh preview) by the handler
        try:
            preview = await spec.preview(req, app)
        except DebugError as exc:
            return Gate("failed", error=describe_debug_error(exc))  # never proceed unconfirmed
        if preview is None:
            return Gate("noop")  # nothing would change (e.g. a running debugger is reused)
        if not supports_elicitation(ctx):
            return Gate("no_elicitation", preview)
        return Elicit(f"{preview.summary}\n\nApprove this change?", Approval)

    params = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)]
    annotations: dict[str, Any] = {"ctx": Context, "return": Elicit[Approval] | Gate}
    for name in spec.request.model_fields:
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=Any))
        annotations[name] = Any
    resolve.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    resolve.__annotations__ = annotations
    resolve.__name__ = resolve.__qualname__ = f"confirm_{spec.name}"
    return resolve


async def _confirm(
    spec: ToolSpec[Any, Any],
    req: BaseModel,
    arguments: dict[str, Any],
    approval: Any,
    ctx: Context[Any, Any],
) -> None:
    """Return when the change may go ahead; raise ToolError otherwise."""
    app = ctx.request_context.lifespan_context
    if spec.preview is None or not app.policy.confirm or getattr(req, "dry_run", False):
        return
    plan_id = getattr(req, "plan_id", None)
    if plan_id:
        app.plans.redeem(
            plan_id,
            tool=spec.name,
            args=args_digest(spec.name, arguments),
            preview=await spec.preview(req, app),
            caller=caller_of(ctx),
        )
        return
    if isinstance(approval, DeclinedElicitation | CancelledElicitation):
        raise ToolError("The user declined this change. Nothing was changed.")
    value = approval.data if isinstance(approval, AcceptedElicitation) else approval
    if isinstance(value, Approval):
        if value.approve:
            return
        raise ToolError("The user did not approve this change. Nothing was changed.")
    if isinstance(value, Gate) and value.kind == "failed":
        raise ToolError(value.error or "The change could not be previewed. Nothing was changed.")
    if isinstance(value, Gate) and value.kind == "noop":
        # Nothing would change when the resolver looked; make sure that still holds right now.
        fresh = await spec.preview(req, app)
        if fresh is not None:
            raise ToolError("The cluster changed while this call was prepared. Nothing was changed; call again.")
        return
    if isinstance(value, Gate) and value.kind == "no_elicitation" and value.preview is not None:
        plan = app.plans.issue(
            tool=spec.name, args=args_digest(spec.name, arguments), preview=value.preview, caller=caller_of(ctx)
        )
        raise ToolError(confirmation_request(spec.name, value.preview, plan))
    if not (isinstance(value, Gate) and value.kind == "skip"):
        raise ToolError("This change was not confirmed. Nothing was changed.")


def _handler(spec: ToolSpec[Any, Any]) -> Callable[..., Awaitable[CallToolResult]]:
    log = get_logger("k8s_debug_mcp.tool")
    input_schema = spec.request.model_json_schema()
    properties: dict[str, Any] = input_schema.get("properties", {})
    if "$defs" in input_schema:
        raise TypeError(f"{spec.name}: request models must have flat fields (found $defs)")
    mutating = not spec.read_only

    async def handler(ctx: Context[Any, Any], approval: Any = None, **arguments: Any) -> CallToolResult:
        started = time.perf_counter()
        outcome = "ok"
        error: str | None = None
        fields: dict[str, Any] = {}
        req: BaseModel | None = None
        app = ctx.request_context.lifespan_context
        try:
            try:
                req = spec.request.model_validate(_present(arguments))
            except ValidationError as exc:
                outcome = "invalid_arguments"
                raise ToolError(describe_validation_error(exc, tool=spec.name)) from None
            fields = _canonical_fields(req)
            try:
                if mutating:
                    app.audit.check()
                    await _confirm(spec, req, arguments, approval, ctx)
                res = await spec.run(req, app)
            except DebugError as exc:
                outcome = exc.kind
                raise ToolError(describe_debug_error(exc)) from None
            except AuditUnavailable as exc:
                outcome = "audit_unavailable"
                raise ToolError(f"Refused: {exc}. Mutations need a working audit log.") from None
            text = spec.render(res)
            return CallToolResult(
                content=[TextContent(type="text", text=text)],
                structured_content=res.model_dump(mode="json"),
            )
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
            log.info("tool_call", tool=spec.name, **fields, outcome=outcome, duration_ms=duration)
            if mutating and req is not None:
                await _audit(app, spec, req, ctx, outcome, error)

    params = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)]
    annotations: dict[str, Any] = {"ctx": Context}
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


async def _audit(
    app: Any, spec: ToolSpec[Any, Any], req: BaseModel, ctx: Context[Any, Any], outcome: str, error: str | None
) -> None:
    """One line per attempt. A failed write turns a success into an error (the change itself stands)."""
    args = _audit_args(req)
    try:
        await app.audit.record(
            {
                "caller": caller_of(ctx),
                "tool": spec.name,
                "namespace": args.get("namespace"),
                "pod": args.get("pod"),
                "dry_run": bool(args.get("dry_run", False)),
                "args": args,
                "args_digest": args_digest(spec.name, args),
                "outcome": outcome,
                "error": error[:500] if error else None,
            }
        )
    except AuditUnavailable as exc:
        get_logger("k8s_debug_mcp.audit").error("audit_write_failed", tool=spec.name, error=str(exc))
        if error is None:
            raise ToolError(f"The change was applied, but its audit line could not be written: {exc}.") from None


def build_tools(specs: Iterable[ToolSpec[Any, Any]], *, read_only: bool) -> list[Tool]:
    tools: list[Tool] = []
    for spec in specs:
        if read_only and not spec.read_only:
            continue
        tool = Tool.from_function(
            _handler(spec),
            name=spec.name,
            title=spec.title,
            description=spec.description,
            annotations=spec.annotations,
        )
        out = tool.fn_metadata.output_schema
        tool = tool.model_copy(
            update={
                "parameters": compact_schema(spec.request.model_json_schema()),
                "fn_metadata": tool.fn_metadata.model_copy(
                    update={"output_schema": compact_schema(out, output=True) if out is not None else None}
                ),
            }
        )
        tools.append(tool)
    return tools
