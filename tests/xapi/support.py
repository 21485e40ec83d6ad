"""Statements and learners the xAPI tests share: every test makes its own learner and lesson
ids, so tests sharing one session-scoped LRS never see each other's evidence."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from xapi.identity import ActorMatcher, IdentityPolicy

ISSUER = "https://lms.skillpath-tests.org"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
EXPERIENCED = "http://adlnet.gov/expapi/verbs/experienced"


def new_sub() -> str:
    return f"learner-{uuid.uuid4().hex[:12]}"


def new_lesson() -> str:
    return f"https://content.skillpath-tests.org/lessons/{uuid.uuid4().hex[:12]}"


def actor(sub: str) -> dict[str, Any]:
    return {"objectType": "Agent", "account": {"homePage": ISSUER, "name": sub}}


def matcher() -> ActorMatcher:
    return ActorMatcher([IdentityPolicy(ISSUER)])


def statement(
    sub: str,
    lesson: str,
    *,
    verb: str = COMPLETED,
    scaled: float | None = None,
    success: bool | None = None,
    statement_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A statement as content (not Skillpath) would send it."""
    body: dict[str, Any] = {
        "id": statement_id or str(uuid.uuid4()),
        "actor": actor(sub),
        "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
        "object": {"objectType": "Activity", "id": lesson},
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    result: dict[str, Any] = {}
    if scaled is not None:
        result["score"] = {"scaled": scaled}
    if success is not None:
        result["success"] = success
    if result:
        body["result"] = result
    body.update(extra)
    return body


def voiding(target_id: str, sub: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "actor": actor(sub),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": target_id},
    }
