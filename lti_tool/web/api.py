"""The JSON API (`/api/v1`): everything the pages show and do. The session comes from the
launch (`Authorization: Bearer <token>` from the page, or the session cookie or `t` for
reads; writes need the header). Each view checks who asks, parses, calls one use case, and
returns what the response schema dumps; the OpenAPI document is generated from the same
schemas."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask_smorest import Blueprint

from lti_tool.errors import InvalidBody, InvalidInput, NotFound
from lti_tool.inputs import IDENTIFIER_LENGTH, text_problem
from lti_tool.usecases.class_view import ClassQuery, class_view, grades_and_roster, learner_detail
from lti_tool.usecases.course_reports import (
    equity_report,
    export_csv,
    lesson_effectiveness,
    save_groups,
)
from lti_tool.usecases.learner_path import (
    acknowledge_recognitions,
    answer_pre_assessment,
    read_path,
    returned_from_lesson,
    set_preferences,
)
from lti_tool.usecases.path_overrides import (
    OverrideRequest,
    list_overrides,
    override_path,
    withdraw_overrides,
)
from lti_tool.web.auth import container, current_launch, instructor_launch, learner_launch
from lti_tool.web.i18n import learner_label
from lti_tool.web.schemas import (
    AnalyticsSchema,
    ClassListSchema,
    EquitySchema,
    GradeSyncSchema,
    GroupsSavedSchema,
    LearnerDetailSchema,
    LearnerPathSchema,
    OverrideListSchema,
    OverrideRecordSchema,
    OverrideSchema,
    PreAssessmentAnswersSchema,
    PreferencesSchema,
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
MAX_CSV_BYTES = 5 * 1024 * 1024


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


def _query(name: str, description: str, values: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if values:
        schema["enum"] = list(values)
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}  # fmt: skip


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


# -- the learner ---------------------------------------------------------------------------


def _learner() -> Any:
    launch = current_launch()
    if launch.role != "learner":
        raise NotFound("Only learners have a path; instructors see the class view.")
    return launch


@bp.get("/me/path")
@bp.response(200, LearnerPathSchema)
@bp.doc(
    summary="The launched learner's next lesson, path by milestone, mastery, recognitions "
    "(the stored view: never waits on the LRS)",
    **_errors(401, 404),
)
def my_path() -> Response:
    return stored_view_response(read_path(container(), _learner()))


# The stored view is built in the shape `LearnerPathSchema` describes (a test holds a dump of
# real views equal to this projection), so the most-read endpoint sends it without a
# field-by-field dump: only the view's bookkeeping keys (its version, catalog) are left out.
_PATH_FIELDS = tuple(LearnerPathSchema().fields)


def path_body(view: dict[str, Any]) -> dict[str, Any]:
    """The API's body for a stored learner view."""
    return {name: view[name] for name in _PATH_FIELDS if name in view}


def stored_view_response(view: dict[str, Any]) -> Response:
    return jsonify(path_body(view))


@bp.post("/me/preferences")
@bp.response(200, LearnerPathSchema)
@bp.doc(
    summary="Choose a format, a time budget ('I have N minutes') and a pace; the path changes "
    "at once (Bearer token only)",
    requestBody=_body(PreferencesSchema),
    **_errors(400, 401, 403, 404),
)
def my_preferences() -> dict[str, Any]:
    launch = learner_launch()
    body = load_body(PreferencesSchema())
    keep = {name: name not in body for name in ("format", "minutes", "minutes_per_day")}
    return set_preferences(
        container(),
        launch,
        format=body.get("format"),
        minutes=body.get("minutes"),
        minutes_per_day=body.get("minutes_per_day"),
        keep=keep,
    )


@bp.post("/me/pre-assessment")
@bp.response(200, LearnerPathSchema)
@bp.doc(
    summary="Answer (or skip) the pathway's pre-assessment, once; it sets the starting point",
    requestBody=_body(PreAssessmentAnswersSchema),
    **_errors(400, 401, 403, 404),
)
def my_pre_assessment() -> dict[str, Any]:
    launch = learner_launch()
    body = load_body(PreAssessmentAnswersSchema())
    if not body["skip"] and body["answers"] is None:
        raise InvalidBody("answers: required unless skip is true")
    answers = None if body["skip"] else body["answers"]
    return answer_pre_assessment(container(), launch, answers)


@bp.post("/me/returned")
@bp.response(200, LearnerPathSchema)
@bp.doc(
    summary="Back from a lesson opened from the path: the LRS is read once for what it reported",
    **_errors(401, 403, 404),
)
def my_return() -> dict[str, Any]:
    return returned_from_lesson(container(), learner_launch())


