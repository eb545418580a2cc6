"""Will the node have the image? Warnings for a preview, before anything is written.

A debugger whose image the node lacks and cannot pull never starts: an ephemeral one then
stays in the pod for good, retrying. The kubelet reports the images a node holds in
`node.status.images` (at most 50 by default, biggest first); with pull policy `Never` an
absent image fails at once (ErrImageNeverPull), with `IfNotPresent`/`Always` it depends on
whether the node reaches the registry, which only the node knows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from k8s_debug_mcp.tools.deps import Deps
from k8s_debug_mcp.tools.errors import DebugError
from k8s_debug_mcp.tools.kube import Json, obj, objs

__all__ = ["ImageName", "effective_pull_policy", "image_warnings", "node_images", "parse_image", "warnings_for"]

DOCKER_HUB: Final = "docker.io"
NODE_IMAGES_CAP: Final = 50
"""The kubelet's default nodeStatusMaxImages: a full list may omit an image the node has."""


@dataclass(frozen=True, slots=True)
class ImageName:
    """A reference normalised the way container runtimes name images (docker.io/library/busybox:1.37)."""

    registry: str
    path: str
    tag: str | None
    digest: str | None

    @property
    def repository(self) -> str:
        return f"{self.registry}/{self.path}"

    @property
    def names(self) -> set[str]:
        """The forms the node may list it under."""
        out: set[str] = set()
        if self.tag is not None:
            out.add(f"{self.repository}:{self.tag}")
        if self.digest is not None:
            out.add(f"{self.repository}@{self.digest}")
        return out


def parse_image(image: str) -> ImageName:
    name, _, digest = image.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag: str | None = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, rest
    else:
        registry, path = DOCKER_HUB, name
    if registry == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    if tag is None and not digest:
        tag = "latest"
    return ImageName(registry, path, tag, digest or None)


def effective_pull_policy(image: str, explicit: str | None) -> str:
    """The policy the API server defaults to: Always for :latest or no tag (without a digest), else IfNotPresent."""
    if explicit:
        return explicit
    ref = parse_image(image)
    return "Always" if ref.digest is None and ref.tag == "latest" else "IfNotPresent"


def node_images(node: Json) -> tuple[set[str], bool]:
    """Normalised names of the images the node reports, and whether the list may be cut."""
    listed = objs(obj(node.get("status")).get("images"))
    names: set[str] = set()
    for entry in listed:
        for name in entry.get("names") or []:
            if isinstance(name, str):
                names |= parse_image(name).names
    return names, len(listed) >= NODE_IMAGES_CAP


async def image_warnings(
    deps: Deps, node: str | None, images: list[tuple[str, str | None]], *, ephemeral: bool, where: str = ""
) -> list[str]:
    """Warnings for (image, explicit pull policy) pairs about to run on `node`; [] when they look fine
    or the node cannot be read (no RBAC for nodes: nothing is claimed)."""
    if not node or not images:
        return []
    try:
        raw = await deps.gateway.get_node(node)
    except DebugError:
        return []
    return warnings_for(raw, node, images, deps.policy.debug_image_allowed, ephemeral=ephemeral, where=where)


def warnings_for(
    raw: Json,
    node: str,
    images: list[tuple[str, str | None]],
    allowed: Callable[[str], bool],
    *,
    ephemeral: bool,
    where: str = "",
) -> list[str]:
    """The warnings of `image_warnings` for a node already read."""
    present, cut = node_images(raw)
    stays = " An ephemeral container that cannot start stays in the pod for good." if ephemeral else ""
    out: list[str] = []
    for image, explicit in dict.fromkeys(images):
        ref = parse_image(image)
        policy = effective_pull_policy(image, explicit)
        has = bool(ref.names & present)
        if has and policy != "Always":
            continue
        on = f"node {node}{where}"
        if has:
            out.append(
                f"imagePullPolicy Always makes {on} contact {ref.registry} although it has {image}; "
                f"if the node cannot reach it, the container never starts.{stays}"
            )
            continue
        lacks = f"{on} {'probably does not have' if cut else 'does not have'} image {image}"
        if policy == "Never":
            usable = sorted(n for n in _listed(raw) if allowed(n))[:3]
            suggestion = f" Images there the policy allows: {', '.join(usable)}." if usable else ""
            out.append(
                f"{lacks} and imagePullPolicy is Never: the container will fail with ErrImageNeverPull.{stays}"
                f"{suggestion}"
            )
        else:
            out.append(
                f"{lacks}: the kubelet must pull it from {ref.registry} (policy {policy}); an offline node or "
                f"missing credentials leave it in ErrImagePull.{stays}"
            )
    return out


def _listed(node: Json) -> list[str]:
    return [
        name
        for entry in objs(obj(node.get("status")).get("images"))
        for name in entry.get("names") or []
        if isinstance(name, str) and "@" not in name
    ]
