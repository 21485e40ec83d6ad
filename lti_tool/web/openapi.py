"""The OpenAPI document of `/api/v1` (served at `/api/v1/openapi.json`). A test checks that
every API route of the app is described here."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from lti_tool.web.schemas import OVERRIDE_KINDS

bp = Blueprint("openapi", __name__)

_ERROR = {"$ref": "#/components/schemas/Error"}
_SUBJECT = {
    "name": "subject",
    "in": "path",
    "required": True,
    "description": "The learner's LTI `sub`.",
    "schema": {"type": "string"},
}


def _errors(*statuses: int) -> dict[str, Any]:
    return {
        str(s): {"description": "error", "content": {"application/json": {"schema": _ERROR}}}
        for s in statuses
    }


def document() -> dict[str, Any]:
    override_body = {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind"],
        "properties": {
            "kind": {"enum": list(OVERRIDE_KINDS)},
            "lesson_id": {"type": "string", "description": "pin, skip, assign"},
            "competency_id": {"type": "string", "description": "mark_mastered"},
            "note": {"type": "string", "maxLength": 2000},
            "pathway_id": {"type": "string", "description": "default: the link's pathway"},
        },
    }
    withdraw_body = {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind", "target"],
        "properties": {
            "kind": {"enum": list(OVERRIDE_KINDS)},
            "target": {"type": "string", "description": "the lesson or competency id"},
            "note": {"type": "string", "maxLength": 2000},
            "pathway_id": {"type": "string"},
        },
    }
    json_object = {"application/json": {"schema": {"type": "object"}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Skillpath API", "version": "1"},
        "components": {
            "securitySchemes": {
                "launchSession": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The session token of an LTI launch (the page holds it).",
                }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["code", "status", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "status": {"type": "integer"},
                        "message": {"type": "string"},
                        "errors": {"type": "object", "description": "per field, when any"},
                    },
                }
            },
        },
        "security": [{"launchSession": []}],
        "paths": {
            "/api/v1/me/path": {
                "get": {
                    "summary": "The launched learner's next lesson, path, mastery and evidence",
                    "responses": {
                        "200": {"description": "the path", "content": json_object},
                        **_errors(401, 404),
                    },
                }
            },
            "/api/v1/course/learners": {
                "get": {
                    "summary": "The instructor's course: each learner's progress, next lesson, "
                    "coach flags (stuck) and milestone risks, those who need a person first",
                    "responses": {
                        "200": {"description": "learners", "content": json_object},
                        **_errors(401, 403),
                    },
                }
            },
            "/api/v1/course/learners/{subject}/path": {
                "parameters": [_SUBJECT],
                "get": {
                    "summary": "One learner's path as they see it: next lesson and reasons, "
                    "the path ahead, mastery, overrides (from the saved state)",
                    "responses": {
                        "200": {"description": "per pathway", "content": json_object},
                        **_errors(401, 403, 404),
                    },
                },
            },
            "/api/v1/course/learners/{subject}/overrides": {
                "parameters": [_SUBJECT],
                "get": {
                    "summary": "Every override recorded for a learner of the instructor's course",
                    "responses": {
                        "200": {"description": "overrides, newest first", "content": json_object},
                        **_errors(401, 403, 404),
                    },
                },
                "post": {
                    "summary": "Override the learner's path (instructors; Bearer token only)",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": override_body}},
                    },
                    "responses": {
                        "201": {"description": "the recorded override", "content": json_object},
                        **_errors(400, 401, 403, 404),
                    },
                },
            },
            "/api/v1/course/learners/{subject}/overrides/withdraw": {
                "parameters": [_SUBJECT],
                "post": {
                    "summary": "Withdraw the active overrides of a kind on a lesson or competency",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": withdraw_body}},
                    },
                    "responses": {
                        "200": {"description": "how many were withdrawn", "content": json_object},
                        **_errors(400, 401, 403, 404),
                    },
                },
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI 3.1", "content": json_object}},
                }
            },
        },
    }


@bp.get("/api/v1/openapi.json")
def openapi() -> Response:
    return jsonify(document())