@bp.post("/me/recognitions/seen")
@bp.response(200, LearnerPathSchema)
@bp.doc(summary="The learner has seen their new recognitions", **_errors(401, 403, 404))
def my_recognitions_seen() -> dict[str, Any]:
    return acknowledge_recognitions(container(), learner_launch())


# -- the instructor's course ---------------------------------------------------------------


@bp.get("/course/learners")
@bp.response(200, ClassListSchema)
@bp.doc(
    summary="The instructor's course as the heatmap shows it: each learner's progress, "
    "mastery per competency, next lesson, coach flags (stuck) and milestone risks",
    parameters=[
        _query("sort", "attention (default), name, progress, activity, or a competency id"),
        _query("order", "asc (default) or desc", ("asc", "desc")),
        _query(
            "show",
            "all, attention, stuck, at_risk, goal_reached, not_started",
            ("all", "attention", "stuck", "at_risk", "goal_reached", "not_started"),
        ),
        _query("q", "a piece of a learner's name or id"),
    ],
    **_errors(400, 401, 403),
)
def course_learners() -> dict[str, Any]:
    launch = instructor_launch()
    args = request.args
    query = ClassQuery(
        sort=args.get("sort") or "attention",
        descending=args.get("order") == "desc",
        show=args.get("show") or "all",
        q=args.get("q", "")[:200],
    )
    view = class_view(container(), launch, query)
    return {
        "competencies": view.competencies,
        "learners": [row.to_json() | {"label": learner_label(row)} for row in view.rows],
        "total": view.total,
    }


@bp.get("/course/learners/<path:subject>/path")
@bp.response(200, LearnerDetailSchema)
@bp.doc(
    summary="One learner: the path they see (per pathway), the overrides with notes, their "
    "evidence with dates and sources",
    parameters=[SUBJECT],
    **_errors(400, 401, 403, 404),
)
def learner_path_preview(subject: str) -> dict[str, Any]:
    detail = learner_detail(container(), instructor_launch(), subject)
    return detail | {"label": learner_label(detail)}


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
    summary="Override the learner's path with a note they see (instructors; Bearer token only)",
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


@bp.get("/course/analytics")
@bp.response(200, AnalyticsSchema)
@bp.doc(
    summary="Lesson effectiveness (struggle rate, learning gain, flagged for review) and time "
    "to proficiency per competency, for the course",
    **_errors(401, 403, 404),
)
def course_analytics() -> dict[str, Any]:
    return lesson_effectiveness(container(), instructor_launch())


@bp.get("/course/equity")
@bp.response(200, EquitySchema)
@bp.doc(
    summary="The equity report: rates per group, disparity ratios, four-fifths flags and a "
    "plain reading",
    parameters=[
        _query("group_by", "csv (default), status, email_domain", ("csv", "status", "email_domain"))
    ],
    **_errors(400, 401, 403, 404),
)
def course_equity() -> dict[str, Any]:
    return equity_report(container(), instructor_launch(), request.args.get("group_by", "csv"))


@bp.put("/course/groups")
@bp.response(200, GroupsSavedSchema)
@bp.doc(
    summary="Replace the course's groups for the equity report with a CSV of sub,group "
    "(Bearer token only)",
    requestBody={"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}},
    **_errors(400, 401, 403, 404),
)
def course_groups() -> dict[str, Any]:
    launch = instructor_launch(writing=True)
    data = request.get_data(cache=False)
    if len(data) > MAX_CSV_BYTES:
        raise InvalidBody("The CSV is too large.")
    text = data.decode("utf-8-sig", errors="replace")
    return {"learners": save_groups(container(), launch, text)}


@bp.get("/course/grades")
@bp.response(200, GradeSyncSchema)
@bp.doc(
    summary="Grade sync of the course: waiting, delivered, failed, and each failure with what "
    "the platform answered",
    **_errors(401, 403),
)
def course_grades() -> dict[str, Any]:
    grades = grades_and_roster(container(), instructor_launch(), roster=False).grades
    return {
        "available": grades.available,
        "reason": grades.reason,
        "counts": grades.counts,
        "failures": [
            f | {"queued_at": f["queued_at"].isoformat(), "label": learner_label(f)}
            for f in grades.failures
        ],
    }


@bp.get("/course/export/<kind>.csv")
@bp.doc(
    summary="CSV export for compliance records: completions, assessments or mastery",
    parameters=[
        {
            "name": "kind",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "enum": ["completions", "assessments", "mastery"]},
        }
    ],
    responses={
        "200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}},
        **_errors(401, 403, 404)["responses"],
    },
)
def export(kind: str) -> Response:
    text = export_csv(container(), instructor_launch(), kind, learner_label)
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="skillpath-{kind}.csv"'
    return response
