"""The learner's path at launch: refresh evidence, rebuild the learner's state, ask the
engine for the next lesson, the path ahead and the mastery per competency, and persist.

This is the use case behind the learner page and `GET /api/v1/me/path`; the views only
render what it returns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.ags.progress import enqueue_progress
from lti_tool.errors import NotFound
from lti_tool.learning.catalogs import catalog_for
from lti_tool.learning.evidence import EvidenceBatch, EvidenceSource
from lti_tool.learning.identity import identity_policy, launch_email
from lti_tool.learning.reporting import report_changes
from lti_tool.learning.statements_out import queue_statement, statement_context
from lti_tool.models import EvidenceRecord, Launch, LearnerRecord, utcnow
from recommender import (
    Catalog,
    LearnerState,
    ModelParams,
    Observation,
    UnknownIdError,
    mastery,
    new_learner,
    preview_path,
    recommend,
    replay,
)
from xapi.identity import IdentityMode
from xapi.statements import launched

log = logging.getLogger("skillpath.learning")

# Pathway progress goes to the gradebook as points out of this maximum.
GRADE_MAXIMUM = 100.0

# What a launch may wait for the LRS; past it, the page uses the last known state.
EVIDENCE_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class EvidenceStatus:
    status: str  # "fresh", "stale" or "no_lrs"
    refreshed_at: datetime | None
    message: str


class NoCatalog(Exception):
    """The tenant has no catalog yet (the page says so; it is not an error of the learner)."""


CUSTOM_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/custom"


def custom_parameter(launch: Launch, name: str) -> str | None:
    """A custom parameter of the resource link, when it is a non-empty string."""
    custom = launch.claims.get(CUSTOM_CLAIM) or {}
    value = custom.get(name) if isinstance(custom, dict) else None
    return value if isinstance(value, str) and value else None


def pathway_of(launch: Launch, catalog: Catalog) -> str:
    """The resource link's custom `pathway`, or the catalog's only pathway."""
    return catalog.pathway(custom_parameter(launch, "pathway")).id


def learner_path(
    session: Session,
    launch: Launch,
    now: datetime,
    evidence_source: EvidenceSource | None = None,
    params: ModelParams | None = None,
    statements_base_url: str | None = None,
) -> dict[str, Any]:
    """Everything the learner page shows, as JSON-safe data. Raises `NoCatalog`.

    With an LRS connected (`evidence_source`) and `statements_base_url`, what changed (the
    recommendation, milestones, mastered competencies, coach flags) is queued as statements
    in this transaction (`lti_tool.learning.reporting`)."""
    catalog = catalog_for(session, launch.issuer, launch.client_id)
    if catalog is None:
        raise NoCatalog()
    params = params or ModelParams.defaults()
    try:
        pathway_id = pathway_of(launch, catalog)
    except UnknownIdError as exc:
        raise NoCatalog(str(exc)) from None
    record = _learner_record(session, launch, pathway_id, now)
    status = _refresh_evidence(session, launch, record, now, evidence_source, catalog)
    state = _rebuild(session, launch, record, catalog, params)
    record.state, record.updated_at = state.to_dict(), now

    recommendation = recommend(catalog, state, params, now, pathway_id)
    preview = preview_path(catalog, state, params, now, pathway_id)
    preview_data = preview.to_dict()
    estimates = mastery(state, catalog, params, now)
    pathway = catalog.pathway(pathway_id)
    relevant = catalog.pathway_competencies(pathway)
    next_lesson = catalog.lessons.get(recommendation.lesson_id or "")
    if evidence_source is not None and statements_base_url:
        # An LRS is connected: tell it what changed, in this transaction (the outbox).
        policy = identity_policy(session, launch.issuer, launch.client_id)
        if policy.mode is IdentityMode.MBOX:
            record.email = launch_email(launch) or record.email
        report_changes(
            session,
            launch,
            record,
            statement_context(statements_base_url, launch, pathway_id, policy),
            catalog,
            state,
            recommendation,
            preview,
            {c: estimates[c] for c in relevant},
            now,
        )
    progress = goal_progress(pathway, estimates)
    if record.last_progress != progress:
        # Pathway progress to the LMS gradebook (when the link takes grades), same transaction.
        sent = enqueue_progress(
            session,
            launch,
            progress * GRADE_MAXIMUM,
            GRADE_MAXIMUM,
            now=now,
            activity_progress="Completed" if recommendation.goal_reached else "InProgress",
            pathway_id=pathway.id,
        )
        if sent.queued:
            record.last_progress = progress
    if wants_competency_grades(launch):
        _competency_grades(session, launch, record, catalog, pathway.id, relevant, estimates, now)
    return {
        "pathway": {"id": pathway.id, "title": pathway.title},
        "progress": progress,
        "next": None
        if next_lesson is None
        else {
            "lesson_id": next_lesson.id,
            "title": next_lesson.title,
            "url": next_lesson.url,
            "kind": next_lesson.kind,
            "format": next_lesson.format,
            "duration_minutes": next_lesson.duration_minutes,
        },
        "recommendation": recommendation.to_dict(),
        "goal_reached": recommendation.goal_reached,
        "preview": preview_data,
        "path": _grouped_steps(preview_data["steps"]),
        "mastery": [
            {
                "competency_id": c,
                "name": catalog.competency(c).name,
                "probability": round(estimates[c].probability, 4),
                "mastered": estimates[c].mastered,
                "threshold": estimates[c].threshold,
                "recall": round(estimates[c].recall, 4),
                "review_due": estimates[c].mastered is False
                and estimates[c].recall < params.review_recall
                and state.competencies.get(c) is not None,
            }
            for c in relevant
        ],
        "evidence": {
            "status": status.status,
            "refreshed_at": status.refreshed_at.isoformat() if status.refreshed_at else None,
            "message": status.message,
        },
    }


def record_lesson_opened(
    session: Session,
    launch: Launch,
    lesson_id: str,
    now: datetime,
    statements_base_url: str | None = None,
) -> str:
    """The URL of a lesson of the learner's catalog; with an LRS connected, a "launched"
    statement is queued in this transaction. Raises NotFound for a lesson that is not in the
    tenant's catalog or has no URL."""
    catalog = catalog_for(session, launch.issuer, launch.client_id)
    lesson = catalog.lessons.get(lesson_id) if catalog is not None else None
    if catalog is None or lesson is None:
        raise NotFound("This lesson is not in your course's catalog.")
    if not lesson.url or not lesson.url.lower().startswith(("https://", "http://")):
        raise NotFound("This lesson has no web address to open; ask your instructor.")
    if statements_base_url:
        pathway_id = pathway_of(launch, catalog)
        policy = identity_policy(session, launch.issuer, launch.client_id)
        context = statement_context(statements_base_url, launch, pathway_id, policy)
        queue_statement(session, launch, launched(context, lesson.id, lesson.title, now=now), now)
    return lesson.url


