"""The one rule for an absolute IRI, shared by the catalog (lesson ids are the activity IRIs
of the organisation's xAPI statements) and by `xapi` (statement validation): a scheme, no
whitespace, and for http(s) a host."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


def is_absolute_iri(value: Any) -> bool:
    """True for an absolute IRI (`https://x.example/a`, `urn:uuid:...`); `http:foo` is not."""
    if not isinstance(value, str) or not _SCHEME.match(value):
        return False
    parts = urlsplit(value)
    return parts.scheme.lower() not in ("http", "https") or bool(parts.netloc)
