"""The instructor's view of the class: every learner of the course who has opened the path, as
a mastery heatmap (learners x competencies) with progress, the next lesson, who is stuck
(flagged for a coach) and who is at risk of missing a milestone's due date, and why; sortable
and filterable. One learner's drill-down: the path they see, their evidence with dates and
sources, the instructor's overrides with their notes.

A learner the platform shares no name for (its privacy settings) is shown by their number in
the course, "Learner 7" (`ClassRow.number`, `learner_detail`'s "number", `RosterEntry.number`):
the order in which they first opened Skillpath there, from `learner_numbers`. The number is
stable (records are never deleted) and says nothing about the LTI user id (`sub`), which
pages keep for links and actions only. The words are the web layer's (`learner_label`).

Read from each learner's stored summary (kept up to date when their state changes), so the
class view never replays evidence or waits on the LRS. A summary missing or older than
`SUMMARY_MAX_AGE` is recomputed from the stored state, a few per view (`RECOMPUTE_PER_VIEW`);
the background catch-up does the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lti_tool.errors import InvalidBody, NotFound, RosterUnavailable
from lti_tool.lti.services.nrps import read_roster
from lti_tool.lti.vocabulary import Role, role_of
from lti_tool.storage import ClassMember, LaunchRecord, Transaction
from lti_tool.usecases.grades import GradeSyncStatus, grade_sync_status
from lti_tool.usecases.learner_path import pathway_of
from lti_tool.usecases.learner_refresh import recompute, telling_for
from lti_tool.usecases.learner_view import AT_RISK_FROM, VIEW_VERSION
from lti_tool.usecases.path_overrides import learner_records
from lti_tool.usecases.ports import Ports
from recommender import Catalog, LearnerState, UnknownIdError

SUMMARY_MAX_AGE = timedelta(hours=24)
RECOMPUTE_PER_VIEW = 25
SHOW = ("all", "attention", "stuck", "at_risk", "goal_reached", "not_started")
SORTS = ("attention", "name", "progress", "activity")

__all__ = ["AT_RISK_FROM", "ClassQuery", "ClassRow", "ClassView", "RosterEntry", "class_view"]


@dataclass(frozen=True)
class ClassQuery:
    """How the instructor sorts and filters the class: `sort` is one of `SORTS` or a
    competency id (by mastery); `show` one of `SHOW`; `q` a piece of a name or id."""

    sort: str = "attention"
    descending: bool = False
    show: str = "all"
    q: str = ""


@dataclass(frozen=True)
class ClassRow:
    subject: str
    name: str | None
    number: int
    pathway_id: str
    progress: float
    next_lesson: str | None
    goal_reached: bool
    stuck_on: list[str]
    risks: list[dict[str, Any]]
    at_risk: bool
    active_overrides: int
    mastery: Mapping[str, Mapping[str, Any]]
    last_activity: str | None
    as_of: datetime | None
    last_update: datetime

    @property
    def needs_attention(self) -> bool:
        return bool(self.stuck_on) or self.at_risk

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "name": self.name,
            "number": self.number,
            "pathway_id": self.pathway_id,
            "progress": self.progress,
            "next_lesson": self.next_lesson,
            "goal_reached": self.goal_reached,
            "stuck_on": self.stuck_on,
            "at_risk": self.at_risk,
            "risks": self.risks,
            "active_overrides": self.active_overrides,
            "mastery": {c: dict(m) for c, m in self.mastery.items()},
            "last_activity": self.last_activity,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "last_update": self.last_update.isoformat(),
        }


@dataclass(frozen=True)
class ClassView:
    competencies: list[dict[str, str]]
    rows: list[ClassRow]
    total: int
    query: ClassQuery
    counts: dict[str, int] = field(default_factory=dict)


def _row(member: ClassMember, summary: Mapping[str, Any], number: int) -> ClassRow:
    return ClassRow(
        subject=member.subject,
        name=member.display_name,
        number=number,
        pathway_id=member.pathway_id,
        progress=float(summary.get("progress") or 0.0),
        next_lesson=summary.get("next_lesson"),
        goal_reached=bool(summary.get("goal_reached")),
        stuck_on=[s["name"] for s in summary.get("stuck_on") or ()],
        risks=list(summary.get("risks") or ()),
        at_risk=bool(summary.get("at_risk")),
        active_overrides=int(summary.get("active_overrides") or 0),
        mastery=dict(summary.get("mastery") or {}),
        last_activity=summary.get("last_activity"),
        as_of=member.computed_at,
        last_update=member.updated_at,
    )


def _stale(member: ClassMember, now: datetime) -> bool:
    summary = member.summary or {}
    return (
        member.summary is None
        or summary.get("version") != VIEW_VERSION
        or member.computed_at is None
        or now - member.computed_at > SUMMARY_MAX_AGE
    )


def _refreshed(
    ports: Ports, tx: Transaction, member: ClassMember, catalog: Catalog, digest: str
) -> dict[str, Any] | None:
    record = tx.learners.get(member.learner_id)
    if record is None:
        return None
    page = tx.learner_pages.of(record.id)
    view = recompute(tx, record, page, catalog, digest, ports.now(), telling_for(ports, tx, page))
    return view.summary


def _matches(row: ClassRow, query: ClassQuery) -> bool:
    if query.q and query.q.lower() not in f"{row.name or ''} {row.subject}".lower():
        return False
    if query.show == "attention":
        return row.needs_attention
    if query.show == "stuck":
        return bool(row.stuck_on)
    if query.show == "at_risk":
        return row.at_risk
    if query.show == "goal_reached":
        return row.goal_reached
    if query.show == "not_started":
        return all(m.get("status") == "not_started" for m in row.mastery.values())
    return True


def _sort_key(query: ClassQuery) -> Any:
    if query.sort == "name":
        # Learners without a name after those with one, in the order of their numbers.
        return lambda r: (r.name is None, (r.name or "").lower(), r.number, r.subject)
    if query.sort == "progress":
        return lambda r: (r.progress, r.subject)
    if query.sort == "activity":
        return lambda r: (r.last_activity or "", r.subject)
    if query.sort == "attention":
        return lambda r: (not r.stuck_on, not r.at_risk, r.progress, r.subject)
    comp = query.sort
    return lambda r: (float((r.mastery.get(comp) or {}).get("p", -1.0)), r.subject)


def class_view(
    ports: Ports, instructor: LaunchRecord, query: ClassQuery | None = None
) -> ClassView:
    """The course's learners as the heatmap shows them, sorted and filtered."""
    query = query or ClassQuery()
    if query.show not in SHOW:
        raise InvalidBody(f"show: one of {', '.join(SHOW)}")
    now = ports.now()
    with ports.storage.transaction() as tx:
        found = tx.catalogs.effective(instructor.tenant)
        if not instructor.context_id or found is None:
            return ClassView([], [], 0, query)
        digest, catalog = found
        try:
            link_pathway = catalog.pathway(pathway_of(instructor, catalog))
        except UnknownIdError:
            link_pathway = None
        competencies = (
            [
                {"id": c, "name": catalog.competency(c).name}
                for c in catalog.pathway_competencies(link_pathway)
            ]
            if link_pathway is not None
            else []
        )
        if query.sort not in SORTS and query.sort not in {c["id"] for c in competencies}:
            raise InvalidBody(f"sort: one of {', '.join(SORTS)} or a competency id")
        budget = RECOMPUTE_PER_VIEW
        numbers = tx.learner_pages.learner_numbers(instructor.course)
        rows = []
        for member in tx.learner_pages.class_members(instructor.course):
            if member.pathway_id not in catalog.pathways:
                continue  # a pathway the current catalog no longer has
            summary: Mapping[str, Any] | None = member.summary
            if _stale(member, now) and budget > 0:
                budget -= 1
                summary = _refreshed(ports, tx, member, catalog, digest) or summary
                member = ClassMember(
                    member.learner_id,
                    member.subject,
                    member.pathway_id,
                    member.display_name,
                    summary,
                    now,
                    member.updated_at,
                )
            if summary is not None:
                rows.append(_row(member, summary, numbers.get(member.subject, 0)))
    counts = {
        "all": len(rows),
        "stuck": sum(1 for r in rows if r.stuck_on),
        "at_risk": sum(1 for r in rows if r.at_risk),
        "goal_reached": sum(1 for r in rows if r.goal_reached),
    }
    shown = sorted((r for r in rows if _matches(r, query)), key=_sort_key(query))
    if query.descending:
        shown.reverse()
    return ClassView(competencies, shown, len(rows), query, counts)


