"""What the pages keep beside each learner record: the bookkeeping of incremental state, the
stored learner view and class-view summary, recognitions (milestones reached) and the
groups of a course's equity report.

Every course-scoped query takes a `Course`; learner ids come from records of that course.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from lti_tool.storage.learners import LEARNER_KEY, learner_key, learner_record
from lti_tool.storage.models import (
    EvidenceRow,
    LearnerGroupRow,
    LearnerPageRow,
    LearnerRow,
    RecognitionRow,
)
from lti_tool.storage.records import (
    ClassMember,
    Course,
    LearnerPageRecord,
    LearnerRecord,
    RecognitionRecord,
    StoredView,
    Tenant,
)

_FIELDS = (
    "display_name",
    "launch_id",
    "evidence_cursor",
    "evidence_at",
    "replay_needed",
    "params_version",
    "preferences",
    "pre_assessment",
    "changes",
    "opened",
    "snapshot",
    "summary",
    "computed_at",
)


def _in_course(course: Course) -> tuple[Any, ...]:
    return (
        LearnerRow.issuer == course.tenant.issuer,
        LearnerRow.client_id == course.tenant.client_id,
        LearnerRow.deployment_id == course.deployment_id,
        LearnerRow.context_id == course.context_id,
    )


_VIEW = (
    select(LearnerRow.id, LearnerPageRow.snapshot, LearnerPageRow.computed_at)
    .outerjoin(LearnerPageRow, LearnerPageRow.learner_id == LearnerRow.id)
    .where(*LEARNER_KEY)
)
_WITH_PAGE = (
    select(LearnerRow, LearnerPageRow)
    .outerjoin(LearnerPageRow, LearnerPageRow.learner_id == LearnerRow.id)
    .where(*LEARNER_KEY)
)
_PAGE = select(LearnerPageRow).where(LearnerPageRow.learner_id == bindparam("learner_id"))


def _page(row: LearnerPageRow) -> LearnerPageRecord:
    return LearnerPageRecord(
        learner_id=row.learner_id,
        display_name=row.display_name,
        launch_id=row.launch_id,
        evidence_cursor=row.evidence_cursor or 0,
        evidence_at=row.evidence_at,
        replay_needed=bool(row.replay_needed),
        params_version=row.params_version or "",
        preferences=dict(row.preferences or {}),
        pre_assessment=dict(row.pre_assessment) if row.pre_assessment is not None else None,
        changes=dict(row.changes or {}),
        opened=dict(row.opened) if row.opened is not None else None,
        snapshot=dict(row.snapshot) if row.snapshot is not None else None,
        summary=dict(row.summary) if row.summary is not None else None,
        computed_at=row.computed_at,
    )


class LearnerPageRepository:
    def __init__(self, session: Session) -> None:
        self._session = session
        # The rows this transaction loaded, held: the session's identity map holds its
        # objects weakly, so a row handed back as a record would be read (and its stored
        # view decoded) again by the next `of` or `save` of the same learner.
        self._rows: dict[int, LearnerPageRow] = {}

    def _row(self, learner_id: int) -> LearnerPageRow | None:
        row = self._rows.get(learner_id)
        if row is None:
            row = self._session.scalars(_PAGE, {"learner_id": learner_id}).first()
            if row is not None:
                self._rows[learner_id] = row
        return row

    def find_with_page(
        self, course: Course, subject: str, pathway_id: str
    ) -> tuple[LearnerRecord, LearnerPageRecord] | None:
        """`LearnerRepository.find` and `of` in one query: the learner record of a course
        and pathway, and its page record (a fresh one when there is none yet)."""
        found = self._session.execute(_WITH_PAGE, learner_key(course, subject, pathway_id)).first()
        if found is None:
            return None
        learner, row = found
        if row is None:
            return learner_record(learner, course), LearnerPageRecord(learner.id)
        self._rows[learner.id] = row
        return learner_record(learner, course), _page(row)

    def of(self, learner_id: int) -> LearnerPageRecord:
        """The page record of a learner record (a fresh one when there is none yet)."""
        row = self._row(learner_id)
        return _page(row) if row is not None else LearnerPageRecord(learner_id)

    def save(self, record: LearnerPageRecord) -> None:
        row = self._row(record.learner_id)
        if row is None:
            row = LearnerPageRow(learner_id=record.learner_id)
            self._session.add(row)
            self._rows[record.learner_id] = row
        for name in _FIELDS:
            setattr(row, name, getattr(record, name))
        self._session.flush()

    def view(self, course: Course, subject: str, pathway_id: str) -> StoredView | None:
        """The stored view of one learner in one pathway of a course (one indexed query; the
        state and the evidence are not read). None when the learner has no record here."""
        found = self._session.execute(_VIEW, learner_key(course, subject, pathway_id)).first()
        if found is None:
            return None
        return StoredView(found[0], found[1], found[2])

    def class_members(self, course: Course) -> list[ClassMember]:
        """Every learner record of the course with its stored summary."""
        rows = self._session.execute(
            select(
                LearnerRow.id,
                LearnerRow.subject,
                LearnerRow.pathway_id,
                LearnerRow.updated_at,
                LearnerPageRow.display_name,
                LearnerPageRow.summary,
                LearnerPageRow.computed_at,
            )
            .outerjoin(LearnerPageRow, LearnerPageRow.learner_id == LearnerRow.id)
            .where(*_in_course(course))
        )
        return [
            ClassMember(
                learner_id=r[0],
                subject=r[1],
                pathway_id=r[2],
                updated_at=r[3],
                display_name=r[4],
                summary=r[5],
                computed_at=r[6],
            )
            for r in rows
        ]

    def learner_numbers(self, course: Course) -> dict[str, int]:
        """Each learner of the course numbered 1, 2, 3... in the order they first opened
        Skillpath there (by their first record's id). Records are never deleted and a new
        learner's id is higher than every earlier one, so a number never changes."""
        first = func.min(LearnerRow.id)
        rows = self._session.execute(
            select(LearnerRow.subject, first)
            .where(*_in_course(course))
            .group_by(LearnerRow.subject)
            .order_by(first)
        )
        return {subject: n for n, (subject, _) in enumerate(rows, start=1)}

    def flag_replay(self, tenant: Tenant, subjects: Iterable[str]) -> int:
        """Mark every record of these people in the tenant for a replay (their evidence was
        voided). Returns how many records."""
        wanted = sorted(set(subjects))
        if not wanted:
            return 0
        ids = select(LearnerRow.id).where(
            LearnerRow.issuer == tenant.issuer,
            LearnerRow.client_id == tenant.client_id,
            LearnerRow.subject.in_(wanted),
        )
        rows = list(
            self._session.scalars(select(LearnerPageRow).where(LearnerPageRow.learner_id.in_(ids)))
        )
        for row in rows:
            row.replay_needed = True
        self._session.flush()
        return len(rows)

    def flag_tenant_replay(self, tenant: Tenant) -> int:
        """Mark every learner record of the tenant for a replay (its model parameters
        changed). Returns how many records."""
        ids = select(LearnerRow.id).where(
            LearnerRow.issuer == tenant.issuer, LearnerRow.client_id == tenant.client_id
        )
        result = self._session.execute(
            update(LearnerPageRow)
            .where(LearnerPageRow.learner_id.in_(ids))
            .values(replay_needed=True)
            .execution_options(synchronize_session=False)
        )
        for row in self._rows.values():  # read again when next asked for
            self._session.expire(row)
        self._rows.clear()
        return int(getattr(result, "rowcount", 0) or 0)

    def behind(self, limit: int) -> list[int]:
        """Learner records whose state is behind their evidence (new rows past the cursor)
        or that need a replay: what the background catch-up works through."""
        newer = exists().where(
            EvidenceRow.issuer == LearnerRow.issuer,
            EvidenceRow.client_id == LearnerRow.client_id,
            EvidenceRow.subject == LearnerRow.subject,
            EvidenceRow.id > LearnerPageRow.evidence_cursor,
        )
        rows = self._session.scalars(
            select(LearnerPageRow.learner_id)
            .join(LearnerRow, LearnerRow.id == LearnerPageRow.learner_id)
            .where(or_(LearnerPageRow.replay_needed.is_(True), newer))
            .order_by(LearnerPageRow.learner_id)
            .limit(limit)
        )
        return list(rows)


class RecognitionRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def of_learner(self, learner_id: int) -> list[RecognitionRecord]:
        rows = self._session.scalars(
            select(RecognitionRow)
            .where(RecognitionRow.learner_id == learner_id)
            .order_by(RecognitionRow.reached_at, RecognitionRow.id)
        )
        return [RecognitionRecord(r.milestone_id, r.title, r.reached_at, r.seen_at) for r in rows]

    def add(self, learner_id: int, milestone_id: str, title: str, now: datetime) -> None:
        self._session.add(
            RecognitionRow(
                learner_id=learner_id, milestone_id=milestone_id, title=title, reached_at=now
            )
        )
        self._session.flush()

    def mark_seen(self, learner_id: int, now: datetime) -> int:
        result = self._session.execute(
            update(RecognitionRow)
            .where(RecognitionRow.learner_id == learner_id, RecognitionRow.seen_at.is_(None))
            .values(seen_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def _group_course(course: Course) -> Any:
    return and_(
        LearnerGroupRow.issuer == course.tenant.issuer,
        LearnerGroupRow.client_id == course.tenant.client_id,
        LearnerGroupRow.deployment_id == course.deployment_id,
        LearnerGroupRow.context_id == course.context_id,
    )


class GroupRepository:
    """The groups of one course's equity report (sub -> group), replaced as a whole."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def of_course(self, course: Course) -> dict[str, str]:
        rows = self._session.execute(
            select(LearnerGroupRow.subject, LearnerGroupRow.group_name).where(_group_course(course))
        )
        return {subject: group for subject, group in rows}

    def replace(self, course: Course, groups: Mapping[str, str]) -> None:
        self._session.execute(delete(LearnerGroupRow).where(_group_course(course)))
        for subject, group in sorted(groups.items()):
            self._session.add(
                LearnerGroupRow(
                    issuer=course.tenant.issuer,
                    client_id=course.tenant.client_id,
                    deployment_id=course.deployment_id,
                    context_id=course.context_id,
                    subject=subject,
                    group_name=group,
                )
            )
        self._session.flush()
