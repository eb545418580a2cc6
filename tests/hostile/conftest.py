"""The hostile suite runs on the real node too: its fixtures."""

from tests.realnode.conftest import real_node, real_slim

__all__ = ["real_node", "real_slim"]
