"""Skillpath's xAPI profile (JSON-LD), for LRS reporting tools."""

from __future__ import annotations

from flask import Blueprint, Response

from xapi.profile import profile_bytes

bp = Blueprint("xapi_profile", __name__)


@bp.get("/xapi/profile")
def profile() -> Response:
    response = Response(profile_bytes(), content_type="application/ld+json")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
