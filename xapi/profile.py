"""Skillpath's published xAPI Profile (JSON-LD, xAPI Profiles 1.0), as shipped in the package.

`profile.jsonld` is the document served at `GET /xapi/profile` (media type
`application/ld+json`). It defines Skillpath's own verbs, activity types and extensions, and a
statement template per statement that `xapi.statements` builds; ADL terms are referenced, not
redefined.

Must not import flask or sqlalchemy.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["PROFILE_MEDIA_TYPE", "profile_bytes", "profile_document"]

PROFILE_MEDIA_TYPE = "application/ld+json"


@cache
def profile_bytes() -> bytes:
    """The profile exactly as shipped, ready to serve."""
    return resources.files("xapi").joinpath("profile.jsonld").read_bytes()


def profile_document() -> dict[str, Any]:
    """The profile parsed (a fresh copy each call)."""
    document = json.loads(profile_bytes())
    if not isinstance(document, dict):
        raise ValueError("profile.jsonld is not a JSON object")
    return document
