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


class PreferencesSchema(Schema):
    """The learner's choices: a format, "I have N minutes" and a pace (minutes a day); a
    field left out is kept, `null` clears it."""

    class Meta:
        unknown = RAISE

    format = fields.String(allow_none=True, validate=validate.Length(max=40))
    minutes = fields.Integer(allow_none=True, metadata={"description": "5, 10, 15, 20, 30, 45, 60"})
    minutes_per_day = fields.Integer(
        allow_none=True, metadata={"description": "10, 15, 20, 30, 45, 60, 90"}
    )


class PreAssessmentAnswersSchema(Schema):
    """The learner's answers (question id -> index of the chosen choice), or `skip`."""

    class Meta:
        unknown = RAISE

    answers = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=200)),
        values=fields.Integer(validate=validate.Range(min=0, max=20)),
        load_default=None,
    )
    skip = fields.Boolean(load_default=False)


class PathwayRefSchema(Schema):
    id = fields.String(required=True)
    title = fields.String()


class EvidenceSchema(Schema):
    status = fields.String(metadata={"description": "fresh, stale or no_lrs"})
    refreshed_at = fields.String(allow_none=True)
    message = fields.String()


class LessonRefSchema(Schema):
    lesson_id = fields.String(required=True)
    title = fields.String()
    format = fields.String(allow_none=True)
    kind = fields.String()
    minutes = fields.Float()
    opens = fields.Boolean(metadata={"description": "the lesson has a web address to open"})


class WhySchema(Schema):
    code = fields.String(required=True)
    competency_id = fields.String(allow_none=True)
    competency_name = fields.String(allow_none=True)
    lesson_id = fields.String(allow_none=True)
    lesson_title = fields.String(allow_none=True)
    detail = fields.Dict()


class ProgressSchema(Schema):
    share = fields.Float(metadata={"description": "share of goal competencies mastered"})
    goals = fields.Integer()
    goals_mastered = fields.Integer()
    lessons_done = fields.Integer()
    lessons_ahead = fields.Integer()
    minutes_ahead = fields.Float()
    expected_finish = fields.String(allow_none=True)


class ChoicesSchema(Schema):
    format = fields.String(allow_none=True)
    minutes = fields.Float(allow_none=True)
    minutes_per_day = fields.Float(allow_none=True)
    formats = fields.List(fields.String())


class MapStepSchema(Schema):
    lesson_id = fields.String()
    title = fields.String()
    format = fields.String(allow_none=True)
    minutes = fields.Float()
    times = fields.Integer(metadata={"description": "expected attempts, folded into one step"})
    expected_date = fields.String(allow_none=True)
    reason_codes = fields.List(fields.String())
    status = fields.String(metadata={"description": "next or ahead"})


class MapMilestoneSchema(Schema):
    milestone_id = fields.String(allow_none=True, metadata={"description": "null: the goal"})
    title = fields.String()
    status = fields.String(metadata={"description": "done, current or ahead"})
    competencies = fields.List(fields.String())
    due_date = fields.String(allow_none=True)
    expected_date = fields.String(allow_none=True)
    on_track = fields.Boolean(allow_none=True)
    reached_at = fields.String(allow_none=True)
    steps = fields.List(fields.Nested(MapStepSchema))


class DoneSchema(Schema):
    lesson_id = fields.String()
    title = fields.String()
    times = fields.Integer()
    last_at = fields.String(allow_none=True)
    last_score = fields.Float(allow_none=True)


class ChangeSchema(Schema):
    at = fields.String()
    delta = fields.Float()
    source = fields.String(metadata={"description": "lesson or pre_assessment"})
    lesson_id = fields.String()
    lesson_title = fields.String()
    score = fields.Float(allow_none=True)
    success = fields.Boolean(allow_none=True)


class MasterySchema(Schema):
    competency_id = fields.String(required=True)
    name = fields.String()
    status = fields.String(metadata={"description": "not_started, learning, mastered, review_due"})
    probability = fields.Float()
    mastered = fields.Boolean()
    goal = fields.Float()
    is_goal = fields.Boolean()
    threshold = fields.Float()
    recall = fields.Float()
    review_due = fields.Boolean()
    review_at = fields.String(allow_none=True)
    evidence = fields.Integer()
    last_change = fields.Nested(ChangeSchema, allow_none=True)


