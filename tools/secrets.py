"""The exact values of the Secrets a pod references, so every output about the pod masks them.

A pod names Secrets in env (`secretKeyRef`), `envFrom`, volumes (secret, projected) and
`imagePullSecrets`. When this server's identity may read them, their decoded values (and
base64 forms) are masked in every output about that pod: exec, logs, inspect, status,
previews. Values live only in this process's memory for a short while; they are never
logged, audited or returned. Which pods a call touched is recorded as the gateway reads
them (`note_pod`), so no tool has to remember to ask.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Final

from k8s_debug_mcp.tools.errors import DebugError
from k8s_debug_mcp.tools.kube import Json, obj, objs, text
from k8s_debug_mcp.tools.redact import Masker

if TYPE_CHECKING:
    from k8s_debug_mcp.tools.deps import Gateway

__all__ = ["SecretValues", "masker_for", "note_pod", "referenced_secrets", "touched_pods"]

CACHE_TTL_S: Final = 30.0
MAX_SECRETS_PER_CALL: Final = 32
MAX_VALUE_BYTES: Final = 64 * 1024

_touched: ContextVar[list[Json] | None] = ContextVar("k8s_debug_mcp_touched_pods", default=None)


def touched_pods() -> list[Json]:
    """Start recording the pods this call reads; returns the live list."""
    pods: list[Json] = []
    _touched.set(pods)
    return pods


def note_pod(pod: Json) -> None:
    """Called by the gateway for every pod it reads inside a tool call."""
    pods = _touched.get()
    if pods is not None and len(pods) < 64:
        pods.append(pod)


def referenced_secrets(pod: Json) -> Iterator[str]:
    """Names of the Secrets a pod references (env, envFrom, volumes, imagePullSecrets)."""
    spec = obj(pod.get("spec"))
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for c in objs(spec.get(key)):
            for env in objs(c.get("env")):
                name = text(obj(obj(env.get("valueFrom")).get("secretKeyRef")).get("name"))
                if name:
                    yield name
            for src in objs(c.get("envFrom")):
                name = text(obj(src.get("secretRef")).get("name"))
                if name:
                    yield name
    for vol in objs(spec.get("volumes")):
        name = text(obj(vol.get("secret")).get("secretName"))
        if name:
            yield name
        for source in objs(obj(vol.get("projected")).get("sources")):
            name = text(obj(source.get("secret")).get("name"))
            if name:
                yield name
    for ref in objs(spec.get("imagePullSecrets")):
        name = text(ref.get("name"))
        if name:
            yield name


def _leaves(value: object) -> Iterator[str]:
    """String leaves of a JSON document (dockerconfigjson auths, passwords)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)


def _values(secret: Json) -> list[str]:
    out: list[str] = []
    for encoded in obj(secret.get("data")).values():
        if not isinstance(encoded, str) or len(encoded) > MAX_VALUE_BYTES * 2:
            continue
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        try:
            value = raw.decode()
        except UnicodeDecodeError:
            continue
        out.append(value.strip())
        if value.lstrip().startswith("{"):
            with contextlib.suppress(ValueError):
                out += list(_leaves(json.loads(value)))
    out += [v for v in obj(secret.get("stringData")).values() if isinstance(v, str)]
    return out


class SecretValues:
    """Reads referenced Secrets through the gateway, caches them briefly, builds maskers.

    In team mode each caller reads with their own identity (`as_reader`): a caller who may not get a
    Secret never has it read on their behalf, and values one caller could read are never used to mask
    another caller's output (the cache is keyed by reader). Without the values, shapes still apply.
    """

    def __init__(
        self,
        gateway: Gateway,
        *,
        ttl_s: float = CACHE_TTL_S,
        reader: str = "",
        _cache: dict[tuple[str, str, str], tuple[float, tuple[str, ...]]] | None = None,
        _lock: asyncio.Lock | None = None,
    ) -> None:
        self._gateway = gateway
        self._ttl = ttl_s
        self._reader = reader
        self._cache = _cache if _cache is not None else {}
        self._lock = _lock if _lock is not None else asyncio.Lock()

    def __repr__(self) -> str:
        return f"SecretValues(cached={len(self._cache)})"

    def as_reader(self, gateway: Gateway, reader: str) -> SecretValues:
        """The same cache, reading through `gateway` (a caller's impersonating view), keyed by `reader`."""
        return SecretValues(gateway, ttl_s=self._ttl, reader=reader, _cache=self._cache, _lock=self._lock)

    async def _read(self, namespace: str, name: str) -> tuple[str, ...]:
        now = time.monotonic()
        key = (self._reader, namespace, name)
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        try:
            values = tuple(_values(await self._gateway.get_secret(namespace, name)))
        except DebugError:
            values = ()  # forbidden, missing or unreachable: shapes still apply
        self._cache[key] = (now + self._ttl, values)
        if len(self._cache) > 512:
            for stale in [k for k, (exp, _) in self._cache.items() if exp <= now]:
                del self._cache[stale]
            if len(self._cache) > 4 * 512:  # many readers at once: start over rather than grow
                self._cache.clear()
        return values

    async def masker(self, pods: list[Json]) -> Masker:
        """A masker knowing the values of every Secret these pods reference."""
        wanted: dict[tuple[str, str], None] = {}
        for pod in pods:
            namespace = str(obj(pod.get("metadata")).get("namespace") or "")
            for name in referenced_secrets(pod):
                if namespace:
                    wanted[(namespace, name)] = None
        keys = list(wanted)[:MAX_SECRETS_PER_CALL]
        if not keys:
            return Masker()
        async with self._lock:
            found = await asyncio.gather(*(self._read(ns, name) for ns, name in keys))
        return Masker(v for values in found for v in values)

    async def status(self, namespace: str) -> str:
        """For whoami: is exact-value masking active in this namespace?"""
        try:
            allowed, _ = await self._gateway.can_i(namespace, "get", "secrets")
        except DebugError:
            allowed = False
        if allowed:
            return "active: values of Secrets a pod references are masked in every output about it"
        return (
            f"inactive in {namespace}: this identity may not get secrets, so only secret shapes "
            "(tokens, keys, password=...) are masked"
        )


async def masker_for(values: SecretValues | None, pods: list[Json]) -> Masker:
    """Shapes, plus the exact values of the pods' Secrets when that protection is on."""
    return await values.masker(pods) if values is not None else Masker()
