"""Who a Kubernetes API request is made for: the reviewed caller, sent as impersonation headers.

In team mode (`--http-auth tokenreview`) every caller's bearer token is checked with a
TokenReview; the user it names (username, uid, groups, extra fields) becomes an `Identity`,
and every API request made for that caller carries it as Kubernetes impersonation headers, so
the API server applies the caller's RBAC and its audit log names the caller. The server's own
credentials only authenticate the request; the caller's token is never forwarded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

__all__ = ["AUTO_GROUPS", "Identity"]

AUTO_GROUPS: Final = frozenset({"system:authenticated"})
"""Groups the API server adds to every impersonated (non-anonymous) user itself: sending them would only
need more impersonation rights."""
_MAX_VALUES: Final = 64


@dataclass(frozen=True, slots=True)
class Identity:
    """A user as a TokenReview reported it."""

    username: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def from_user_info(cls, user: Mapping[str, object]) -> Identity:
        """From a TokenReview's `status.user` (or a SelfSubjectReview's `status.userInfo`)."""
        groups = user.get("groups")
        extra = user.get("extra")
        pairs: list[tuple[str, tuple[str, ...]]] = []
        if isinstance(extra, Mapping):
            for key, values in extra.items():
                if isinstance(key, str) and isinstance(values, list):
                    pairs.append((key, tuple(str(v) for v in values[:_MAX_VALUES])))
            pairs.sort()
        return cls(
            username=str(user.get("username") or ""),
            uid=str(user.get("uid") or ""),
            groups=tuple(str(g) for g in groups[:_MAX_VALUES]) if isinstance(groups, list) else (),
            extra=tuple(pairs[:_MAX_VALUES]),
        )

    def headers(self) -> list[tuple[str, str]]:
        """The impersonation headers, one per group and per extra value (HTTP repeats the header)."""
        out = [("Impersonate-User", self.username)]
        if self.uid:
            out.append(("Impersonate-Uid", self.uid))
        out += [("Impersonate-Group", g) for g in self.groups if g not in AUTO_GROUPS]
        for key, values in self.extra:
            # header names are case-insensitive and limited to token characters: the API server
            # lower-cases the key and percent-decodes it (k8s.io/apiserver impersonation filter)
            name = "Impersonate-Extra-" + quote(key.lower(), safe="")
            out += [(name, v) for v in values]
        return out

    def to_json(self) -> dict[str, object]:
        return {
            "username": self.username,
            "uid": self.uid,
            "groups": list(self.groups),
            "extra": {k: list(v) for k, v in self.extra},
        }