class NoteSchema(Schema):
    kind = fields.String()
    lesson_id = fields.String(allow_none=True)
    lesson_title = fields.String(allow_none=True)
    competency_id = fields.String(allow_none=True)
    competency_name = fields.String(allow_none=True)
    note = fields.String()
    by = fields.String()
    at = fields.String()


class RecognitionSchema(Schema):
    milestone_id = fields.String()
    title = fields.String()
    reached_at = fields.String()
    seen = fields.Boolean()


class QuestionSchema(Schema):
    id = fields.String()
    competency_id = fields.String()
    competency_name = fields.String()
    prompt = fields.String()
    choices = fields.List(fields.String())


class PreAssessmentFormSchema(Schema):
    title = fields.String()
    intro = fields.String()
    questions = fields.List(fields.Nested(QuestionSchema))


class PreAssessmentSchema(Schema):
    available = fields.Boolean()
    status = fields.String(allow_none=True, metadata={"description": "null, done or skipped"})
    form = fields.Nested(PreAssessmentFormSchema, allow_none=True)


class LearnerPathSchema(Schema):
    pathway = fields.Nested(PathwayRefSchema)
    computed_at = fields.String()
    progress = fields.Nested(ProgressSchema)
    goal_reached = fields.Boolean()
    next = fields.Nested(LessonRefSchema, allow_none=True)
    recommendation = fields.Nested(RecommendationSchema)
    why = fields.List(fields.Nested(WhySchema))
    alternatives = fields.List(fields.Nested(LessonRefSchema))
    preferences = fields.Nested(ChoicesSchema)
    milestones = fields.List(fields.Nested(MapMilestoneSchema))
    done = fields.List(fields.Nested(DoneSchema))
    mastery = fields.List(fields.Nested(MasterySchema))
    notes = fields.List(fields.Nested(NoteSchema))
    recognitions = fields.List(fields.Nested(RecognitionSchema))
    pre_assessment = fields.Nested(PreAssessmentSchema)
    evidence = fields.Nested(EvidenceSchema)


class RiskSchema(Schema):
    milestone_id = fields.String()
    title = fields.String()
    due_date = fields.String()
    probability_of_missing = fields.Float()
    main_reason = fields.String()


class CellSchema(Schema):
    p = fields.Float()
    status = fields.String()


class ClassRowSchema(Schema):
    subject = fields.String(required=True)
    name = fields.String(allow_none=True)
    number = fields.Integer(
        allow_none=True,
        metadata={"description": "the learner's number in the course, by first launch"},
    )
    label = fields.String(
        metadata={"description": 'what the pages show: the name, else "Learner N" (never the sub)'}
    )
    pathway_id = fields.String()
    progress = fields.Float()
    next_lesson = fields.String(allow_none=True)
    goal_reached = fields.Boolean()
    stuck_on = fields.List(fields.String())
    at_risk = fields.Boolean()
    risks = fields.List(fields.Nested(RiskSchema))
    active_overrides = fields.Integer()
    mastery = fields.Dict(keys=fields.String(), values=fields.Nested(CellSchema))
    last_activity = fields.String(allow_none=True)
    as_of = fields.String(allow_none=True)
    last_update = fields.String()


class CompetencyRefSchema(Schema):
    id = fields.String()
    name = fields.String()


class ClassListSchema(Schema):
    competencies = fields.List(fields.Nested(CompetencyRefSchema))
    learners = fields.List(fields.Nested(ClassRowSchema))
    total = fields.Integer()


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


class EvidenceItemSchema(Schema):
    statement_id = fields.String()
    lesson_id = fields.String()
    lesson_title = fields.String()
    kind = fields.String(allow_none=True)
    timestamp = fields.String()
    stored_at = fields.String()
    score = fields.Float(allow_none=True)
    success = fields.Boolean(allow_none=True)
    duration_seconds = fields.Float(allow_none=True)
    voided = fields.Boolean()
    source = fields.String()


