"""Reading `Link` headers (RFC 8288): the `next` page of line items, results and rosters.

One header may hold several links (`<a>; rel="first", <b>; rel="next"`), a link may carry
several relations (`rel="next last"`), and URLs keep their case.
"""

from __future__ import annotations

import re

_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^,;<]+(?:=\s*(?:\"[^\"]*\"|[^,;]*))?)*)")
_PARAM = re.compile(r";\s*([^=;,\s]+)\s*=\s*(?:\"([^\"]*)\"|([^,;]*))")


def parse_links(header: str) -> dict[str, str]:
    """Relation → URL for every link in a Link header (first one wins per relation)."""
    links: dict[str, str] = {}
    for match in _LINK.finditer(header or ""):
        url, params = match.group(1).strip(), match.group(2)
        for name, quoted, bare in _PARAM.findall(params):
            if name.lower() != "rel":
                continue
            for rel in (quoted or bare).split():
                links.setdefault(rel.lower(), url)
    return links


def next_link(header: str | None) -> str | None:
    return parse_links(header or "").get("next")
