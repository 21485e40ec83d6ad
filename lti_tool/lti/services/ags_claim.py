"""What a launch says about grade passback: the AGS endpoint claim, read defensively, and
whether this launch can send grades at all (the instructor page says why not)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lti_tool.lti.vocabulary import (
    AGS_CLAIM,
    AGS_SCOPES,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
)


@dataclass(frozen=True)
class AgsEndpoint:
    """The launch's AGS claim: the granted scopes and the line item URLs it names."""

    scopes: tuple[str, ...]
    lineitems: str | None
    lineitem: str | None

    def granted(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def can_score(self) -> bool:
        return self.granted(SCOPE_SCORE)

    @property
    def can_create_line_items(self) -> bool:
        return bool(self.lineitems) and self.granted(SCOPE_LINEITEM)

    @property
    def can_read_line_items(self) -> bool:
        return bool(self.lineitems) and (
            self.granted(SCOPE_LINEITEM) or self.granted(SCOPE_LINEITEM_READONLY)
        )

    @property
    def can_read_results(self) -> bool:
        return self.granted(SCOPE_RESULT_READONLY)

    def token_scopes(self) -> tuple[str, ...]:
        """The scope set asked for in tokens: every AGS scope granted, nothing else, so one
        token serves all of this registration's AGS calls."""
        return tuple(sorted(s for s in self.scopes if s in AGS_SCOPES))


def _url(value: Any) -> str | None:
    return value if isinstance(value, str) and value.startswith(("http://", "https://")) else None


def ags_endpoint(claims: Mapping[str, Any]) -> AgsEndpoint | None:
    """The AGS claim of a launch, or None when the launch has none (or a malformed one)."""
    raw = claims.get(AGS_CLAIM)
    if not isinstance(raw, Mapping):
        return None
    scopes = raw.get("scope")
    if not isinstance(scopes, list):
        return None
    return AgsEndpoint(
        scopes=tuple(s for s in scopes if isinstance(s, str)),
        lineitems=_url(raw.get("lineitems")),
        lineitem=_url(raw.get("lineitem")),
    )