TRUE_WORDS = ("1", "true", "yes", "on")


def wants_competency_grades(launch: Launch) -> bool:
    """The link asks for one gradebook column per competency (custom `competency_grades`)."""
    value = custom_parameter(launch, "competency_grades")
    return value is not None and value.strip().lower() in TRUE_WORDS


def _competency_grades(
    session: Session,
    launch: Launch,
    record: LearnerRecord,
    catalog: Catalog,
    pathway_id: str,
    competencies: Any,
    estimates: dict[str, Any],
    now: datetime,
) -> None:
    """The mastery of each competency of the pathway, in whole percent, to its own line item
    (`tag` = the competency, `resourceId` = the pathway); sent only when the percent changed."""
    reported = dict(record.reported or {})
    sent = dict(reported.get("competency_grades") or {})
    changed = False
    for competency_id in competencies:
        estimate = estimates[competency_id]
        percent = round(100 * estimate.probability)
        if sent.get(competency_id) == percent:
            continue
        queued = enqueue_progress(
            session,
            launch,
            float(percent),
            GRADE_MAXIMUM,
            now=now,
            activity_progress="Completed" if estimate.mastered else "InProgress",
            competency_id=competency_id,
            pathway_id=pathway_id,
            label=f"Mastery: {catalog.competency(competency_id).name}",
        )
        if queued.queued:
            sent[competency_id] = percent
            changed = True
    if changed:
        record.reported = {**reported, "competency_grades": sent}


def _learner_record(
    session: Session, launch: Launch, pathway_id: str, now: datetime
) -> LearnerRecord:
    record = session.scalars(
        select(LearnerRecord).where(
            LearnerRecord.issuer == launch.issuer,
            LearnerRecord.client_id == launch.client_id,
            LearnerRecord.deployment_id == launch.deployment_id,
            LearnerRecord.subject == launch.subject,
            LearnerRecord.pathway_id == pathway_id,
        )
    ).first()
    if record is None:
        record = LearnerRecord(
            issuer=launch.issuer,
            client_id=launch.client_id,
            deployment_id=launch.deployment_id,
            subject=launch.subject or "",
            pathway_id=pathway_id,
            context_id=launch.context_id,
            state=new_learner(launch.subject or "").to_dict(),
            first_launch_at=now,
            updated_at=now,
        )
        session.add(record)
        session.flush()
    return record


