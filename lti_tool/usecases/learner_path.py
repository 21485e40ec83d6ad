"""The learner's path at launch: the use case behind the learner page and `GET /api/v1/me/path`.

One transaction, in steps: find the learner's record in this course; read their new evidence
from the LRS; rebuild their state; ask the engine for the next lesson, the path ahead and the
mastery per competency (`PathSnapshot`); tell the LRS and the gradebook what changed (through
the outbox, in the same transaction); describe it for the page (`describe`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lti_tool.errors import NoCatalog, NotFound
from lti_tool.lrs.actors import identity_policy
from lti_tool.lrs.gateway import EvidenceSource
from lti_tool.lti.vocabulary import custom_parameter, launch_email
from lti_tool.storage import LaunchRecord, LearnerRecord, Transaction
from lti_tool.usecases.catalogs import require_catalog
from lti_tool.usecases.evidence import EvidenceStatus, rebuild_state, refresh
from lti_tool.usecases.grades import enqueue_progress
from lti_tool.usecases.model import params_for
from lti_tool.usecases.ports import Ports
from lti_tool.usecases.reporting import report_changes
from lti_tool.usecases.statements import queue_statement, statement_context
from recommender import (
    Catalog,
    LearnerState,
    MasteryEstimate,
    ModelParams,
    PathPreview,
    Pathway,
    Recommendation,
    UnknownIdError,
    mastery,
    new_learner,
    preview_path,
    recommend,
)
from xapi.identity import IdentityMode
from xapi.statements import launched

# Pathway progress goes to the gradebook as points out of this maximum.
GRADE_MAXIMUM = 100.0
TRUE_WORDS = ("1", "true", "yes", "on")


def pathway_of(launch: LaunchRecord, catalog: Catalog) -> str:
    """The resource link's custom `pathway`, or the catalog's only pathway."""
    return catalog.pathway(custom_parameter(launch.claims, "pathway")).id


def wants_competency_grades(launch: LaunchRecord) -> bool:
    """The link asks for one gradebook column per competency (custom `competency_grades`)."""
    value = custom_parameter(launch.claims, "competency_grades")
    return value is not None and value.strip().lower() in TRUE_WORDS


def goal_progress(pathway: Pathway, estimates: Mapping[str, MasteryEstimate]) -> float:
    """The share of the pathway's goal competencies the learner has mastered, in [0, 1]."""
    goals = [g.competency for g in pathway.goal]
    if not goals:
        return 0.0
    return round(sum(1 for c in goals if estimates[c].mastered) / len(goals), 4)


@dataclass(frozen=True)
class PathSnapshot:
    """What the engine says about one learner in one pathway, now."""

    catalog: Catalog
    pathway: Pathway
    state: LearnerState
    params: ModelParams
    recommendation: Recommendation
    preview: PathPreview
    estimates: Mapping[str, MasteryEstimate]
    competencies: Sequence[str]

    @classmethod
    def of(
        cls,
        catalog: Catalog,
        state: LearnerState,
        params: ModelParams,
        now: datetime,
        pathway_id: str,
    ) -> PathSnapshot:
        pathway = catalog.pathway(pathway_id)
        return cls(
            catalog=catalog,
            pathway=pathway,
            state=state,
            params=params,
            recommendation=recommend(catalog, state, params, now, pathway_id),
            preview=preview_path(catalog, state, params, now, pathway_id),
            estimates=mastery(state, catalog, params, now),
            competencies=list(catalog.pathway_competencies(pathway)),
        )

    @property
    def progress(self) -> float:
        return goal_progress(self.pathway, self.estimates)


def learner_path(ports: Ports, launch: LaunchRecord) -> dict[str, Any]:
    """Everything the learner page shows, as JSON-safe data. Raises `NoCatalog`."""
    with ports.storage.transaction() as tx:
        policy = identity_policy(tx, launch.tenant)
        source = ports.lrs.evidence_source(launch.tenant, policy, launch_email(launch.claims))
        return open_path(
            tx, launch, ports.now(), source, statements_base_url=ports.settings.base_url
        )


def open_path(
    tx: Transaction,
    launch: LaunchRecord,
    now: datetime,
    evidence_source: EvidenceSource | None = None,
    params: ModelParams | None = None,
    statements_base_url: str | None = None,
) -> dict[str, Any]:
    """The learner's path in the caller's transaction. With an LRS connected
    (`evidence_source`) and `statements_base_url`, what changed is queued as statements."""
    params = params or params_for(tx, launch.tenant)
    catalog = require_catalog(tx, launch.tenant)
    try:
        pathway_id = pathway_of(launch, catalog)
    except UnknownIdError as exc:
        raise NoCatalog(str(exc)) from None
    record = _learner_record(tx, launch, pathway_id, now)
    status = refresh(tx, record, evidence_source, catalog, now)
    state = rebuild_state(tx, record, catalog, params)
    record.state, record.updated_at = state.to_dict(), now
    snapshot = PathSnapshot.of(catalog, state, params, now, pathway_id)
    if evidence_source is not None and statements_base_url:
        _report(tx, launch, record, snapshot, statements_base_url, now)
    _send_grades(tx, launch, record, snapshot, now)
    tx.learners.save(record)
    return describe(snapshot, status)


