"""The JSON API for the launched user (`/api/v1/me/...`): the session comes from the launch
(`Authorization: Bearer <token>` from the page, or the session cookie)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from lti_tool.errors import NotAuthenticated, NotFound, SkillpathError
from lti_tool.learning.class_view import class_progress, learner_preview
from lti_tool.learning.learner_path import NoCatalog
from lti_tool.learning.overrides import (
    OverrideRequest,
    apply_instructor_override,
    overrides_of,
    withdraw_instructor_override,
)
from lti_tool.models import Launch
from lti_tool.services import now
from lti_tool.views.pages import (
    current_launch,
    learner_view,
    services,
    statements_base_url,
)
from lti_tool.views.schemas import OverrideSchema, WithdrawSchema, load_body

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


# -- instructor overrides, within the instructor's own course ------------------------------------


class Forbidden(SkillpathError):
    status = 403
    code = "forbidden"
    default_message = "Only the course's instructors may do this."


def instructor_launch(*, writing: bool = False) -> Launch:
    """The instructor launch of the request's session. Writes take the session token from the
    Authorization header only, never from a cookie (no cross-site request can forge them)."""
    if writing and not request.headers.get("Authorization", "").lower().startswith("bearer "):
        raise NotAuthenticated(
            "Changes need the session token in the Authorization header (Bearer)."
        )
    launch = current_launch()
    if launch.role != "instructor":
        raise Forbidden()
    return launch


@bp.get("/course/learners")
def class_list() -> Response:
    """Every learner of the instructor's course on the path: progress, stuck, at risk."""
    launch = instructor_launch()
    with services().database.session() as session:
        rows = class_progress(session, launch, now())
    return jsonify({"learners": [row.to_json() for row in rows]})


@bp.get("/course/learners/<path:subject>/path")
def learner_path_preview(subject: str) -> Response:
    """One learner's path as they see it (from the saved state), for their instructor."""
    launch = instructor_launch()
    with services().database.session() as session:
        pathways = learner_preview(session, launch, subject, now())
    return jsonify({"subject": subject, "pathways": pathways})


@bp.get("/course/learners/<path:subject>/overrides")
def list_overrides(subject: str) -> Response:
    launch = instructor_launch()
    with services().database.session() as session:
        found = overrides_of(session, launch, subject)
    return jsonify({"subject": subject, "overrides": found})


@bp.post("/course/learners/<path:subject>/overrides")
def add_override(subject: str) -> Response:
    launch = instructor_launch(writing=True)
    body = load_body(OverrideSchema())
    with services().database.session() as session:
        created = apply_instructor_override(
            session,
            launch,
            subject,
            OverrideRequest(**body),
            now(),
            statements_base_url=statements_base_url(launch),
        )
    response = jsonify(created)
    response.status_code = 201
    return response


@bp.post("/course/learners/<path:subject>/overrides/withdraw")
def withdraw(subject: str) -> Response:
    launch = instructor_launch(writing=True)
    body = load_body(WithdrawSchema())
    with services().database.session() as session:
        count = withdraw_instructor_override(
            session,
            launch,
            subject,
            body["kind"],
            body["target"],
            body["note"],
            now(),
            body["pathway_id"],
        )
    if not count:
        raise NotFound("No active override of that kind on that lesson or competency.")
    return jsonify({"withdrawn": count})
