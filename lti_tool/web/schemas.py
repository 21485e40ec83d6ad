"""Request bodies of the instructor and admin API, validated with marshmallow: unknown fields
are refused, and every error names the field it is about."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from lti_tool.errors import InvalidBody

OVERRIDE_KINDS = ("pin", "skip", "assign", "mark_mastered")


class OverrideSchema(Schema):
    class Meta:
        unknown = RAISE

    kind = fields.String(required=True, validate=validate.OneOf(OVERRIDE_KINDS))
    lesson_id = fields.String(load_default=None, validate=validate.Length(min=1, max=1000))
    competency_id = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    note = fields.String(load_default="", validate=validate.Length(max=2000))
    pathway_id = fields.String(load_default=None, validate=validate.Length(min=1, max=200))

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

    kind = fields.String(required=True, validate=validate.OneOf(OVERRIDE_KINDS))
    target = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    note = fields.String(load_default="", validate=validate.Length(max=2000))
    pathway_id = fields.String(load_default=None, validate=validate.Length(min=1, max=200))


def load_body(schema: Schema) -> dict[str, Any]:
    """The request's JSON body through `schema`; InvalidBody (400) naming each bad field."""
    body = request.get_json(silent=True)
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
