"""Previews of mutations: what the user is asked to approve, and the exact change it binds to.

Each tool's preview (in its own module) runs the same checks and pure builders as the real
call, performs no change, and is deterministic for the same request and cluster state (a
confirmation question must read the same on every round, and a plan id binds to the body).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from pydantic import BaseModel

from k8s_debug_mcp.tools.kube import JsonDict

__all__ = ["Preview", "digest", "request_seed"]


@dataclass(frozen=True, slots=True)
class Preview:
    summary: str
    """What the user reads (cluster strings in it pass the output boundary before anyone sees it)."""
    body: object
    """The exact change, without clock-dependent parts: what a plan id binds to."""
    details: JsonDict = field(default_factory=dict)
    """Extras for a confirmation answer: the patch or argv, the server's verdict, the kubectl equivalent."""

    @property
    def digest(self) -> str:
        return digest(self.body)


def request_seed(req: BaseModel) -> str:
    """Seed for generated names: a preview, its dry run and its confirmed apply pick the same ones."""
    return digest(req.model_dump(mode="json", exclude={"plan_id", "dry_run"}))


def digest(body: object) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()
