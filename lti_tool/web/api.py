"""The JSON API (`/api/v1`): the launched learner's path, and the instructor's course. The
session comes from the launch (`Authorization: Bearer <token>` from the page, or the session
cookie for reads; writes need the header). Each view checks who asks, parses, calls one use
case, and returns what the response schema dumps; the OpenAPI document is generated from the
same schemas."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint

from lti_tool.errors import InvalidInput, NotFound
from lti_tool.inputs import IDENTIFIER_LENGTH, text_problem
from lti_tool.usecases.class_view import class_list, preview_learner
from lti_tool.usecases.learner_path import learner_path
from lti_tool.usecases.path_overrides import (
    OverrideRequest,
    list_overrides,
    override_path,
    withdraw_overrides,
)
from lti_tool.web.auth import container, current_launch, instructor_launch
from lti_tool.web.schemas import (
    ClassListSchema,
    LearnerPathSchema,
    LearnerPreviewSchema,
    OverrideListSchema,
    OverrideRecordSchema,
    OverrideSchema,
    WithdrawnSchema,
    WithdrawSchema,
    load_body,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1", description="Skillpath's JSON API")

SUBJECT = {
    "name": "subject",
    "in": "path",
    "required": True,
    "description": "The learner's LTI `sub`.",
    "schema": {"type": "string"},
}


def _body(schema: type) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


# Every operation may be rate limited (429); a body over its limit is refused (413).
ALWAYS = (429,)


def _errors(*statuses: int) -> dict[str, Any]:
    return {
        "responses": {
            str(s): {"$ref": "#/components/responses/DEFAULT_ERROR"}
            for s in sorted({*statuses, *ALWAYS})
        }
    }


@bp.get("/me/path")
@bp.response(200, LearnerPathSchema)
@bp.doc(
    summary="The launched learner's next lesson, path, mastery and evidence", **_errors(401, 404)
)
def my_path() -> dict[str, Any]:
    launch = current_launch()
    if launch.role != "learner":
        raise NotFound("Only learners have a path; instructors see the class view.")
    return learner_path(container(), launch)


@bp.before_request
def clean_path() -> None:
    """A value in the path (a learner's `sub`) must be text a learner record could hold:
    refused, naming it, before anything looks it up."""
    for name, value in (request.view_args or {}).items():
        problem = text_problem(value, IDENTIFIER_LENGTH) if isinstance(value, str) else None
        if problem:
            raise InvalidInput(f"{name} {problem}", details={"fields": {name: [problem]}})


@bp.after_request
def no_store(response: Any) -> Any:
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.get("/course/learners")
@bp.response(200, ClassListSchema)
@bp.doc(
    summary="The instructor's course: each learner's progress, next lesson, coach flags "
    "(stuck) and milestone risks, those who need a person first",
    **_errors(401, 403),
)
def course_learners() -> dict[str, Any]:
    rows = class_list(container(), instructor_launch())
    return {"learners": [row.to_json() for row in rows]}


@bp.get("/course/learners/<path:subject>/path")
@bp.response(200, LearnerPreviewSchema)
@bp.doc(
    summary="One learner's path as they see it: next lesson and reasons, the path ahead, "
    "mastery, overrides (from the saved state)",
    parameters=[SUBJECT],
    **_errors(400, 401, 403, 404),
)
def learner_path_preview(subject: str) -> dict[str, Any]:
    pathways = preview_learner(container(), instructor_launch(), subject)
    return {"subject": subject, "pathways": pathways}


@bp.get("/course/learners/<path:subject>/overrides")
@bp.response(200, OverrideListSchema)
@bp.doc(
    summary="Every override recorded for a learner of the instructor's course, newest first",
    parameters=[SUBJECT],
    **_errors(400, 401, 403, 404),
)
def learner_overrides(subject: str) -> dict[str, Any]:
    found = list_overrides(container(), instructor_launch(), subject)
    return {"subject": subject, "overrides": found}


@bp.post("/course/learners/<path:subject>/overrides")
@bp.response(201, OverrideRecordSchema)
@bp.doc(
    summary="Override the learner's path (instructors; Bearer token only)",
    parameters=[SUBJECT],
    requestBody=_body(OverrideSchema),
    **_errors(400, 401, 403, 404, 413),
)
def add_override(subject: str) -> dict[str, Any]:
    launch = instructor_launch(writing=True)
    body = load_body(OverrideSchema())
    return override_path(container(), launch, subject, OverrideRequest(**body))


@bp.post("/course/learners/<path:subject>/overrides/withdraw")
@bp.response(200, WithdrawnSchema)
@bp.doc(
    summary="Withdraw the active overrides of a kind on a lesson or competency",
    parameters=[SUBJECT],
    requestBody=_body(WithdrawSchema),
    **_errors(400, 401, 403, 404, 413),
)
def withdraw(subject: str) -> dict[str, Any]:
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
    return {"withdrawn": count}
