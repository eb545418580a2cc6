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

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import WithJsonSchema

from k8s_debug_mcp.server.errors import describe_debug_error, describe_validation_error
from k8s_debug_mcp.server.logging import get_logger
from k8s_debug_mcp.tools.errors import DebugError
from k8s_debug_mcp.tools.models import Request, Result

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
    - turns ``anyOf: [{type: T, ...}, {type: null}]`` into ``type: [T, "null"]``;
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
    if isinstance(branches, list) and len(branches) == 2 and {"type": "null"} in branches:
        other = next(b for b in branches if b != {"type": "null"})
        if isinstance(other, dict) and isinstance(other.get("type"), str) and not (set(other) & set(out) - {"anyOf"}):
            del out["anyOf"]
            out.update(other)
            out["type"] = [other["type"], "null"]
    return out


def _canonical_fields(req: BaseModel) -> dict[str, Any]:
    data = req.model_dump()
    return {k: data[k] for k in ("namespace", "pod") if data.get(k) is not None}


def _handler(spec: ToolSpec[Any, Any]) -> Callable[..., Awaitable[CallToolResult]]:
    log = get_logger("k8s_debug_mcp.tool")
    input_schema = spec.request.model_json_schema()
    properties: dict[str, Any] = input_schema.get("properties", {})
    if "$defs" in input_schema:
        raise TypeError(f"{spec.name}: request models must have flat fields (found $defs)")

    async def handler(ctx: Context[Any, Any], **arguments: Any) -> CallToolResult:
        started = time.perf_counter()
        outcome = "ok"
        fields: dict[str, Any] = {}
        try:
            try:
                req = spec.request.model_validate(arguments)
            except ValidationError as exc:
                outcome = "invalid_arguments"
                raise ToolError(describe_validation_error(exc, tool=spec.name)) from None
            fields = _canonical_fields(req)
            try:
                res = await spec.run(req, ctx.request_context.lifespan_context)
            except DebugError as exc:
                outcome = exc.kind
                raise ToolError(describe_debug_error(exc)) from None
            text = spec.render(res)
            return CallToolResult(
                content=[TextContent(type="text", text=text)],
                structured_content=res.model_dump(mode="json"),
            )
        except ToolError:
            raise
        except BaseException as exc:
            outcome = "cancelled" if not isinstance(exc, Exception) else "crash"
            if outcome == "crash":
                log.exception("tool crashed", tool=spec.name)
            raise
        finally:
            log.info(
                "tool_call",
                tool=spec.name,
                **fields,
                outcome=outcome,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )

    params = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)]
    annotations: dict[str, Any] = {"ctx": Context}
    required = set(input_schema.get("required", []))
    for name, field in spec.request.model_fields.items():
        annotation = Annotated[Any, WithJsonSchema(properties[name])]
        default = inspect.Parameter.empty if name in required else field.get_default(call_default_factory=True)
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default))
        annotations[name] = annotation
    returns = Annotated[CallToolResult, spec.result]
    annotations["return"] = returns
    handler.__signature__ = inspect.Signature(params, return_annotation=returns)  # type: ignore[attr-defined]
    handler.__annotations__ = annotations
    handler.__name__ = spec.name
    handler.__qualname__ = spec.name
    return handler


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
