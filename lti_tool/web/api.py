"""The JSON API (`/api/v1`): the launched learner's path, and the instructor's course. The
session comes from the launch (`Authorization: Bearer <token>` from the page, or the session
cookie for reads). Each view parses, calls one use case, renders."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from lti_tool.errors import NotFound
from lti_tool.usecases.class_view import class_list, preview_learner
from lti_tool.usecases.learner_path import learner_path
from lti_tool.usecases.path_overrides import (
    OverrideRequest,
    list_overrides,
    override_path,
    withdraw_overrides,
)
from lti_tool.web.auth import container, current_launch, instructor_launch
from lti_tool.web.schemas import OverrideSchema, WithdrawSchema, load_body

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/me/path")
def my_path() -> Response:
    launch = current_launch()
    if launch.role != "learner":
        raise NotFound("Only learners have a path; instructors see the class view.")
    response = jsonify(learner_path(container(), launch))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/course/learners")
def course_learners() -> Response:
    """Every learner of the instructor's course on the path: progress, stuck, at risk."""
    rows = class_list(container(), instructor_launch())
    return jsonify({"learners": [row.to_json() for row in rows]})


@bp.get("/course/learners/<path:subject>/path")
def learner_path_preview(subject: str) -> Response:
    """One learner's path as they see it (from the saved state), for their instructor."""
    pathways = preview_learner(container(), instructor_launch(), subject)
    return jsonify({"subject": subject, "pathways": pathways})


@bp.get("/course/learners/<path:subject>/overrides")
def learner_overrides(subject: str) -> Response:
    found = list_overrides(container(), instructor_launch(), subject)
    return jsonify({"subject": subject, "overrides": found})


@bp.post("/course/learners/<path:subject>/overrides")
def add_override(subject: str) -> Response:
    launch = instructor_launch(writing=True)
    body = load_body(OverrideSchema())
    created = override_path(container(), launch, subject, OverrideRequest(**body))
    response = jsonify(created)
    response.status_code = 201
    return response


@bp.post("/course/learners/<path:subject>/overrides/withdraw")
def withdraw(subject: str) -> Response:
    launch = instructor_launch(writing=True)
    body = load_body(WithdrawSchema())
    count = withdraw_overrides(
        container(),
        launch,
        subject,
        body["kind"],
        body["target"],
        body["note"],
        body["pathway_id"],
    )
    return jsonify({"withdrawn": count})
