"""The JSON API for the launched user (`/api/v1/me/...`): the session comes from the launch
(`Authorization: Bearer <token>` from the page, or the session cookie)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from lti_tool.errors import NotFound
from lti_tool.learning.learner_path import NoCatalog
from lti_tool.views.pages import current_launch, learner_view

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/me/path")
def my_path() -> Response:
    launch = current_launch()
    if launch.role != "learner":
        raise NotFound("Only learners have a path; instructors see the class view.")
    try:
        view = learner_view(launch)
    except NoCatalog:
        raise NotFound("This course has no Skillpath catalog yet.") from None
    response = jsonify(view)
    response.headers["Cache-Control"] = "no-store"
    return response
