"""KubeGateway: every call to the Kubernetes API, and the only module importing kubernetes_asyncio.

Responses are returned as plain JSON dicts exactly as the API server sent them
(camelCase keys), read with ``_preload_content=False`` so the library's model
deserialisation never runs. Every library exception is translated here, once, into
the error tree of :mod:`k8s_debug_mcp.tools.errors`; an ``ApiException`` (which prints
headers and body) never leaves this module.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final, cast
from urllib.parse import quote, urlencode

if TYPE_CHECKING:  # imported on first use: together they take most of a second to import
    import aiohttp
    from kubernetes_asyncio import client as k8s
    from kubernetes_asyncio.stream import WsApiClient
    from multidict import CIMultiDict

from k8s_debug_mcp.tools.errors import (
    ClusterUnavailable,
    Conflict,
    ConnectionLost,
    DebugError,
    EphemeralContainersUnsupported,
    Forbidden,
    Gone,
    Invalid,
    KubeApiError,
    NotFound,
    StorageUnavailable,
    Unauthorized,
)
from k8s_debug_mcp.tools.identity import Identity
from k8s_debug_mcp.tools.kube import JsonDict, obj
from k8s_debug_mcp.tools.policy import Policy
from k8s_debug_mcp.tools.redact import mask_text
from k8s_debug_mcp.tools.secrets import note_pod
from k8s_debug_mcp.tools.text import cap_chars, one_line

__all__ = ["BeforeWrite", "KubeGateway", "KubeSettings", "error_from_status"]

Json = JsonDict
Query = dict[str, str | int | bool | None]
BeforeWrite = Callable[[str, JsonDict | None, bool], Awaitable[None]]
"""(action, body, dry_run): called before every mutating request is sent (the audit's request line)."""

REQUEST_TIMEOUT_S: Final = 30.0
_STORAGE: Final = re.compile(r"(?i)etcdserver|etcd cluster|storage (?:is )?unavailable|context deadline exceeded")
_MAX_ERROR_BODY: Final = 64 * 1024
_MAX_API_MESSAGE: Final = 1500
_MAX_STREAM_READ: Final = 32 * 1024 * 1024
STRATEGIC_MERGE: Final = "application/strategic-merge-patch+json"
WS_V4: Final = "v4.channel.k8s.io"
WS_V5: Final = "v5.channel.k8s.io"


@dataclass(frozen=True, slots=True)
class KubeSettings:
    """Where the credentials come from. All None means: $KUBECONFIG or ~/.kube/config."""

    kubeconfig: str | None = None
    context: str | None = None
    in_cluster: bool = False
    timeout_s: float = REQUEST_TIMEOUT_S
    """How long one API request may take (a watch: to connect)."""


def error_from_status(status: int, body: bytes, *, action: str) -> KubeApiError:
    """Map an HTTP error response to our error tree.

    Only a meta/v1 ``Status`` body contributes text (its ``message``, ``reason`` and
    ``details.causes``); anything else is ignored, so proxies' HTML pages, headers or
    tokens never reach the model.
    """
    payload: Json = {}
    try:
        parsed = json.loads(body[:_MAX_ERROR_BODY])
        if isinstance(parsed, dict) and parsed.get("kind") == "Status":
            payload = cast(Json, parsed)
    except ValueError:
        pass
    reason = str(payload.get("reason") or "")
    # Mask, then cap: an admission message may quote the object it refused. A PodSecurity refusal
    # lists every violated rule with its container (500-1000 characters): all of it is the fix.
    api_message = cap_chars(mask_text(one_line(str(payload.get("message") or "")))[0], _MAX_API_MESSAGE)
    details = payload.get("details") if isinstance(payload.get("details"), dict) else {}
    assert isinstance(details, dict)
    base = f"{action} failed: {api_message}" if api_message else f"{action} failed with HTTP {status}."

    if status == 401:
        return Unauthorized(
            f"{action} failed: the API server rejected the credentials (401).",
            status=status,
            reason=reason,
            hint="refresh the kubeconfig credentials (expired token or certificate?) and retry.",
        )
    if status == 403:
        if "cannot impersonate" in api_message:
            return Forbidden(
                base,
                status=status,
                reason=reason,
                hint="this server may not act as you (team mode): ask its admin to allow impersonating your user, "
                "groups and token's extra fields (the chart's team.impersonate values).",
            )
        return Forbidden(
            base,
            status=status,
            reason=reason,
            hint="this identity lacks the RBAC permission named above; ask a cluster admin or use another context.",
        )
    if status == 404:
        if not details.get("name") and action.startswith("add ephemeral container"):
            return EphemeralContainersUnsupported(
                f"{action} failed: this API server does not serve pods/ephemeralcontainers.",
                status=status,
                reason=reason,
                hint="ephemeral containers need Kubernetes 1.23 or newer; use copy_pod instead.",
            )
        return NotFound(base, status=status, reason=reason, hint="check the name and namespace (list_pods).")
    if status == 409:
        return Conflict(base, status=status, reason=reason, hint="the object changed meanwhile; retry.")
    if status == 410:
        return Gone(
            base,
            status=status,
            reason=reason,
            hint="the continue token or resource version expired; repeat the request without it.",
        )
    if status == 422 or (status == 400 and reason in {"BadRequest", "Invalid"}):
        causes = details.get("causes") if isinstance(details.get("causes"), list) else []
        assert isinstance(causes, list)
        fields = [one_line(f"{c.get('field', '')}: {c.get('message', '')}") for c in causes[:5] if isinstance(c, dict)]
        message = base if not fields or api_message else f"{action} failed: " + "; ".join(fields)
        return Invalid(message, status=status, reason=reason, hint="fix the arguments named above.")
    if status >= 500 and _STORAGE.search(api_message):
        return StorageUnavailable(
            f"{action} failed: the API server answers, but its storage (etcd) is unavailable: {api_message}",
            status=status,
            reason=reason,
            hint="the cluster's etcd is down or overloaded; nothing here can fix that: retry later, or tell its admin.",
        )
    if status == 429 or status >= 500:
        return KubeApiError(
            base, status=status, reason=reason, hint="the API server is overloaded or failing; retry shortly."
        )
    return KubeApiError(base, status=status, reason=reason)


_NO_CLUSTER_HINT: Final = "point the server at a cluster: --kubeconfig/--context (or KUBECONFIG), or --in-cluster."


def _kubeconfig_paths() -> str:
    return os.environ.get("KUBECONFIG") or "~/.kube/config"


def _in_cluster_namespace() -> str:
    try:
        with open("/var/run/secrets/kubernetes.io/serviceaccount/namespace") as f:
            return f.read().strip() or "default"
    except OSError:
        return "default"


def _require_kubeconfig_file(explicit: str | None) -> None:
    """A missing file gets its own message (the library's is about a missing 'current-context')."""
    paths = [explicit] if explicit else os.environ.get("KUBECONFIG", "~/.kube/config").split(os.pathsep)
    if not any(os.path.isfile(os.path.expanduser(p)) for p in paths if p):
        raise ClusterUnavailable(f"No kubeconfig file found at {', '.join(paths)}.", hint=_NO_CLUSTER_HINT)


def _unreachable(host: str, exc: BaseException, timeout_s: float) -> ClusterUnavailable:
    detail = one_line(str(exc) or type(exc).__name__, 200)
    hint = "check that the cluster is running and that --kubeconfig/--context point at it."
    http = _http()
    if isinstance(exc, http.ClientConnectorError | ssl.SSLError):
        # Nothing was sent: the connection (or its TLS handshake) never came up.
        how = "refused the connection or cannot be resolved" if not isinstance(exc, ssl.SSLError) else "failed TLS"
        return ClusterUnavailable(f"Cannot reach the Kubernetes API server at {host}: it {how} ({detail})", hint=hint)
    if isinstance(exc, TimeoutError | http.ServerTimeoutError):
        return ConnectionLost(
            f"The Kubernetes API server at {host} accepted the connection but did not answer within {timeout_s:g} s",
            hint="the API server hangs or is overloaded; retry later (--api-timeout sets the limit).",
        )
    return ConnectionLost(f"The connection to the Kubernetes API server at {host} broke: {detail}", hint=hint)


class _Connection:
    """The ApiClient (and the websocket client for exec) of one kubeconfig context, created lazily inside
    the event loop and shared by every view of the gateway (the server's own and each caller's)."""

    def __init__(self, settings: KubeSettings) -> None:
        self.settings = settings
        self.api: k8s.ApiClient | None = None
        self.ws: WsApiClient | None = None
        self.configuration: k8s.Configuration | None = None
        self.host = "(not configured)"
        self.namespace = "default"
        self.context: str | None = settings.context
        self.lock = asyncio.Lock()

    async def client(self) -> k8s.ApiClient:
        if self.api is not None:
            return self.api
        async with self.lock:
            if self.api is None:
                self.api = await self._connect()
        return self.api

    async def ws_client(self) -> WsApiClient:
        await self.client()
        if self.ws is None:
            from kubernetes_asyncio.stream import WsApiClient

            self.ws = WsApiClient(configuration=self.configuration)
        return self.ws

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None
        if self.api is not None:
            await self.api.close()
            self.api = None

    async def _connect(self) -> k8s.ApiClient:
        from kubernetes_asyncio import client as k8s
        from kubernetes_asyncio import config as k8s_config
        from kubernetes_asyncio.config.config_exception import ConfigException

        configuration = k8s.Configuration()
        s = self.settings
        where = "the in-cluster service account" if s.in_cluster else (s.kubeconfig or _kubeconfig_paths())
        if not s.in_cluster:
            _require_kubeconfig_file(s.kubeconfig)
        try:
            if s.in_cluster:
                k8s_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
                self.namespace = _in_cluster_namespace()
            else:
                loader = await k8s_config.load_kube_config(
                    config_file=s.kubeconfig,
                    context=s.context,
                    client_configuration=configuration,
                    persist_config=False,
                )
                current = obj(getattr(loader, "current_context", None))
                self.context = str(current.get("name") or "") or None
                self.namespace = str(obj(current.get("context")).get("namespace") or "default")
            api = k8s.ApiClient(configuration=configuration)  # builds the TLS context: a bad CA fails here
        except ssl.SSLError as exc:
            ca = getattr(configuration, "ssl_ca_cert", None) or "(inline certificate-authority-data)"
            raise ClusterUnavailable(
                f"The kubeconfig {where} names a certificate authority that cannot be used ({ca}): "
                f"{one_line(str(exc) or type(exc).__name__, 200)}",
                hint="fix certificate-authority / certificate-authority-data in the kubeconfig.",
            ) from None
        except (ConfigException, OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ClusterUnavailable(
                f"No usable Kubernetes credentials in {where}: {one_line(str(exc) or type(exc).__name__, 500)}",
                hint=_NO_CLUSTER_HINT,
            ) from None
        self.host = str(configuration.host)
        self.configuration = configuration
        return api


class KubeGateway:
    """One ApiClient per kubeconfig context, created lazily on first use inside the event loop.

    `impersonating(identity)` returns a view of the same gateway (same ApiClient, policy and audit
    hook) whose every request carries the caller's impersonation headers; the server's own view
    sends none.
    """

    def __init__(
        self,
        settings: KubeSettings,
        *,
        policy: Policy | None = None,
        before_write: BeforeWrite | None = None,
        _connection: _Connection | None = None,
        _identity: Identity | None = None,
    ) -> None:
        self._settings = settings
        self._policy = policy or Policy()
        self._before_write = before_write
        self._conn = _connection if _connection is not None else _Connection(settings)
        self._identity = _identity
        self._timeout = settings.timeout_s

    def impersonating(self, identity: Identity | None) -> KubeGateway:
        """This gateway acting for `identity` (None: the server's own identity); no new ApiClient."""
        return KubeGateway(
            self._settings,
            policy=self._policy,
            before_write=self._before_write,
            _connection=self._conn,
            _identity=identity,
        )

    @property
    def identity(self) -> Identity | None:
        """The caller this view impersonates; None for the server's own identity."""
        return self._identity

    @property
    def host(self) -> str:
        return self._conn.host

    async def context_name(self) -> str | None:
        """The kubeconfig context this gateway uses (None in-cluster)."""
        await self._conn.client()
        return self._conn.context

    async def default_namespace(self) -> str:
        """The namespace of the kubeconfig context (or the service account's), as kubectl uses it."""
        await self._conn.client()
        return self._conn.namespace

    async def close(self) -> None:
        await self._conn.close()

    async def _headers(self, api: k8s.ApiClient, base: dict[str, str]) -> CIMultiDict[str]:
        """Request headers: the client's defaults and credentials (refreshed as the ApiClient does it),
        then the caller's impersonation headers (repeated for each group and extra value)."""
        from multidict import CIMultiDict

        flat: dict[str, str] = {**api.default_headers, **base}
        await api.update_params_for_auth(flat, [], ["BearerToken"])
        headers: CIMultiDict[str] = CIMultiDict(flat)
        if self._identity is not None:
            for name, value in self._identity.headers():
                headers.add(name, value)
        return headers

    # -- the one checkpoint every request goes through ------------------------------

    async def _guard_write(self, action: str, body: JsonDict | None, *, dry_run: bool) -> None:
        """Transport guard for every write, whoever calls: the policy, then the audit's request line."""
        self._policy.check_write(dry_run=dry_run)
        if self._before_write is not None:
            await self._before_write(action, body, dry_run)

    async def _send(
        self,
        method: str,
        path: str,
        query: Query | None = None,
        *,
        body: JsonDict | None = None,
        content_type: str = "application/json",
        request_timeout: float | aiohttp.ClientTimeout | None = None,
    ) -> aiohttp.ClientResponse:
        """One request by path through the ApiClient's session (its auth, TLS and credential refresh) with
        the caller's impersonation headers; the raw response.

        No generated API class and no model deserialisation: we send and read plain JSON. (The generated
        `call_api` flattens headers into a dict, which cannot repeat Impersonate-Group.)
        """
        api = await self._conn.client()
        params = [(k, _query_value(v)) for k, v in (query or {}).items() if v is not None]
        headers = await self._headers(api, {"Accept": "application/json", "Content-Type": content_type})
        rest: Any = api.rest_client  # typed for dict headers; a CIMultiDict is what aiohttp takes too
        response: aiohttp.ClientResponse = await rest.request(
            method,
            f"{api.configuration.host}{path}",
            query_params=params,
            headers=headers,
            body=body,
            _preload_content=False,
            _request_timeout=self._timeout if request_timeout is None else request_timeout,
        )
        return response

    async def _request(
        self,
        action: str,
        method: str,
        path: str,
        query: Query | None = None,
        *,
        body: JsonDict | None = None,
        content_type: str = "application/json",
    ) -> Json:
        data = await self._request_bytes(
            action, method, path, query, max_bytes=None, body=body, content_type=content_type
        )
        try:
            parsed = json.loads(data)
        except ValueError:
            raise DebugError(f"{action}: the API server sent a response that is not JSON.") from None
        if not isinstance(parsed, dict):
            raise DebugError(f"{action}: unexpected response shape from the API server.")
        return cast(Json, parsed)

    async def _request_bytes(
        self,
        action: str,
        method: str,
        path: str,
        query: Query | None = None,
        *,
        max_bytes: int | None,
        body: JsonDict | None = None,
        content_type: str = "application/json",
    ) -> bytes:
        try:
            resp = await self._send(method, path, query, body=body, content_type=content_type)
            async with resp:
                if not 200 <= resp.status <= 299:
                    raise error_from_status(resp.status, await resp.content.read(_MAX_ERROR_BODY), action=action)
                if max_bytes is None:
                    return await resp.read()
                return await _read_tail(resp, max_bytes)
        except DebugError:
            raise
        except _api_exception() as exc:  # raised before any response, e.g. bad arguments
            reason, status = getattr(exc, "reason", ""), getattr(exc, "status", 0)
            raise KubeApiError(f"{action} failed: {one_line(str(reason), 200)}", status=int(status or 0)) from None
        except (_http().ClientError, ssl.SSLError, OSError, TimeoutError) as exc:
            raise _unreachable(self._conn.host, exc, self._timeout) from None

    # -- reads ---------------------------------------------------------------------

    async def list_pods(
        self,
        namespace: str | None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> Json:
        query: Query = {
            "labelSelector": label_selector,
            "fieldSelector": field_selector,
            "limit": limit,
            "continue": continue_token,
        }
        where = f"namespace {namespace}" if namespace else "all namespaces"
        path = f"/api/v1/namespaces/{_seg(namespace)}/pods" if namespace else "/api/v1/pods"
        return await self._request(f"list pods in {where}", "GET", path, query)

    async def get_pod(self, namespace: str, name: str) -> Json:
        pod = await self._request(
            f"get pod {namespace}/{name}", "GET", f"/api/v1/namespaces/{_seg(namespace)}/pods/{_seg(name)}"
        )
        note_pod(pod)  # outputs about this pod mask the values of the Secrets it references
        return pod

    async def get_secret(self, namespace: str, name: str) -> Json:
        """A Secret, only for masking its values in outputs (tools/secrets.py); never shown or logged."""
        return await self._request(
            f"get secret {namespace}/{name}", "GET", f"/api/v1/namespaces/{_seg(namespace)}/secrets/{_seg(name)}"
        )

    async def get_node(self, name: str) -> Json:
        return await self._request(f"get node {name}", "GET", f"/api/v1/nodes/{_seg(name)}")

    async def get_namespace(self, name: str) -> Json:
        return await self._request(f"get namespace {name}", "GET", f"/api/v1/namespaces/{_seg(name)}")

    async def list_events(self, namespace: str, *, field_selector: str | None = None, limit: int = 200) -> Json:
        return await self._request(
            f"list events in namespace {namespace}",
            "GET",
            f"/api/v1/namespaces/{_seg(namespace)}/events",
            {"fieldSelector": field_selector, "limit": limit},
        )

    async def get_object(self, namespace: str, api_version: str, kind: str, name: str) -> Json | None:
        """Read a namespaced object of a kind we follow (workloads, ConfigMaps, PVCs…); None for other kinds."""
        path = _PATHS.get((api_version, kind))
        if path is None:
            return None
        return await self._request(
            f"get {kind} {namespace}/{name}", "GET", f"{path.format(ns=_seg(namespace))}/{_seg(name)}"
        )

    async def list_objects(
        self, namespace: str, api_version: str, kind: str, *, label_selector: str | None = None, limit: int = 100
    ) -> Json | None:
        """List namespaced objects of a kind we follow; None for other kinds."""
        path = _PATHS.get((api_version, kind))
        if path is None:
            return None
        return await self._request(
            f"list {kind} in namespace {namespace}",
            "GET",
            path.format(ns=_seg(namespace)),
            {"labelSelector": label_selector, "limit": limit},
        )

    async def read_log(
        self,
        namespace: str,
        pod: str,
        *,
        container: str,
        previous: bool,
        tail_lines: int | None,
        since_seconds: int | None,
        timestamps: bool,
        max_bytes: int,
    ) -> tuple[bytes, bool]:
        """Read a container's log, keeping only the newest ``max_bytes``.

        Returns (bytes, cut) where cut says older bytes were dropped while reading.
        """
        query: Query = {
            "container": container,
            "previous": previous,
            "timestamps": timestamps,
            "tailLines": tail_lines,
            "sinceSeconds": since_seconds,
        }
        data = await self._request_bytes(
            f"read logs of {namespace}/{pod} container {container}",
            "GET",
            f"/api/v1/namespaces/{_seg(namespace)}/pods/{_seg(pod)}/log",
            query,
            max_bytes=max_bytes + 1,
        )
        if len(data) > max_bytes:
            return data[-max_bytes:], True
        return data, False

    # -- who am I, and what may I do ---------------------------------------------------

    async def can_i(
        self, namespace: str, verb: str, resource: str, subresource: str = "", group: str = ""
    ) -> tuple[bool, str]:
        """A SelfSubjectAccessReview: (allowed, the authorizer's reason)."""
        attrs: JsonDict = {"namespace": namespace, "verb": verb, "resource": resource, "group": group}
        if subresource:
            attrs["subresource"] = subresource
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attrs},
        }
        review = await self._request(
            f"check permission {verb} {resource}{'/' + subresource if subresource else ''}",
            "POST",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            body=body,
        )
        status = review.get("status") or {}
        return bool(status.get("allowed")), str(status.get("reason") or status.get("evaluationError") or "")

    async def whoami(self) -> Json:
        """A SelfSubjectReview: the user the API server sees (name, groups)."""
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        review = await self._request(
            "ask the API server who this is", "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", body=body
        )
        return cast(Json, (review.get("status") or {}).get("userInfo") or {})

    async def review_token(self, token: str, audiences: list[str]) -> Json:
        """A TokenReview of a caller's bearer token for these audiences: its `status` (authenticated, user,
        audiences, error). The token travels only in this request's body and is never logged or kept."""
        body = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": {"token": token, "audiences": audiences},
        }
        review = await self._request(
            "review a caller's token", "POST", "/apis/authentication.k8s.io/v1/tokenreviews", body=body
        )
        return dict(obj(review.get("status")))

    # -- the plan ledger: ConfigMaps in the server's own namespace (server/plans.py) -----------

    async def create_config_map(self, namespace: str, body: Json) -> Json:
        """Create a ConfigMap; Conflict (409 AlreadyExists) when the name is taken."""
        name = obj(body.get("metadata")).get("name")
        return await self._request(
            f"create configmap {namespace}/{name}",
            "POST",
            f"/api/v1/namespaces/{_seg(namespace)}/configmaps",
            body=body,
        )

    async def patch_config_map(self, namespace: str, name: str, patch: Json) -> Json:
        """A JSON merge patch of a ConfigMap (a `metadata.resourceVersion` in it is a precondition)."""
        return await self._request(
            f"update configmap {namespace}/{name}",
            "PATCH",
            f"/api/v1/namespaces/{_seg(namespace)}/configmaps/{_seg(name)}",
            body=patch,
            content_type="application/merge-patch+json",
        )

    async def delete_config_map(self, namespace: str, name: str, *, uid: str) -> Json:
        options: JsonDict = {"preconditions": {"uid": uid}}
        return await self._request(
            f"delete configmap {namespace}/{name}",
            "DELETE",
            f"/api/v1/namespaces/{_seg(namespace)}/configmaps/{_seg(name)}",
            body=options,
        )

    # -- ephemeral containers ---------------------------------------------------------

    async def patch_ephemeral_containers(self, namespace: str, pod: str, body: Json, *, dry_run: bool) -> Json:
        """PATCH pods/NAME/ephemeralcontainers with a strategic merge patch (content type explicit)."""
        action = f"add ephemeral container to pod {namespace}/{pod}"
        await self._guard_write(action, body, dry_run=dry_run)
        return await self._request(
            action,
            "PATCH",
            f"/api/v1/namespaces/{_seg(namespace)}/pods/{_seg(pod)}/ephemeralcontainers",
            {"dryRun": "All" if dry_run else None},
            body=body,
            content_type=STRATEGIC_MERGE,
        )

    async def watch_pod(
        self, namespace: str, name: str, *, resource_version: str, timeout_s: int
    ) -> AsyncIterator[Json]:
        """Yield the pod each time it changes after `resource_version`, until the server ends the watch.

        The caller bounds the total time; the server-side timeout bounds one watch request.
        """
        action = f"watch pod {namespace}/{name}"
        query: Query = {
            "fieldSelector": f"metadata.name={name}",
            "watch": True,
            "resourceVersion": resource_version,
            "allowWatchBookmarks": False,
            "timeoutSeconds": timeout_s,
        }
        try:
            resp = await self._send(
                "GET",
                f"/api/v1/namespaces/{_seg(namespace)}/pods",
                query,
                request_timeout=_http().ClientTimeout(total=None, sock_connect=self._timeout),
            )
            async with resp:
                if not 200 <= resp.status <= 299:
                    raise error_from_status(resp.status, await resp.content.read(_MAX_ERROR_BODY), action=action)
                while line := await resp.content.readline():
                    try:
                        event = json.loads(line)
                    except ValueError:
                        continue
                    obj = event.get("object") if isinstance(event, dict) else None
                    if not isinstance(obj, dict):
                        continue
                    if event.get("type") == "ERROR":
                        raise error_from_status(int(obj.get("code") or 500), json.dumps(obj).encode(), action=action)
                    if event.get("type") == "DELETED":
                        raise NotFound(f"{action}: the pod was deleted.", status=404, reason="NotFound")
                    yield cast(Json, obj)
        except DebugError:
            raise
        except (_http().ClientError, ssl.SSLError, OSError, TimeoutError) as exc:
            raise _unreachable(self._conn.host, exc, self._timeout) from None

    # -- pods: create and delete (copies) ---------------------------------------------

    async def create_pod(self, namespace: str, body: Json, *, dry_run: bool) -> Json:
        name = (body.get("metadata") or {}).get("name")
        action = f"create pod {namespace}/{name}"
        await self._guard_write(action, body, dry_run=dry_run)
        return await self._request(
            action,
            "POST",
            f"/api/v1/namespaces/{_seg(namespace)}/pods",
            {"dryRun": "All" if dry_run else None},
            body=body,
        )

    async def delete_pod(
        self, namespace: str, name: str, *, uid: str, dry_run: bool, grace_period_seconds: int | None = None
    ) -> Json:
        """Delete exactly the pod we looked at: the uid precondition refuses a same-named newcomer.

        dryRun travels in the DeleteOptions body: with a body, the API server ignores the
        query parameter of the same name (a dry run sent as ?dryRun=All deletes for real).
        """
        options: JsonDict = {"preconditions": {"uid": uid}, "propagationPolicy": "Background"}
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        if dry_run:
            options["dryRun"] = ["All"]
        action = f"delete pod {namespace}/{name}"
        await self._guard_write(action, options, dry_run=dry_run)
        return await self._request(
            action, "DELETE", f"/api/v1/namespaces/{_seg(namespace)}/pods/{_seg(name)}", body=options
        )

    # -- exec -------------------------------------------------------------------------

    async def exec_stream(
        self,
        namespace: str,
        pod: str,
        *,
        container: str,
        argv: list[str],
        stdin: bytes | None,
        on_output: Callable[[int, bytes], bool],
    ) -> Json | None:
        """Run argv in a container over the exec websocket; stream output to `on_output`.

        `on_output(channel, data)` gets stdout (1) and stderr (2) chunks and returns False
        to stop reading (the stream is then closed). Returns the error channel's Status
        (exit code for a finished command), or None when reading stopped early. Closing
        happens in every case, including timeouts and cancellation by the caller.
        """
        action = f"exec in {namespace}/{pod} container {container}"
        await self._guard_write(action, {"container": container, "command": argv}, dry_run=False)
        from kubernetes_asyncio.stream.ws_client import get_websocket_url

        ws_client = await self._conn.ws_client()
        # v5 can close stdin (EOF) without closing the connection; v4 is the fallback.
        headers = await self._headers(ws_client, {"sec-websocket-protocol": f"{WS_V5},{WS_V4}"})
        query = [("command", arg) for arg in argv] + [
            ("container", container),
            ("stdin", _query_value(stdin is not None)),
            ("stdout", "true"),
            ("stderr", "true"),
            ("tty", "false"),
        ]
        url = get_websocket_url(
            f"{ws_client.configuration.host}/api/v1/namespaces/{_seg(namespace)}/pods/{_seg(pod)}/exec?"
            + urlencode(query)
        )
        try:
            ctx = ws_client.rest_client.pool_manager.ws_connect(url, headers=headers, heartbeat=ws_client.heartbeat)
            async with ctx as ws:
                if stdin is not None:
                    try:
                        await ws.send_bytes(b"\x00" + stdin)
                        negotiated = getattr(getattr(ws, "_response", None), "headers", {}).get(
                            "Sec-WebSocket-Protocol"
                        )
                        if negotiated == WS_V5:
                            await ws.send_bytes(b"\xff\x00")
                    except (ConnectionError, _http().ClientConnectionResetError):
                        pass  # the command ended before reading its input; its status is still to come
                try:
                    return await _read_exec(ws, on_output)
                except BaseException:
                    _drop(ws)  # timeout or cancellation: do not drain what the command still writes
                    raise
        except _http().WSServerHandshakeError as exc:
            if exc.status == 403:
                raise Forbidden(
                    f"{action} was forbidden (HTTP 403).",
                    status=403,
                    reason="Forbidden",
                    hint="exec over websocket needs RBAC 'get' and 'create' on pods/exec in this namespace.",
                ) from None
            if exc.status == 404:
                raise NotFound(f"{action}: pod or container not found.", status=404, reason="NotFound") from None
            raise KubeApiError(f"{action} failed: HTTP {exc.status}.", status=exc.status) from None
        except DebugError:
            raise
        except (_http().ClientError, ssl.SSLError, OSError) as exc:
            raise _unreachable(self._conn.host, exc, self._timeout) from None


