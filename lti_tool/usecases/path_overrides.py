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

from lti_tool.errors import InvalidOverride, NotFound
from lti_tool.lrs.actors import actor_for, identity_policy
from lti_tool.lti.vocabulary import launch_email
from lti_tool.storage import LaunchRecord, LearnerRecord, Transaction
from lti_tool.usecases.catalogs import catalog_for
from lti_tool.usecases.learner_path import pathway_of
from lti_tool.usecases.learner_refresh import recompute, telling_for
from lti_tool.usecases.ports import Ports
from lti_tool.usecases.statements import queue_statement, statement_context
from recommender import LearnerState, Override, UnknownIdError, apply_override, withdraw_override
from xapi.statements import override_applied

OVERRIDE_KINDS = ("pin", "skip", "assign", "mark_mastered")


@dataclass(frozen=True)
class OverrideRequest:
    kind: str
    lesson_id: str | None = None
    competency_id: str | None = None
    note: str = ""
    pathway_id: str | None = None


def learner_records(tx: Transaction, instructor: LaunchRecord, subject: str) -> list[LearnerRecord]:
    """The learner's records in the instructor's course (same registration, deployment and
    context): an instructor never reaches another course's or another tenant's learners."""
    if not instructor.context_id:
        raise NotFound("This link has no course context, so it has no class.")
    return tx.learners.of_subject(instructor.course, subject)


def _record_for(
    tx: Transaction, instructor: LaunchRecord, subject: str, pathway_id: str | None
) -> tuple[LearnerRecord, Any]:
    catalog = catalog_for(tx, instructor.tenant)
    if catalog is None:
        raise NotFound("This course has no Skillpath catalog yet.")
    try:
        wanted = pathway_id or pathway_of(instructor, catalog)
    except UnknownIdError as exc:
        raise InvalidOverride(str(exc)) from None
    for record in learner_records(tx, instructor, subject):
        if record.pathway_id == wanted:
            return record, catalog
    raise NotFound(
        "This learner has not opened this pathway in your course yet; overrides apply once "
        "they have."
    )


def apply_instructor_override(
    tx: Transaction,
    instructor: LaunchRecord,
    subject: str,
    request: OverrideRequest,
    now: datetime,
    statements_base_url: str | None = None,
) -> dict[str, Any]:
    """Record the override on the learner's state; returns it as JSON-safe data."""
    record, catalog = _record_for(tx, instructor, subject, request.pathway_id)
    if request.lesson_id is not None and request.lesson_id not in catalog.lessons:
        raise InvalidOverride(f"lesson {request.lesson_id!r} is not in the catalog")
    if request.competency_id is not None and request.competency_id not in catalog.competencies:
        raise InvalidOverride(f"competency {request.competency_id!r} is not in the catalog")
    by = instructor.user_name or ""  # never the sub: the page says "instructor"
    try:
        override = Override(
            request.kind, now, by, request.lesson_id, request.competency_id, request.note
        )
    except ValueError as exc:
        raise InvalidOverride(str(exc)) from None
    state = apply_override(LearnerState.from_dict(record.state), override)
    record.state, record.updated_at = state.to_dict(), now
    if statements_base_url:
        policy = identity_policy(tx, instructor.tenant)
        context = statement_context(
            statements_base_url,
            instructor,
            record.pathway_id,
            policy,
            subject=subject,
            email=record.email,
        )
        teacher = actor_for(
            policy, instructor.issuer, instructor.subject or "", launch_email(instructor.claims)
        )
        target = request.lesson_id or request.competency_id or ""
        title = (
            catalog.lessons[target].title if request.lesson_id else catalog.competency(target).name
        )
        statement = override_applied(
            context, teacher, target, title, request.kind, request.note, now=now
        )
        queue_statement(tx, instructor, statement, now)
    tx.learners.save(record)
    return override.to_dict() | {"pathway_id": record.pathway_id, "subject": subject}


def withdraw_instructor_override(
    tx: Transaction,
    instructor: LaunchRecord,
    subject: str,
    kind: str,
    target: str,
    note: str,
    now: datetime,
    pathway_id: str | None = None,
) -> int:
    """Deactivate the active overrides of `kind` on `target`; returns how many."""
    record, _ = _record_for(tx, instructor, subject, pathway_id)
    state = LearnerState.from_dict(record.state)
    by = instructor.user_name or ""  # never the sub: the page says "instructor"
    after = withdraw_override(state, kind, target, by, now, note)
    changed = sum(
        1 for old, new in zip(state.overrides, after.overrides, strict=True) if old != new
    )
    if changed:
        record.state, record.updated_at = after.to_dict(), now
        tx.learners.save(record)
    return changed


def overrides_of(tx: Transaction, instructor: LaunchRecord, subject: str) -> list[dict[str, Any]]:
    """Every override ever recorded for the learner in this course, newest first."""
    found: list[dict[str, Any]] = []
    for record in learner_records(tx, instructor, subject):
        for override in LearnerState.from_dict(record.state).overrides:
            found.append(override.to_dict() | {"pathway_id": record.pathway_id})
    return sorted(found, key=lambda o: str(o["at"]), reverse=True)


def override_path(
    ports: Ports, instructor: LaunchRecord, subject: str, request: OverrideRequest
) -> dict[str, Any]:
    """An instructor's override of one learner's path; with an LRS connected, "overrode" is
    queued in the same transaction."""
    base_url = ports.settings.base_url if ports.lrs.connected(instructor.tenant) else None
    with ports.storage.transaction() as tx:
        applied = apply_instructor_override(
            tx, instructor, subject, request, ports.now(), statements_base_url=base_url
        )
        _refresh_view(ports, tx, instructor, subject, str(applied["pathway_id"]))
        return applied


def withdraw_overrides(
    ports: Ports,
    instructor: LaunchRecord,
    subject: str,
    kind: str,
    target: str,
    note: str,
    pathway_id: str | None = None,
) -> int:
    """Deactivate the active overrides of `kind` on `target`; NotFound when there are none."""
    with ports.storage.transaction() as tx:
        count = withdraw_instructor_override(
            tx, instructor, subject, kind, target, note, ports.now(), pathway_id
        )
        if count:
            record, _ = _record_for(tx, instructor, subject, pathway_id)
            _refresh_view(ports, tx, instructor, subject, record.pathway_id)
    if not count:
        raise NotFound("No active override of that kind on that lesson or competency.")
    return count


def _refresh_view(
    ports: Ports, tx: Transaction, instructor: LaunchRecord, subject: str, pathway_id: str
) -> None:
    """The learner sees the change (and its note) on their next view: recompute it now."""
    found = tx.catalogs.effective(instructor.tenant)
    record = next(
        (r for r in learner_records(tx, instructor, subject) if r.pathway_id == pathway_id), None
    )
    if found is None or record is None:
        return
    page = tx.learner_pages.of(record.id)
    recompute(tx, record, page, found[1], found[0], ports.now(), telling_for(ports, tx, page))


def list_overrides(ports: Ports, instructor: LaunchRecord, subject: str) -> list[dict[str, Any]]:
    with ports.storage.transaction() as tx:
        return overrides_of(tx, instructor, subject)
