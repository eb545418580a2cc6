"""Is the image on the node, and will the pull policy let the debugger start? (previews' warnings)"""

from __future__ import annotations

from typing import Any

import pytest

from k8s_debug_mcp.tools.images import effective_pull_policy, parse_image, warnings_for


@pytest.mark.parametrize(
    ("image", "names"),
    [
        ("busybox", {"docker.io/library/busybox:latest"}),
        ("busybox:1.37", {"docker.io/library/busybox:1.37"}),
        ("nicolaka/netshoot:v0.13", {"docker.io/nicolaka/netshoot:v0.13"}),
        ("k8s-debug-mcp.local/busybox:1", {"k8s-debug-mcp.local/busybox:1"}),
        ("localhost:5000/tools", {"localhost:5000/tools:latest"}),
        ("busybox@sha256:" + "a" * 64, {"docker.io/library/busybox@sha256:" + "a" * 64}),
    ],
)
def test_references_are_normalised_like_the_runtime_names_images(image: str, names: set[str]) -> None:
    assert parse_image(image).names == names


def test_the_default_pull_policy_is_the_api_servers() -> None:
    assert effective_pull_policy("busybox", None) == "Always"
    assert effective_pull_policy("busybox:latest", None) == "Always"
    assert effective_pull_policy("busybox:1.37", None) == "IfNotPresent"
    assert effective_pull_policy("busybox@sha256:" + "a" * 64, None) == "IfNotPresent"
    assert effective_pull_policy("busybox", "Never") == "Never"


def node(*names: str, count: int | None = None) -> dict[str, Any]:
    images = [{"names": [n]} for n in names]
    images += [{"names": [f"filler-{i}:1"]} for i in range((count or 0) - len(images))]
    return {"status": {"images": images}}


def allowed(image: str) -> bool:
    return image.startswith("registry.local/")


def test_an_image_the_node_has_is_fine_unless_always_makes_it_pull() -> None:
    has = node("docker.io/library/busybox:1.37", "registry.local/busybox:1")
    assert warnings_for(has, "n1", [("busybox:1.37", None)], allowed, ephemeral=True) == []
    assert warnings_for(has, "n1", [("busybox:1.37", "Never")], allowed, ephemeral=True) == []
    [always] = warnings_for(has, "n1", [("busybox:1.37", "Always")], allowed, ephemeral=False)
    assert "Always makes node n1 contact docker.io although it has busybox:1.37" in always


def test_an_absent_image_with_never_will_fail_and_the_allowed_images_there_are_named() -> None:
    has = node("registry.local/busybox:1", "docker.io/library/nginx:1")
    [never] = warnings_for(has, "n1", [("busybox:1.37", "Never")], allowed, ephemeral=True)
    assert "node n1 does not have image busybox:1.37 and imagePullPolicy is Never" in never
    assert "ErrImageNeverPull" in never
    assert "stays in the pod for good" in never
    assert never.endswith("Images there the policy allows: registry.local/busybox:1.")


def test_an_absent_image_to_pull_names_the_registry_and_a_full_list_is_not_conclusive() -> None:
    [pull] = warnings_for(node(), "n1", [("registry.local/tools:2", None)], allowed, ephemeral=False)
    assert "must pull it from registry.local (policy IfNotPresent)" in pull
    assert "stays in the pod" not in pull
    [cut] = warnings_for(node(count=50), "n1", [("busybox:1.37", None)], allowed, ephemeral=False)
    assert "probably does not have image busybox:1.37" in cut
