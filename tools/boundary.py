"""The output boundary: every string of a result passes here before anyone reads it.

`sanitize(result, masker)` walks a result model (and any dict, list or nested model in it)
and, for every string: strips control characters, masks secrets (shapes and the exact
values the masker knows), disarms fence look-alikes, and only then caps it to its field's
limit — mask, then cap, never the other way round. Env entries and argv flags that name a
secret have their values masked whatever the value looks like.

The registry applies it to the whole result of every tool (structured content and the
text rendered from it), to previews, resources and error messages; tool code cannot skip it.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Annotated, Final, TypeVar, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from k8s_debug_mcp.tools.redact import MASK, Masker, is_secret_flag, is_secret_name
from k8s_debug_mcp.tools.text import cap_chars, clean_text, neutralize

__all__ = ["DEFAULT_CAP", "NESTED_CAP", "Cap", "Sanitized", "sanitize", "sanitize_text"]

M = TypeVar("M", bound=BaseModel)

DEFAULT_CAP: Final = 2000
"""Characters kept of a string field that declares no cap of its own."""
NESTED_CAP: Final = 8192
"""Characters kept of a string inside a dict field (manifests, patches)."""


@dataclass(frozen=True, slots=True)
class Cap:
    """Field metadata: `Annotated[str, Cap(n)]` keeps up to n characters (after masking)."""

    chars: int


@dataclass
class Sanitized:
    masked: int = 0


def sanitize_text(value: str, masker: Masker, *, cap: int = DEFAULT_CAP, tally: Sanitized | None = None) -> str:
    cleaned = clean_text(value)
    masked, count = masker.mask(cleaned)
    if tally is not None:
        tally.masked += count
    return cap_chars(neutralize(masked), cap)


def _embedded_json(value: str) -> object | None:
    """A string that holds a JSON document (e.g. kubectl's last-applied-configuration annotation)."""
    head = value.lstrip()[:1]
    if head not in ("{", "[") or len(value) > 1_000_000:
        return None
    try:
        parsed: object = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict | list) else None


def _walk(value: object, masker: Masker, cap: int, tally: Sanitized) -> object:
    if type(value) is str and len(value) <= cap and masker.is_plain(value) and value.lstrip()[:1] not in "{[":
        return value  # the common case, in one pass: nothing to clean, mask, disarm or cut
    if isinstance(value, str):
        embedded = _embedded_json(value)
        if embedded is not None:  # walk its structure: env entries and argv flags are masked there too
            value = json.dumps(_walk(embedded, masker, cap, tally), separators=(",", ":"))
        return sanitize_text(value, masker, cap=cap, tally=tally)
    if isinstance(value, BaseModel):
        return _model(value, masker, tally)
    if isinstance(value, dict):
        out: dict[object, object] = {}
        secret_entry = isinstance(value.get("name"), str) and is_secret_name(value["name"])
        for key, item in value.items():
            if secret_entry and key == "value" and isinstance(item, str) and item and item != MASK:
                tally.masked += 1
                out[key] = MASK
            else:
                out[key] = _walk(item, masker, cap, tally)
        return out
    if isinstance(value, list | tuple):
        items = list(value)
        out_list: list[object] = []
        mask_next = False
        for item in items:
            if mask_next and isinstance(item, str) and item != MASK:
                tally.masked += 1
                out_list.append(MASK)
                mask_next = False
                continue
            mask_next = isinstance(item, str) and is_secret_flag(item)
            out_list.append(_walk(item, masker, cap, tally))
        return out_list if isinstance(value, list) else tuple(out_list)
    return value


def _field_cap(field: FieldInfo) -> int:
    # `Annotated[str, Cap(n)] | None` keeps the Cap inside the union's member, not on the field.
    inner = [m for arg in get_args(field.annotation) if get_origin(arg) is Annotated for m in arg.__metadata__]
    return next((m.chars for m in [*field.metadata, *inner] if isinstance(m, Cap)), DEFAULT_CAP)


@functools.cache
def _field_caps(model: type[BaseModel]) -> tuple[tuple[str, int], ...]:
    """Each field of a model class with its cap (Cap metadata, else DEFAULT_CAP); once per class."""
    return tuple((name, _field_cap(field)) for name, field in model.model_fields.items())


def _model(model: M, masker: Masker, tally: Sanitized) -> M:
    update: dict[str, object] = {}
    for name, field_cap in _field_caps(type(model)):
        value = getattr(model, name)
        if value is None or isinstance(value, bool | int | float):
            continue
        cap = NESTED_CAP if isinstance(value, dict) and field_cap == DEFAULT_CAP else field_cap
        new = _walk(value, masker, cap, tally)
        if new != value:
            update[name] = new
    return model.model_copy(update=update) if update else model


def sanitize(model: M, masker: Masker) -> tuple[M, int]:
    """The model with every string cleaned, masked, disarmed and capped; and how many secrets were masked."""
    tally = Sanitized()
    return _model(model, masker, tally), tally.masked
