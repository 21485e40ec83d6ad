"""The shapes of the JSON API, in marshmallow: request bodies are validated with them (unknown
fields refused, every error naming its field), responses are dumped through them, and the
OpenAPI document at `/api/v1/openapi.json` is generated from them (flask-smorest)."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from lti_tool.errors import InvalidBody
from lti_tool.inputs import text_problem

OVERRIDE_KINDS = ("pin", "skip", "assign", "mark_mastered")
# Lesson ids are IRIs; competency and pathway ids are catalog ids.
LESSON_ID = validate.Length(min=1, max=1000)
CATALOG_ID = validate.Length(min=1, max=200)
NOTE = validate.Length(max=2000)


# -- request bodies -----------------------------------------------------------------------


class Text(fields.String):
    """A string a person sent: refused (naming its field) when it holds NUL or a lone
    surrogate, which no database or page can take."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = text_problem(text) if isinstance(text, str) else None
        if problem:
            raise ValidationError(problem)
        return text


class OverrideSchema(Schema):
    """Pin, skip or assign a lesson (`lesson_id`), or mark a competency mastered
    (`competency_id`)."""

    class Meta:
        unknown = RAISE

    kind = Text(required=True, validate=validate.OneOf(OVERRIDE_KINDS))
    lesson_id = Text(
        load_default=None, validate=LESSON_ID, metadata={"description": "pin, skip, assign"}
    )
    competency_id = Text(
        load_default=None, validate=CATALOG_ID, metadata={"description": "mark_mastered"}
    )
    note = Text(load_default="", validate=NOTE)
    pathway_id = Text(
        load_default=None,
        validate=CATALOG_ID,
        metadata={"description": "default: the link's pathway"},
    )

    @validates_schema
    def target_matches_kind(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("kind") == "mark_mastered":
            if not data.get("competency_id"):
                raise ValidationError("mark_mastered needs a competency_id", "competency_id")
            if data.get("lesson_id"):
                raise ValidationError("mark_mastered takes no lesson_id", "lesson_id")
        elif data.get("kind") in OVERRIDE_KINDS:
            if not data.get("lesson_id"):
                raise ValidationError(f"{data['kind']} needs a lesson_id", "lesson_id")
            if data.get("competency_id"):
                raise ValidationError(f"{data['kind']} takes no competency_id", "competency_id")


class WithdrawSchema(Schema):
    class Meta:
        unknown = RAISE

    kind = Text(required=True, validate=validate.OneOf(OVERRIDE_KINDS))
    target = Text(
        required=True,
        validate=LESSON_ID,
        metadata={"description": "the lesson or competency id"},
    )
    note = Text(load_default="", validate=NOTE)
    pathway_id = Text(load_default=None, validate=CATALOG_ID)


def load_body(schema: Schema) -> dict[str, Any]:
    """The request's JSON body through `schema`; InvalidBody (400) naming each bad field.
    Views call it after checking who is asking, so an unauthenticated request learns
    nothing about the body it sent."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise InvalidBody("The body is nested too deeply.") from None
    if not isinstance(body, dict):
        raise InvalidBody("The body must be a JSON object (Content-Type: application/json).")
    try:
        loaded: dict[str, Any] = schema.load(body)
    except ValidationError as exc:
        messages = exc.normalized_messages()
        first = next(iter(messages.items()), ("body", ["is not valid"]))
        text = first[1][0] if isinstance(first[1], list) and first[1] else str(first[1])
        raise InvalidBody(f"{first[0]}: {text}", details={"fields": messages}) from None
    return loaded


# -- responses ----------------------------------------------------------------------------


class ErrorSchema(Schema):
    """Every error the API answers (`lti_tool.web.errors`): documented as it is sent."""

    code = fields.String(
        required=True, metadata={"description": "Stable error code, e.g. not_found"}
    )
    status = fields.Integer(required=True, metadata={"description": "The HTTP status"})
    message = fields.String(required=True, metadata={"description": "What went wrong, for people"})
    errors = fields.Dict(metadata={"description": "The fields at fault, and hints for admins"})


class ReasonSchema(Schema):
    code = fields.String(required=True)
    competency_id = fields.String(allow_none=True)
    lesson_id = fields.String(allow_none=True)
    detail = fields.Dict()


class RecommendationSchema(Schema):
    lesson_id = fields.String(allow_none=True)
    reasons = fields.List(fields.Nested(ReasonSchema))
    sentence = fields.String()
    alternatives = fields.List(fields.String())
    goal_reached = fields.Boolean()
    competency_id = fields.String(allow_none=True)
    detail = fields.Dict()


class PreviewStepSchema(Schema):
    lesson_id = fields.String()
    title = fields.String()
    minutes = fields.Float()
    cumulative_minutes = fields.Float()
    expected_date = fields.String(allow_none=True)
    reason_codes = fields.List(fields.String())
    completes_milestones = fields.List(fields.String())


class PathStepSchema(PreviewStepSchema):
    """A step of the path ahead as people read it: repeats of one lesson folded in."""

    times = fields.Integer(metadata={"description": "expected attempts of this lesson"})


class MilestoneForecastSchema(Schema):
    milestone_id = fields.String()
    title = fields.String()
    expected_minutes = fields.Float(allow_none=True)
    expected_date = fields.String(allow_none=True)
    due_date = fields.String(allow_none=True)
    on_track = fields.Boolean(allow_none=True)
    complete_now = fields.Boolean()


class PreviewSchema(Schema):
    pathway_id = fields.String()
    steps = fields.List(fields.Nested(PreviewStepSchema))
    milestones = fields.List(fields.Nested(MilestoneForecastSchema))
    total_minutes = fields.Float()
    expected_completion = fields.String(allow_none=True)
    reaches_goal = fields.Boolean()
    minutes_per_day = fields.Float()


class PathwayRefSchema(Schema):
    id = fields.String(required=True)
    title = fields.String()


class NextLessonSchema(Schema):
    lesson_id = fields.String(required=True)
    title = fields.String()
    url = fields.String(allow_none=True)
    kind = fields.String()
    format = fields.String(allow_none=True)
    duration_minutes = fields.Float(allow_none=True)


class MasterySchema(Schema):
    competency_id = fields.String(required=True)
    name = fields.String()
    probability = fields.Float()
    mastered = fields.Boolean()
    threshold = fields.Float()
    recall = fields.Float()
    review_due = fields.Boolean()


class EvidenceSchema(Schema):
    status = fields.String(metadata={"description": "fresh, stale or no_lrs"})
    refreshed_at = fields.String(allow_none=True)
    message = fields.String()


class LearnerPathSchema(Schema):
    pathway = fields.Nested(PathwayRefSchema)
    progress = fields.Float(metadata={"description": "share of goal competencies mastered"})
    next = fields.Nested(NextLessonSchema, allow_none=True)
    recommendation = fields.Nested(RecommendationSchema)
    goal_reached = fields.Boolean()
    preview = fields.Nested(PreviewSchema)
    path = fields.List(fields.Nested(PathStepSchema))
    mastery = fields.List(fields.Nested(MasterySchema))
    evidence = fields.Nested(EvidenceSchema)


class RiskSchema(Schema):
    milestone_id = fields.String()
    due_date = fields.String()
    probability_of_missing = fields.Float()
    main_reason = fields.String()


class ClassRowSchema(Schema):
    subject = fields.String(required=True)
    pathway_id = fields.String()
    progress = fields.Float()
    next_lesson = fields.String(allow_none=True)
    goal_reached = fields.Boolean()
    stuck_on = fields.List(fields.String())
    at_risk = fields.Boolean()
    risks = fields.List(fields.Nested(RiskSchema))
    active_overrides = fields.Integer()
    last_update = fields.String()


class ClassListSchema(Schema):
    learners = fields.List(fields.Nested(ClassRowSchema))


class OverrideRecordSchema(Schema):
    kind = fields.String()
    at = fields.String()
    by = fields.String()
    lesson_id = fields.String(allow_none=True)
    competency_id = fields.String(allow_none=True)
    note = fields.String()
    active = fields.Boolean()
    pathway_id = fields.String()
    subject = fields.String()


class OverrideListSchema(Schema):
    subject = fields.String()
    overrides = fields.List(fields.Nested(OverrideRecordSchema))


class LearnerMasterySchema(Schema):
    competency_id = fields.String()
    name = fields.String()
    probability = fields.Float()
    mastered = fields.Boolean()


class LearnerPathwayPreviewSchema(Schema):
    pathway = fields.Nested(PathwayRefSchema)
    recommendation = fields.Nested(RecommendationSchema)
    preview = fields.Nested(PreviewSchema)
    mastery = fields.List(fields.Nested(LearnerMasterySchema))
    overrides = fields.List(fields.Nested(OverrideRecordSchema))
    evidence_refreshed_at = fields.String(allow_none=True)


class LearnerPreviewSchema(Schema):
    subject = fields.String()
    pathways = fields.List(fields.Nested(LearnerPathwayPreviewSchema))


class WithdrawnSchema(Schema):
    withdrawn = fields.Integer()
