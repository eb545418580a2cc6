"""The corpus runs on the real node: reuse its readiness fixture."""

from tests.realnode.conftest import real_node

__all__ = ["real_node"]