# Namespaced kinds we read by path (plain GETs parsed as JSON; no generated models).
_PATHS: Final[dict[tuple[str, str], str]] = {
    ("apps/v1", "Deployment"): "/apis/apps/v1/namespaces/{ns}/deployments",
    ("apps/v1", "ReplicaSet"): "/apis/apps/v1/namespaces/{ns}/replicasets",
    ("apps/v1", "StatefulSet"): "/apis/apps/v1/namespaces/{ns}/statefulsets",
    ("apps/v1", "DaemonSet"): "/apis/apps/v1/namespaces/{ns}/daemonsets",
    ("apps/v1", "ControllerRevision"): "/apis/apps/v1/namespaces/{ns}/controllerrevisions",
    ("batch/v1", "Job"): "/apis/batch/v1/namespaces/{ns}/jobs",
    ("batch/v1", "CronJob"): "/apis/batch/v1/namespaces/{ns}/cronjobs",
    ("v1", "ConfigMap"): "/api/v1/namespaces/{ns}/configmaps",
    ("v1", "PersistentVolumeClaim"): "/api/v1/namespaces/{ns}/persistentvolumeclaims",
    ("v1", "ResourceQuota"): "/api/v1/namespaces/{ns}/resourcequotas",
    ("v1", "Service"): "/api/v1/namespaces/{ns}/services",
}


