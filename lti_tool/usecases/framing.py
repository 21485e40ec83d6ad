"""Who may show Skillpath's pages in a frame: the origins a page's Content-Security-Policy
names in `frame-ancestors`.

A launched page may be framed by its own platform (its issuer's origin, its authorization
endpoint's, and the origin the signed launch says the person came from, its
`launch_presentation.return_url`: a Canvas course lives on the school's own host, not on the
shared issuer's); a page with no launch (an error page inside the LMS frame) by every
registered platform. `SKILLPATH_FRAME_ANCESTORS` adds origins for every page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from lti_tool.lti.vocabulary import LAUNCH_PRESENTATION_CLAIM
from lti_tool.storage import LaunchRecord
from lti_tool.usecases.ports import Ports

# Only what is certainly an origin goes into the header: nothing that could end a directive.
_ORIGIN = re.compile(
    r"https?://(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?"
)


def origin_of(url: Any) -> str | None:
    """`scheme://host[:port]` of an http(s) URL, or None."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return None
    origin = f"{parts.scheme}://{parts.netloc.lower()}"
    return origin if _ORIGIN.fullmatch(origin) else None


def _launch_origins(claims: Mapping[str, Any]) -> Iterable[str | None]:
    presentation = claims.get(LAUNCH_PRESENTATION_CLAIM)
    if isinstance(presentation, Mapping):
        yield origin_of(presentation.get("return_url"))


def frame_ancestors(ports: Ports, launch: LaunchRecord | None) -> tuple[str, ...]:
    """The origins that may frame a page of `launch` (or, with None, any page)."""
    found: list[str | None] = []
    with ports.storage.reading() as tx:
        urls = tx.registrations.login_urls(launch.tenant if launch is not None else None)
    for issuer, login_url in urls:
        found.extend((origin_of(issuer), origin_of(login_url)))
    if launch is not None:
        found.extend(_launch_origins(launch.claims))
    found.extend(ports.settings.frame_ancestors)
    return tuple(dict.fromkeys(o for o in found if o and _ORIGIN.fullmatch(o)))