def _learner_record(
    tx: Transaction, launch: LaunchRecord, pathway_id: str, now: datetime
) -> LearnerRecord:
    subject = launch.subject or ""
    found = tx.learners.find(launch.course, subject, pathway_id)
    if found is not None:
        return found
    return tx.learners.create(
        launch.course, subject, pathway_id, new_learner(subject).to_dict(), now
    )


def _report(
    tx: Transaction,
    launch: LaunchRecord,
    record: LearnerRecord,
    snapshot: PathSnapshot,
    base_url: str,
    now: datetime,
) -> None:
    """An LRS is connected: tell it what changed, in this transaction (the outbox)."""
    policy = identity_policy(tx, launch.tenant)
    if policy.mode is IdentityMode.MBOX:
        record.email = launch_email(launch.claims) or record.email
    report_changes(
        tx,
        launch,
        record,
        statement_context(base_url, launch, snapshot.pathway.id, policy),
        snapshot.catalog,
        snapshot.state,
        snapshot.recommendation,
        snapshot.preview,
        {c: snapshot.estimates[c] for c in snapshot.competencies},
        now,
    )


def _send_grades(
    tx: Transaction,
    launch: LaunchRecord,
    record: LearnerRecord,
    snapshot: PathSnapshot,
    now: datetime,
) -> None:
    """Pathway progress (and, when the link asks, each competency's mastery) to the LMS
    gradebook when it changed, in this transaction."""
    progress = snapshot.progress
    if record.last_progress != progress:
        sent = enqueue_progress(
            tx,
            launch,
            progress * GRADE_MAXIMUM,
            GRADE_MAXIMUM,
            now=now,
            activity_progress="Completed" if snapshot.recommendation.goal_reached else "InProgress",
            pathway_id=snapshot.pathway.id,
        )
        if sent.queued:
            record.last_progress = progress
    if wants_competency_grades(launch):
        _competency_grades(tx, launch, record, snapshot, now)


def _competency_grades(
    tx: Transaction,
    launch: LaunchRecord,
    record: LearnerRecord,
    snapshot: PathSnapshot,
    now: datetime,
) -> None:
    """The mastery of each competency of the pathway, in whole percent, to its own line item
    (`tag` = the competency, `resourceId` = the pathway); sent only when the percent changed."""
    reported = dict(record.reported or {})
    sent = dict(reported.get("competency_grades") or {})
    changed = False
    for competency_id in snapshot.competencies:
        estimate = snapshot.estimates[competency_id]
        percent = round(100 * estimate.probability)
        if sent.get(competency_id) == percent:
            continue
        queued = enqueue_progress(
            tx,
            launch,
            float(percent),
            GRADE_MAXIMUM,
            now=now,
            activity_progress="Completed" if estimate.mastered else "InProgress",
            competency_id=competency_id,
            pathway_id=snapshot.pathway.id,
            label=f"Mastery: {snapshot.catalog.competency(competency_id).name}",
        )
        if queued.queued:
            sent[competency_id] = percent
            changed = True
    if changed:
        record.reported = {**reported, "competency_grades": sent}


def describe(snapshot: PathSnapshot, status: EvidenceStatus) -> dict[str, Any]:
    """The path as the page and the API show it (JSON-safe)."""
    catalog, estimates, params, state = (
        snapshot.catalog,
        snapshot.estimates,
        snapshot.params,
        snapshot.state,
    )
    next_lesson = catalog.lessons.get(snapshot.recommendation.lesson_id or "")
    preview_data = snapshot.preview.to_dict()
    return {
        "pathway": {"id": snapshot.pathway.id, "title": snapshot.pathway.title},
        "progress": snapshot.progress,
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
        "recommendation": snapshot.recommendation.to_dict(),
        "goal_reached": snapshot.recommendation.goal_reached,
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
            for c in snapshot.competencies
        ],
        "evidence": {
            "status": status.status,
            "refreshed_at": status.refreshed_at.isoformat() if status.refreshed_at else None,
            "message": status.message,
        },
    }


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


def lesson_url(ports: Ports, launch: LaunchRecord, lesson_id: str) -> str:
    """The URL of a lesson of the learner's catalog; with an LRS connected, a "launched"
    statement is queued in the same transaction. Raises NotFound for a lesson that is not in
    the tenant's catalog or has no URL."""
    now = ports.now()
    connected = ports.lrs.connected(launch.tenant)
    with ports.storage.transaction() as tx:
        catalog = tx.catalogs.for_tenant(launch.tenant)
        lesson = catalog.lessons.get(lesson_id) if catalog is not None else None
        if catalog is None or lesson is None:
            raise NotFound("This lesson is not in your course's catalog.")
        if not lesson.url or not lesson.url.lower().startswith(("https://", "http://")):
            raise NotFound("This lesson has no web address to open; ask your instructor.")
        if connected:
            policy = identity_policy(tx, launch.tenant)
            context = statement_context(
                ports.settings.base_url, launch, pathway_of(launch, catalog), policy
            )
            statement = launched(context, lesson.id, lesson.title, now=now)
            queue_statement(tx, launch, statement, now)
        return lesson.url
