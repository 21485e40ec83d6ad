"""The instructor's view of the class: every learner of the course who has opened the path,
with progress, the next lesson, who is stuck (flagged for a coach) and who is at risk of
missing a milestone's due date, and why.

Computed from the learners' persisted states (the LRS is read at each learner's own launch
and by the background sync), so opening the class view never waits on the LRS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lti_tool.errors import NotFound, RosterUnavailable
from lti_tool.lti.services.nrps import Member, read_roster
from lti_tool.storage import LaunchRecord, Transaction
from lti_tool.usecases.catalogs import catalog_for
from lti_tool.usecases.grades import GradeSyncStatus, grade_sync_status
from lti_tool.usecases.learner_path import goal_progress
from lti_tool.usecases.model import params_for
from lti_tool.usecases.path_overrides import learner_records
from lti_tool.usecases.ports import Ports
from recommender import (
    LearnerState,
    ModelParams,
    UnknownIdError,
    at_risk,
    mastery,
    preview_path,
    recommend,
)

# A milestone whose probability of being missed is at least this is "at risk" on the page.
AT_RISK_FROM = 0.5


@dataclass(frozen=True)
class ClassRow:
    subject: str
    pathway_id: str
    progress: float
    next_lesson: str | None
    goal_reached: bool
    stuck_on: list[str]
    risks: list[dict[str, Any]]
    overrides: int
    last_update: datetime

    @property
    def at_risk(self) -> bool:
        return any(r["probability_of_missing"] >= AT_RISK_FROM for r in self.risks)

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "pathway_id": self.pathway_id,
            "progress": self.progress,
            "next_lesson": self.next_lesson,
            "goal_reached": self.goal_reached,
            "stuck_on": self.stuck_on,
            "at_risk": self.at_risk,
            "risks": self.risks,
            "active_overrides": self.overrides,
            "last_update": self.last_update.isoformat(),
        }


def class_progress(
    tx: Transaction, instructor: LaunchRecord, now: datetime, params: ModelParams | None = None
) -> list[ClassRow]:
    """One row per learner and pathway in the instructor's course (same registration,
    deployment and context), those who need a person first: stuck, then at risk."""
    if not instructor.context_id:
        return []
    catalog = catalog_for(tx, instructor.tenant)
    if catalog is None:
        return []
    params = params or params_for(tx, instructor.tenant)
    records = tx.learners.in_course(instructor.course)
    rows = []
    for record in records:
        try:
            pathway = catalog.pathway(record.pathway_id)
        except UnknownIdError:
            continue  # a pathway the current catalog no longer has
        state = LearnerState.from_dict(record.state)
        estimates = mastery(state, catalog, params, now)
        progress = goal_progress(pathway, estimates)
        recommendation = recommend(catalog, state, params, now, pathway.id)
        next_lesson = catalog.lessons.get(recommendation.lesson_id or "")
        risks = [
            {
                "milestone_id": r.milestone_id,
                "due_date": r.due_date.isoformat(),
                "probability_of_missing": round(r.probability_of_missing, 3),
                "main_reason": r.main_reason,
            }
            for r in at_risk(catalog, state, params, now, pathway.id)
            if r.main_reason != "complete"
        ]
        rows.append(
            ClassRow(
                subject=record.subject,
                pathway_id=pathway.id,
                progress=progress,
                next_lesson=next_lesson.title if next_lesson else None,
                goal_reached=recommendation.goal_reached,
                stuck_on=[
                    catalog.competency(c).name
                    for c in state.coach_flags
                    if c in catalog.competencies
                ],
                risks=risks,
                overrides=sum(1 for o in state.overrides if o.active),
                last_update=record.updated_at,
            )
        )
    return sorted(rows, key=lambda r: (not r.stuck_on, not r.at_risk, r.progress, r.subject))


def learner_preview(
    tx: Transaction,
    instructor: LaunchRecord,
    subject: str,
    now: datetime,
    params: ModelParams | None = None,
) -> list[dict[str, Any]]:
    """What one learner of the instructor's course sees, per pathway they opened: the next
    lesson with its reasons, the path ahead, the mastery per competency, the overrides. From
    the saved state; raises NotFound for someone who has not opened the path here."""
    catalog = catalog_for(tx, instructor.tenant)
    if catalog is None:
        raise NotFound("This course has no Skillpath catalog yet.")
    params = params or params_for(tx, instructor.tenant)
    found = []
    for record in learner_records(tx, instructor, subject):
        try:
            pathway = catalog.pathway(record.pathway_id)
        except UnknownIdError:
            continue
        state = LearnerState.from_dict(record.state)
        estimates = mastery(state, catalog, params, now)
        found.append(
            {
                "pathway": {"id": pathway.id, "title": pathway.title},
                "recommendation": recommend(catalog, state, params, now, pathway.id).to_dict(),
                "preview": preview_path(catalog, state, params, now, pathway.id).to_dict(),
                "mastery": [
                    {
                        "competency_id": c,
                        "name": catalog.competency(c).name,
                        "probability": round(estimates[c].probability, 4),
                        "mastered": estimates[c].mastered,
                    }
                    for c in catalog.pathway_competencies(pathway)
                ],
                "overrides": [o.to_dict() for o in state.overrides],
                "evidence_refreshed_at": record.evidence_refreshed_at.isoformat()
                if record.evidence_refreshed_at
                else None,
            }
        )
    if not found:
        raise NotFound("This learner has not opened the path in your course yet.")
    return found


def class_list(ports: Ports, instructor: LaunchRecord) -> list[ClassRow]:
    """The instructor's course, those who need a person first."""
    with ports.storage.transaction() as tx:
        return class_progress(tx, instructor, ports.now())


def preview_learner(ports: Ports, instructor: LaunchRecord, subject: str) -> list[dict[str, Any]]:
    """One learner's path as they see it, for their instructor."""
    with ports.storage.transaction() as tx:
        return learner_preview(tx, instructor, subject, ports.now())


@dataclass(frozen=True)
class InstructorPage:
    grades: GradeSyncStatus
    progress: list[ClassRow]
    roster: list[Member] | None
    roster_error: str | None

    @property
    def names(self) -> dict[str, str]:
        return {m.user_id: m.name for m in self.roster or () if m.name}


def instructor_page(ports: Ports, instructor: LaunchRecord) -> InstructorPage:
    """The class view: grade sync, the learners on the path, the class list from the LMS
    (never a partial one: when it cannot be read whole, the page says so instead)."""
    with ports.storage.transaction() as tx:
        grades = grade_sync_status(tx, instructor)
        progress = class_progress(tx, instructor, ports.now())
    roster, roster_error = None, None
    try:
        roster = read_roster(ports.lti_services, ports.store, instructor)
    except RosterUnavailable as exc:
        roster_error = exc.message
    return InstructorPage(grades, progress, roster, roster_error)