class LessonChoiceSchema(Schema):
    lesson_id = fields.String()
    title = fields.String()
    format = fields.String()


class LearnerPathwayDetailSchema(Schema):
    pathway = fields.Nested(PathwayRefSchema)
    lessons = fields.List(
        fields.Nested(LessonChoiceSchema),
        metadata={"description": "the lessons an instructor may pin, skip or assign"},
    )
    view = fields.Nested(LearnerPathSchema)
    overrides = fields.List(fields.Nested(OverrideRecordSchema))
    pre_assessment = fields.Dict(allow_none=True)
    evidence_refreshed_at = fields.String(allow_none=True)


class LearnerDetailSchema(Schema):
    subject = fields.String()
    name = fields.String(allow_none=True)
    number = fields.Integer(
        allow_none=True,
        metadata={"description": "the learner's number in the course, by first launch"},
    )
    label = fields.String(
        metadata={"description": 'what the pages show: the name, else "Learner N" (never the sub)'}
    )
    pathways = fields.List(fields.Nested(LearnerPathwayDetailSchema))
    evidence = fields.List(fields.Nested(EvidenceItemSchema))


class LessonStatsSchema(Schema):
    lesson_id = fields.String()
    title = fields.String()
    kind = fields.String()
    attempts = fields.Integer()
    learners = fields.Integer()
    struggle_rate = fields.Float(allow_none=True)
    learning_gain = fields.Float(allow_none=True)
    flagged = fields.Boolean()
    flag_reasons = fields.List(fields.String())


class CompetencyStatsSchema(Schema):
    competency_id = fields.String()
    name = fields.String()
    learners = fields.Integer()
    proficient = fields.Integer()
    median_minutes_to_proficiency = fields.Float(allow_none=True)
    median_days_to_proficiency = fields.Float(allow_none=True)


class AnalyticsSchema(Schema):
    learners = fields.Integer()
    observations = fields.Integer()
    lessons = fields.List(fields.Nested(LessonStatsSchema))
    competencies = fields.List(fields.Nested(CompetencyStatsSchema))
    flagged = fields.List(fields.String())


class GroupRatesSchema(Schema):
    learners = fields.Integer()
    recommendations = fields.Integer()
    advanced_rate = fields.Float(allow_none=True)
    remedial_rate = fields.Float(allow_none=True)
    milestone_rate = fields.Float(allow_none=True)


class ReadingSchema(Schema):
    metric = fields.String()
    group = fields.String()
    reference_group = fields.String()
    ratio = fields.Float()
    flagged = fields.Boolean()
    text = fields.String()


class LeftOutSchema(Schema):
    group = fields.String()
    learners = fields.Integer()


class EquitySchema(Schema):
    group_by = fields.String()
    groups = fields.Dict(keys=fields.String(), values=fields.Nested(GroupRatesSchema))
    disparity = fields.Dict(
        keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Float())
    )
    flags = fields.List(fields.String())
    readings = fields.List(fields.Nested(ReadingSchema))
    left_out = fields.List(fields.Nested(LeftOutSchema))
    min_group_size = fields.Integer()
    learners = fields.Integer()


class GroupsSavedSchema(Schema):
    learners = fields.Integer()


class GradeFailureSchema(Schema):
    item_id = fields.Integer()
    user_id = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    number = fields.Integer(
        allow_none=True,
        metadata={"description": "the learner's number in the course, by first launch"},
    )
    label = fields.String(
        metadata={"description": 'what the pages show: the name, else "Learner N" (never the sub)'}
    )
    reason = fields.String(metadata={"description": "what the platform answered"})
    attempts = fields.Integer()
    queued_at = fields.String()


class GradeSyncSchema(Schema):
    available = fields.Boolean()
    reason = fields.String()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    failures = fields.List(fields.Nested(GradeFailureSchema))


class WithdrawnSchema(Schema):
    withdrawn = fields.Integer()