# -- one learner ---------------------------------------------------------------------------


def learner_detail(ports: Ports, instructor: LaunchRecord, subject: str) -> dict[str, Any]:
    """One learner of the instructor's course: per pathway they opened, the view they see
    (from the saved state), the overrides with notes; their evidence with dates and sources.
    NotFound for someone who has not opened the path here."""
    now = ports.now()
    with ports.storage.transaction() as tx:
        found = tx.catalogs.effective(instructor.tenant)
        if found is None:
            raise NotFound("This course has no Skillpath catalog yet.")
        digest, catalog = found
        pathways = []
        name = None
        for record in learner_records(tx, instructor, subject):
            if record.pathway_id not in catalog.pathways:
                continue
            page = tx.learner_pages.of(record.id)
            name = name or page.display_name
            snapshot = page.snapshot
            if (
                snapshot is None
                or page.computed_at is None
                or now - page.computed_at > SUMMARY_MAX_AGE
                or snapshot.get("catalog") != digest
            ):
                snapshot = recompute(
                    tx, record, page, catalog, digest, now, telling_for(ports, tx, page)
                ).snapshot
            state = LearnerState.from_dict(record.state)
            pathway = catalog.pathway(record.pathway_id)
            lessons = {
                lesson.id: lesson
                for comp in catalog.pathway_competencies(pathway)
                for lesson in catalog.lessons_for(comp)
            }
            pathways.append(
                {
                    "pathway": {"id": record.pathway_id, "title": snapshot["pathway"]["title"]},
                    "lessons": [
                        {"lesson_id": lesson.id, "title": lesson.title, "format": lesson.format}
                        for lesson in sorted(lessons.values(), key=lambda x: (x.title, x.id))
                    ],
                    "view": snapshot,
                    "overrides": [
                        o.to_dict() | {"pathway_id": record.pathway_id}
                        for o in reversed(state.overrides)
                    ],
                    "pre_assessment": page.pre_assessment,
                    "evidence_refreshed_at": record.evidence_refreshed_at.isoformat()
                    if record.evidence_refreshed_at
                    else None,
                }
            )
        if not pathways:
            raise NotFound("This learner has not opened the path in your course yet.")
        number = tx.learner_pages.learner_numbers(instructor.course).get(subject)
        evidence = [
            {
                "statement_id": e.statement_id,
                "lesson_id": e.lesson_id,
                "lesson_title": catalog.lessons[e.lesson_id].title
                if e.lesson_id in catalog.lessons
                else e.lesson_id,
                "kind": catalog.lessons[e.lesson_id].kind
                if e.lesson_id in catalog.lessons
                else None,
                "timestamp": e.timestamp.isoformat(),
                "stored_at": e.stored_at.isoformat(),
                "score": e.score,
                "success": e.success,
                "duration_seconds": e.duration_seconds,
                "voided": e.voided,
                "source": "lrs",
            }
            for e in tx.evidence.history(instructor.tenant, subject)
        ]
    return {
        "subject": subject,
        "name": name,
        "number": number,
        "role": "learner",
        "pathways": pathways,
        "evidence": evidence,
    }


