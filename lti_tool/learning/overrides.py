"""Instructor overrides of a learner's path (pin, skip, assign a lesson; mark a competency
mastered), within the instructor's own course.

An override is recorded in the learner's persisted state (the engine's `apply_override`, so it
wins over the policy at the learner's next launch), and, with an LRS connected, an "overrode"
statement naming the instructor and the learner is queued in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.errors import NotFound, SkillpathError
from lti_tool.learning.catalogs import catalog_for
from lti_tool.learning.identity import actor_for, identity_policy, launch_email
from lti_tool.learning.learner_path import pathway_of
from lti_tool.learning.statements_out import queue_statement, statement_context
from lti_tool.models import Launch, LearnerRecord
from recommender import LearnerState, Override, UnknownIdError, apply_override, withdraw_override
from xapi.statements import override_applied


class InvalidOverride(SkillpathError):
    status = 400
    code = "invalid_override"
    default_message = "This override cannot be applied."


@dataclass(frozen=True)
class OverrideRequest:
    kind: str
    lesson_id: str | None = None
    competency_id: str | None = None
    note: str = ""
    pathway_id: str | None = None


def learner_records(session: Session, instructor: Launch, subject: str) -> list[LearnerRecord]:
    """The learner's records in the instructor's course (same registration, deployment and
    context): an instructor never reaches another course's or another tenant's learners."""
    if not instructor.context_id:
        raise NotFound("This link has no course context, so it has no class.")
    return list(
        session.scalars(
            select(LearnerRecord)
            .where(
                LearnerRecord.issuer == instructor.issuer,
                LearnerRecord.client_id == instructor.client_id,
                LearnerRecord.deployment_id == instructor.deployment_id,
                LearnerRecord.context_id == instructor.context_id,
                LearnerRecord.subject == subject,
            )
            .order_by(LearnerRecord.pathway_id)
        )
    )


def _record_for(
    session: Session, instructor: Launch, subject: str, pathway_id: str | None
) -> tuple[LearnerRecord, Any]:
    catalog = catalog_for(session, instructor.issuer, instructor.client_id)
    if catalog is None:
        raise NotFound("This course has no Skillpath catalog yet.")
    try:
        wanted = pathway_id or pathway_of(instructor, catalog)
    except UnknownIdError as exc:
        raise InvalidOverride(str(exc)) from None
    for record in learner_records(session, instructor, subject):
        if record.pathway_id == wanted:
            return record, catalog
    raise NotFound(
        "This learner has not opened this pathway in your course yet; overrides apply once "
        "they have."
    )


def apply_instructor_override(
    session: Session,
    instructor: Launch,
    subject: str,
    request: OverrideRequest,
    now: datetime,
    statements_base_url: str | None = None,
) -> dict[str, Any]:
    """Record the override on the learner's state; returns it as JSON-safe data."""
    record, catalog = _record_for(session, instructor, subject, request.pathway_id)
    if request.lesson_id is not None and request.lesson_id not in catalog.lessons:
        raise InvalidOverride(f"lesson {request.lesson_id!r} is not in the catalog")
    if request.competency_id is not None and request.competency_id not in catalog.competencies:
        raise InvalidOverride(f"competency {request.competency_id!r} is not in the catalog")
    by = instructor.user_name or instructor.subject or "instructor"
    try:
        override = Override(
            request.kind, now, by, request.lesson_id, request.competency_id, request.note
        )
    except ValueError as exc:
        raise InvalidOverride(str(exc)) from None
    state = apply_override(LearnerState.from_dict(record.state), override)
    record.state, record.updated_at = state.to_dict(), now
    if statements_base_url:
        policy = identity_policy(session, instructor.issuer, instructor.client_id)
        context = statement_context(
            statements_base_url,
            instructor,
            record.pathway_id,
            policy,
            subject=subject,
            email=record.email,
        )
        teacher = actor_for(
            policy, instructor.issuer, instructor.subject or "", launch_email(instructor)
        )
        target = request.lesson_id or request.competency_id or ""
        title = (
            catalog.lessons[target].title if request.lesson_id else catalog.competency(target).name
        )
        statement = override_applied(
            context, teacher, target, title, request.kind, request.note, now=now
        )
        queue_statement(session, instructor, statement, now)
    session.flush()
    return override.to_dict() | {"pathway_id": record.pathway_id, "subject": subject}


def withdraw_instructor_override(
    session: Session,
    instructor: Launch,
    subject: str,
    kind: str,
    target: str,
    note: str,
    now: datetime,
    pathway_id: str | None = None,
) -> int:
    """Deactivate the active overrides of `kind` on `target`; returns how many."""
    record, _ = _record_for(session, instructor, subject, pathway_id)
    state = LearnerState.from_dict(record.state)
    by = instructor.user_name or instructor.subject or "instructor"
    after = withdraw_override(state, kind, target, by, now, note)
    changed = sum(
        1 for old, new in zip(state.overrides, after.overrides, strict=True) if old != new
    )
    if changed:
        record.state, record.updated_at = after.to_dict(), now
    return changed


def overrides_of(session: Session, instructor: Launch, subject: str) -> list[dict[str, Any]]:
    """Every override ever recorded for the learner in this course, newest first."""
    found: list[dict[str, Any]] = []
    for record in learner_records(session, instructor, subject):
        for override in LearnerState.from_dict(record.state).overrides:
            found.append(override.to_dict() | {"pathway_id": record.pathway_id})
    return sorted(found, key=lambda o: str(o["at"]), reverse=True)
