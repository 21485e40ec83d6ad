"""Learner records (per course) and the evidence read from the LRS (per tenant and person).

A learner record belongs to one course: every query here takes a `Course`, so one course's
overrides and progress never show in another. Evidence is what the organisation's LRS says
about a person, so it is kept once per tenant and read by every course of that tenant.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from lti_tool.storage.models import EvidenceRow, LearnerRow
from lti_tool.storage.records import Course, EvidenceRecord, LearnerRecord, Tenant
from recommender import Observation

_FIELDS = (
    "state",
    "updated_at",
    "evidence_refreshed_at",
    "last_recommended",
    "last_progress",
    "email",
    "reported",
)


def _in_course(course: Course) -> tuple[Any, ...]:
    return (
        LearnerRow.issuer == course.tenant.issuer,
        LearnerRow.client_id == course.tenant.client_id,
        LearnerRow.deployment_id == course.deployment_id,
        LearnerRow.context_id == course.context_id,
    )


# A launch and its page ask these each time: statements built once, values bound per call
# (building a statement costs more than running it). `LEARNER_KEY` names one learner record:
# a course, a subject and a pathway (`learner_key` gives the values).
LEARNER_KEY = (
    LearnerRow.issuer == bindparam("issuer"),
    LearnerRow.client_id == bindparam("client_id"),
    LearnerRow.deployment_id == bindparam("deployment_id"),
    LearnerRow.context_id == bindparam("context_id"),
    LearnerRow.subject == bindparam("subject"),
    LearnerRow.pathway_id == bindparam("pathway_id"),
)
_FIND = select(LearnerRow).where(*LEARNER_KEY)
_SINCE = (
    select(EvidenceRow)
    .where(
        EvidenceRow.issuer == bindparam("issuer"),
        EvidenceRow.client_id == bindparam("client_id"),
        EvidenceRow.subject == bindparam("subject"),
        EvidenceRow.id > bindparam("after_id"),
    )
    .order_by(EvidenceRow.id)
)


def learner_key(course: Course, subject: str, pathway_id: str) -> dict[str, str]:
    """The values of `LEARNER_KEY` for one learner record."""
    return {
        "issuer": course.tenant.issuer,
        "client_id": course.tenant.client_id,
        "deployment_id": course.deployment_id,
        "context_id": course.context_id,
        "subject": subject,
        "pathway_id": pathway_id,
    }


def learner_record(row: LearnerRow, course: Course | None = None) -> LearnerRecord:
    return LearnerRecord(
        id=row.id,
        course=course
        or Course(Tenant(row.issuer, row.client_id), row.deployment_id, row.context_id),
        subject=row.subject,
        pathway_id=row.pathway_id,
        state=dict(row.state),
        first_launch_at=row.first_launch_at,
        updated_at=row.updated_at,
        evidence_refreshed_at=row.evidence_refreshed_at,
        last_recommended=row.last_recommended,
        last_progress=row.last_progress,
        email=row.email,
        reported=dict(row.reported) if row.reported is not None else None,
    )


class LearnerRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def find(self, course: Course, subject: str, pathway_id: str) -> LearnerRecord | None:
        row = self._session.scalars(_FIND, learner_key(course, subject, pathway_id)).first()
        return learner_record(row, course) if row is not None else None

    def get(self, learner_id: int) -> LearnerRecord | None:
        row = self._session.get(LearnerRow, learner_id)
        return learner_record(row) if row is not None else None

    def create(
        self, course: Course, subject: str, pathway_id: str, state: dict[str, Any], now: datetime
    ) -> LearnerRecord:
        row = LearnerRow(
            issuer=course.tenant.issuer,
            client_id=course.tenant.client_id,
            deployment_id=course.deployment_id,
            context_id=course.context_id,
            subject=subject,
            pathway_id=pathway_id,
            state=state,
            first_launch_at=now,
            updated_at=now,
        )
        self._session.add(row)
        self._session.flush()
        return learner_record(row, course)

    def save(self, record: LearnerRecord) -> None:
        """Write the record's mutable fields back."""
        row = self._session.get(LearnerRow, record.id)
        if row is None:
            raise LookupError(f"learner record {record.id} is gone")
        for name in _FIELDS:
            setattr(row, name, getattr(record, name))

    def in_course(self, course: Course) -> list[LearnerRecord]:
        rows = self._session.scalars(select(LearnerRow).where(*_in_course(course)))
        return [learner_record(row, course) for row in rows]

    def of_subject(self, course: Course, subject: str) -> list[LearnerRecord]:
        """One learner's records in the course, one per pathway they opened there."""
        rows = self._session.scalars(
            select(LearnerRow)
            .where(*_in_course(course), LearnerRow.subject == subject)
            .order_by(LearnerRow.pathway_id)
        )
        return [learner_record(row, course) for row in rows]

    def tenants_knowing(self, issuer: str, subject: str) -> set[Tenant]:
        """The registrations of `issuer` in which this person has opened a path."""
        rows = self._session.execute(
            select(LearnerRow.client_id)
            .where(LearnerRow.issuer == issuer, LearnerRow.subject == subject)
            .distinct()
        ).scalars()
        return {Tenant(issuer, client_id) for client_id in rows}

    def email_directory(self, issuers: Iterable[str]) -> dict[str, dict[str, str]]:
        """issuer -> {email: sub} for the learners whose email is kept (mbox identity)."""
        wanted = list(issuers)
        directory: dict[str, dict[str, str]] = {}
        if not wanted:
            return directory
        rows = self._session.execute(
            select(LearnerRow.issuer, LearnerRow.email, LearnerRow.subject).where(
                LearnerRow.issuer.in_(wanted), LearnerRow.email.is_not(None)
            )
        )
        for issuer, email, subject in rows:
            if email:
                directory.setdefault(issuer, {})[email] = subject
        return directory


class EvidenceRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add_new(self, tenant: Tenant, observations: Sequence[Observation], now: datetime) -> int:
        """Keep the observations not seen before (by statement id); how many were new."""
        ids = [o.statement_id for o in observations if o.statement_id]
        known = (
            set(
                self._session.scalars(
                    select(EvidenceRow.statement_id).where(
                        EvidenceRow.issuer == tenant.issuer,
                        EvidenceRow.client_id == tenant.client_id,
                        EvidenceRow.statement_id.in_(ids),
                    )
                )
            )
            if ids
            else set()
        )
        added = 0
        for obs in observations:
            if not obs.statement_id or obs.statement_id in known:
                continue
            known.add(obs.statement_id)
            self._session.add(
                EvidenceRow(
                    issuer=tenant.issuer,
                    client_id=tenant.client_id,
                    subject=obs.learner_id,
                    statement_id=obs.statement_id,
                    lesson_id=obs.lesson_id,
                    timestamp=obs.timestamp,
                    score=obs.score,
                    success=obs.success,
                    duration_seconds=obs.duration_seconds,
                    voided=obs.voided,
                    stored_at=now,
                )
            )
            added += 1
        self._session.flush()
        return added

    def void(self, tenant: Tenant, statement_ids: Sequence[str]) -> set[str]:
        """Voided statements stop counting (they stay, marked). Returns the people whose
        evidence changed (their learner states need a replay)."""
        affected: set[str] = set()
        if not statement_ids:
            return affected
        for row in self._session.scalars(
            select(EvidenceRow).where(
                EvidenceRow.issuer == tenant.issuer,
                EvidenceRow.client_id == tenant.client_id,
                EvidenceRow.statement_id.in_(list(statement_ids)),
            )
        ):
            if not row.voided:
                affected.add(row.subject)
            row.voided = True
        self._session.flush()
        return affected

    def count(self, tenant: Tenant) -> int:
        """How many statements of the tenant still count (not voided)."""
        return int(
            self._session.scalar(
                select(func.count())
                .select_from(EvidenceRow)
                .where(
                    EvidenceRow.issuer == tenant.issuer,
                    EvidenceRow.client_id == tenant.client_id,
                    EvidenceRow.voided.is_(False),
                )
            )
            or 0
        )

    def for_tenant(self, tenant: Tenant) -> list[Observation]:
        """Every statement of the tenant that still counts, by learner, oldest first (what a
        fit of the learner model reads)."""
        rows = self._session.execute(
            select(
                EvidenceRow.subject,
                EvidenceRow.lesson_id,
                EvidenceRow.timestamp,
                EvidenceRow.score,
                EvidenceRow.success,
                EvidenceRow.duration_seconds,
                EvidenceRow.statement_id,
            )
            .where(
                EvidenceRow.issuer == tenant.issuer,
                EvidenceRow.client_id == tenant.client_id,
                EvidenceRow.voided.is_(False),
            )
            .order_by(EvidenceRow.subject, EvidenceRow.timestamp, EvidenceRow.id)
        )
        return [
            Observation(
                learner_id=subject,
                lesson_id=lesson_id,
                timestamp=timestamp,
                score=score,
                success=success,
                duration_seconds=duration,
                statement_id=statement_id,
            )
            for subject, lesson_id, timestamp, score, success, duration, statement_id in rows
        ]

    def for_learner(self, tenant: Tenant, subject: str) -> list[Observation]:
        """The learner's evidence that still counts, oldest first."""
        rows = self._session.scalars(
            select(EvidenceRow)
            .where(
                *_of_learner(tenant, subject),
                EvidenceRow.voided.is_(False),
            )
            .order_by(EvidenceRow.timestamp)
        )
        return [_observation(row) for row in rows]

    def since(self, tenant: Tenant, subject: str, after_id: int) -> list[tuple[int, Observation]]:
        """The learner's evidence stored after row `after_id` that still counts, by row id:
        what an incremental update applies."""
        rows = self._session.scalars(
            _SINCE,
            {"issuer": tenant.issuer, "client_id": tenant.client_id, "subject": subject,
             "after_id": after_id},
        )  # fmt: skip
        return [(row.id, _observation(row)) for row in rows if not row.voided]

    def latest_id(self, tenant: Tenant, subject: str) -> int:
        """The newest evidence row id of the learner (0 when none)."""
        found = self._session.scalar(
            select(func.max(EvidenceRow.id)).where(
                *_of_learner(tenant, subject),
            )
        )
        return int(found or 0)

    def history(self, tenant: Tenant, subject: str) -> list[EvidenceRecord]:
        """Every statement kept about the learner, voided ones included, newest first."""
        rows = self._session.scalars(
            select(EvidenceRow)
            .where(
                *_of_learner(tenant, subject),
            )
            .order_by(EvidenceRow.timestamp.desc(), EvidenceRow.id.desc())
        )
        return [
            EvidenceRecord(
                id=row.id,
                statement_id=row.statement_id,
                lesson_id=row.lesson_id,
                timestamp=row.timestamp,
                score=row.score,
                success=row.success,
                duration_seconds=row.duration_seconds,
                voided=row.voided,
                stored_at=row.stored_at,
            )
            for row in rows
        ]

    def for_subjects(self, tenant: Tenant, subjects: Iterable[str]) -> list[Observation]:
        """The evidence that still counts of several people, oldest first (cohort analytics
        and exports of one course)."""
        wanted = sorted(set(subjects))
        found: list[Observation] = []
        for start in range(0, len(wanted), 500):
            rows = self._session.scalars(
                select(EvidenceRow)
                .where(
                    EvidenceRow.issuer == tenant.issuer,
                    EvidenceRow.client_id == tenant.client_id,
                    EvidenceRow.subject.in_(wanted[start : start + 500]),
                    EvidenceRow.voided.is_(False),
                )
                .order_by(EvidenceRow.timestamp, EvidenceRow.id)
            )
            found.extend(_observation(row) for row in rows)
        return sorted(found, key=lambda o: o.timestamp)


def _of_learner(tenant: Tenant, subject: str) -> tuple[Any, ...]:
    """The where-clause of one learner's evidence in a tenant."""
    return (
        EvidenceRow.issuer == tenant.issuer,
        EvidenceRow.client_id == tenant.client_id,
        EvidenceRow.subject == subject,
    )


def _observation(row: EvidenceRow) -> Observation:
    return Observation(
        learner_id=row.subject,
        lesson_id=row.lesson_id,
        timestamp=row.timestamp,
        score=row.score,
        success=row.success,
        duration_seconds=row.duration_seconds,
        statement_id=row.statement_id,
    )