def _refresh_evidence(
    session: Session,
    launch: Launch,
    record: LearnerRecord,
    now: datetime,
    source: EvidenceSource | None,
    catalog: Catalog,
) -> EvidenceStatus:
    if source is None:
        return EvidenceStatus("no_lrs", record.evidence_refreshed_at, "No LRS is connected.")
    try:
        batch = source(
            launch.issuer,
            launch.client_id,
            record.subject,
            record.evidence_refreshed_at,
            tuple(catalog.lessons),
        )
    except Exception as exc:  # noqa: BLE001 - any LRS failure degrades to the last state
        log.warning(
            "evidence refresh failed for issuer=%s client_id=%s: %s",
            launch.issuer,
            launch.client_id,
            type(exc).__name__,
        )
        when = record.evidence_refreshed_at
        message = (
            f"The learning record store did not answer; this uses what was known at {when:%Y-%m-%d %H:%M} UTC."
            if when
            else "The learning record store did not answer; activity outside Skillpath is not counted yet."
        )
        return EvidenceStatus("stale", when, message)
    store_evidence(session, launch.issuer, launch.client_id, batch)
    record.evidence_refreshed_at = now
    return EvidenceStatus("fresh", now, "Up to date with the learning record store.")


def store_evidence(session: Session, issuer: str, client_id: str, batch: EvidenceBatch) -> int:
    """Keep new statements (deduplicated by id) and mark voided ones. Returns how many new."""
    ids = [o.statement_id for o in batch.observations if o.statement_id]
    known = (
        set(
            session.scalars(
                select(EvidenceRecord.statement_id).where(
                    EvidenceRecord.issuer == issuer,
                    EvidenceRecord.client_id == client_id,
                    EvidenceRecord.statement_id.in_(ids),
                )
            )
        )
        if ids
        else set()
    )
    added = 0
    for obs in batch.observations:
        if not obs.statement_id or obs.statement_id in known:
            continue
        known.add(obs.statement_id)
        session.add(
            EvidenceRecord(
                issuer=issuer,
                client_id=client_id,
                subject=obs.learner_id,
                statement_id=obs.statement_id,
                lesson_id=obs.lesson_id,
                timestamp=obs.timestamp,
                score=obs.score,
                success=obs.success,
                duration_seconds=obs.duration_seconds,
                voided=obs.voided,
                stored_at=utcnow(),
            )
        )
        added += 1
    if batch.voided_statement_ids:
        for row in session.scalars(
            select(EvidenceRecord).where(
                EvidenceRecord.issuer == issuer,
                EvidenceRecord.client_id == client_id,
                EvidenceRecord.statement_id.in_(list(batch.voided_statement_ids)),
            )
        ):
            row.voided = True
    session.flush()
    return added


def _rebuild(
    session: Session, launch: Launch, record: LearnerRecord, catalog: Catalog, params: ModelParams
) -> LearnerState:
    """The state from the stored evidence that still counts, keeping instructor overrides."""
    previous = LearnerState.from_dict(record.state)
    base = new_learner(record.subject)
    base = LearnerState(
        base.learner_id,
        overrides=previous.overrides,
        started={**previous.started, record.pathway_id: record.first_launch_at},
        minutes_per_day=previous.minutes_per_day,
    )
    rows = session.scalars(
        select(EvidenceRecord)
        .where(
            EvidenceRecord.issuer == launch.issuer,
            EvidenceRecord.client_id == launch.client_id,
            EvidenceRecord.subject == record.subject,
            EvidenceRecord.voided.is_(False),
        )
        .order_by(EvidenceRecord.timestamp)
    )
    observations = [
        Observation(
            learner_id=row.subject,
            lesson_id=row.lesson_id,
            timestamp=row.timestamp,
            score=row.score,
            success=row.success,
            duration_seconds=row.duration_seconds,
            statement_id=row.statement_id,
        )
        for row in rows
        if row.lesson_id in catalog.lessons
    ]
    return replay(base, observations, catalog, params)


def goal_progress(pathway: Any, estimates: dict[str, Any]) -> float:
    """The share of the pathway's goal competencies the learner has mastered, in [0, 1]."""
    goals = [g.competency for g in pathway.goal]
    if not goals:
        return 0.0
    return round(sum(1 for c in goals if estimates[c].mastered) / len(goals), 4)


def _grouped_steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The preview for people: a lesson the model expects to be taken several times in a row
    is one line with a count (the engine's preview lists each expected attempt)."""
    grouped: list[dict[str, Any]] = []
    for step in steps:
        last = grouped[-1] if grouped else None
        if last is not None and last["lesson_id"] == step["lesson_id"]:
            last["times"] += 1
            last["minutes"] += step["minutes"]
            last["expected_date"] = step["expected_date"]
            last["completes_milestones"] = list(last["completes_milestones"]) + list(
                step["completes_milestones"]
            )
        else:
            grouped.append(
                {**step, "times": 1, "completes_milestones": list(step["completes_milestones"])}
            )
    return grouped