# -- the grades and roster tab -------------------------------------------------------------


@dataclass(frozen=True)
class RosterEntry:
    """A member of the LMS's class list, with their number in the course when they have
    opened Skillpath there (None otherwise) and their role in the course."""

    user_id: str
    name: str | None
    roles: tuple[str, ...]
    status: str
    number: int | None
    role: Role


@dataclass(frozen=True)
class GradesAndRoster:
    grades: GradeSyncStatus
    roster: list[RosterEntry] | None
    roster_error: str | None


def grades_and_roster(
    ports: Ports, instructor: LaunchRecord, *, roster: bool = True
) -> GradesAndRoster:
    """Grade sync (each failure with the platform's answer) and the class list from the LMS
    (never a partial one: when it cannot be read whole, the page says so instead)."""
    with ports.storage.transaction() as tx:
        grades = grade_sync_status(tx, instructor)
        numbers = tx.learner_pages.learner_numbers(instructor.course) if roster else {}
    members, roster_error = None, None
    if roster:
        try:
            members = [
                RosterEntry(
                    m.user_id,
                    m.name,
                    m.roles,
                    m.status,
                    numbers.get(m.user_id),
                    role_of(m.roles),
                )
                for m in read_roster(ports.lti_services, ports.store, instructor)
            ]
        except RosterUnavailable as exc:
            roster_error = exc.message
    return GradesAndRoster(grades, members, roster_error)