def _seg(value: str | None) -> str:
    """A path segment, escaped (names are validated by the request models; this is defence in depth)."""
    return quote(value or "", safe="")


def _query_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def _read_exec(ws: aiohttp.ClientWebSocketResponse, on_output: Callable[[int, bytes], bool]) -> Json | None:
    """Stream channels 1/2 to `on_output` until the status on channel 3 and the close; None when stopped early."""
    status: Json | None = None
    async for msg in ws:
        kinds = _http().WSMsgType
        if msg.type != kinds.BINARY or not msg.data:
            if msg.type in (kinds.ERROR, kinds.CLOSE):
                break
            continue
        channel, data = msg.data[0], msg.data[1:]
        if channel in (1, 2) and data:
            if not on_output(channel, data):
                _drop(ws)  # enough: a graceful close would first drain all the output in flight
                return None
        elif channel == 3 and data:
            try:
                parsed = json.loads(data)
            except ValueError:
                parsed = {"status": "Failure", "message": decode_status_text(data)}
            status = cast(Json, parsed) if isinstance(parsed, dict) else None
    return status


def _http() -> ModuleType:
    """aiohttp, imported on first use."""
    import aiohttp

    return aiohttp


def _api_exception() -> type[Exception]:
    from kubernetes_asyncio.client.exceptions import ApiException

    exc: type[Exception] = ApiException
    return exc


def _drop(ws: object) -> None:
    """Close a websocket's connection at once (aiohttp's close() reads until the peer's close frame,
    i.e. through every byte the command is still writing)."""
    response = getattr(ws, "_response", None)
    close = getattr(response, "close", None)
    if callable(close):
        close()


def decode_status_text(data: bytes) -> str:
    return one_line(data.decode("utf-8", errors="replace"), 300)


async def _read_tail(resp: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    """Stream a body, keeping only its last ``max_bytes`` bytes (memory stays bounded).

    Stops reading after ``_MAX_STREAM_READ`` bytes in all, so a pathological log
    (gigabytes in a few "lines") cannot hold the call for long.
    """
    window = bytearray()
    total = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        window += chunk
        total += len(chunk)
        if total > _MAX_STREAM_READ:
            break
        if len(window) > max_bytes:
            del window[: len(window) - max_bytes]
    return bytes(window)
