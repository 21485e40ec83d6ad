"""One learner record brought up to date and told about: the step every change goes through.

A launch, a return from a lesson, a preference, a pre-assessment, an instructor's override and
the background catch-up all end here, in the caller's transaction: apply the evidence the
state has not seen (`learner_state`), compute the stored view (`learner_view`), record new
recognitions, and queue what changed for the LRS and the gradebook (through the outbox).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lti_tool.lrs.actors import identity_policy
from lti_tool.lti.vocabulary import custom_parameter, launch_email
from lti_tool.storage import LaunchRecord, LearnerPageRecord, LearnerRecord, Transaction
from lti_tool.usecases.grades import enqueue_progress
from lti_tool.usecases.learner_state import bring_up_to_date
from lti_tool.usecases.learner_view import ComputedView, ViewInputs, compute_view
from lti_tool.usecases.model import params_for
from lti_tool.usecases.ports import Ports
from lti_tool.usecases.reporting import report_changes
from lti_tool.usecases.statements import statement_context
from recommender import Catalog, LearnerState, UnknownIdError
from xapi.identity import IdentityMode

log = logging.getLogger("skillpath.learning")

# Pathway progress goes to the gradebook as points out of this maximum.
GRADE_MAXIMUM = 100.0
TRUE_WORDS = ("1", "true", "yes", "on")
# How many stale learner views the background catch-up recomputes per pass.
CATCH_UP_BATCH = 200


def wants_competency_grades(launch: LaunchRecord) -> bool:
    """The link asks for one gradebook column per competency (custom `competency_grades`)."""
    value = custom_parameter(launch.claims, "competency_grades")
    return value is not None and value.strip().lower() in TRUE_WORDS


@dataclass(frozen=True)
class Telling:
    """Where statements about this learner go: the LRS (base URL of our activity ids) when
    one is connected, and the launch whose claims say where grades go."""

    launch: LaunchRecord | None
    base_url: str | None


def recompute(
    tx: Transaction,
    record: LearnerRecord,
    page: LearnerPageRecord,
    catalog: Catalog,
    digest: str,
    now: datetime,
    telling: Telling,
    *,
    evidence: Mapping[str, Any] | None = None,
    state: LearnerState | None = None,
    allow_replay: bool = True,
) -> ComputedView:
    """Bring the record up to date, store its view and summary, tell what changed."""
    params = params_for(tx, record.course.tenant)
    if state is None:
        state, _ = bring_up_to_date(tx, record, page, catalog, params, allow_replay=allow_replay)
    pathway = catalog.pathway(record.pathway_id)
    previous = page.snapshot or {}
    inputs = ViewInputs(
        preferences=page.preferences,
        pre_assessment=page.pre_assessment,
        changes=page.changes,
        recognitions=_recognitions(tx, record),
        evidence=evidence or previous.get("evidence") or {"status": "no_lrs"},
        catalog_digest=digest,
        last_activity=page.evidence_at,
    )
    view = compute_view(catalog, pathway, state, params, now, inputs)
    reached = [m for m in view.preview.milestones if m.complete_now]
    known = {r["milestone_id"] for r in inputs.recognitions}
    fresh = [m for m in reached if m.milestone_id not in known]
    for milestone in fresh:
        tx.recognitions.add(record.id, milestone.milestone_id, milestone.title, now)
    if fresh:
        inputs = ViewInputs(**{**inputs.__dict__, "recognitions": _recognitions(tx, record)})
        view = compute_view(catalog, pathway, state, params, now, inputs)
    record.state, record.updated_at = state.to_dict(), now
    page.snapshot, page.summary, page.computed_at = view.snapshot, view.summary, now
    if telling.launch is not None:
        _tell(tx, telling, record, catalog, state, view, [m.milestone_id for m in fresh], now)
    tx.learners.save(record)
    tx.learner_pages.save(page)
    return view


def _recognitions(tx: Transaction, record: LearnerRecord) -> list[dict[str, Any]]:
    return [
        {
            "milestone_id": r.milestone_id,
            "title": r.title,
            "reached_at": r.reached_at.isoformat(),
            "seen": r.seen_at is not None,
        }
        for r in tx.recognitions.of_learner(record.id)
    ]


def _tell(
    tx: Transaction,
    telling: Telling,
    record: LearnerRecord,
    catalog: Catalog,
    state: LearnerState,
    view: ComputedView,
    new_milestones: list[str],
    now: datetime,
) -> None:
    launch = telling.launch
    assert launch is not None
    if telling.base_url:
        policy = identity_policy(tx, launch.tenant)
        if policy.mode is IdentityMode.MBOX:
            record.email = launch_email(launch.claims) or record.email
        context = statement_context(
            telling.base_url,
            launch,
            record.pathway_id,
            policy,
            subject=record.subject,
            email=record.email,
        )
        report_changes(
            tx,
            launch,
            record,
            context,
            catalog,
            state,
            view.recommendation,
            view.preview,
            view.estimates,
            now,
        )
    if launch.subject == record.subject:  # grades go out on the learner's own launch
        _send_grades(tx, launch, record, catalog, view, new_milestones, now)


def _send_grades(
    tx: Transaction,
    launch: LaunchRecord,
    record: LearnerRecord,
    catalog: Catalog,
    view: ComputedView,
    new_milestones: list[str],
    now: datetime,
) -> None:
    """Pathway progress, each competency's mastery (when the link asks) and each milestone
    reached (its own column, where the platform lets the tool create line items) to the LMS
    gradebook, when they changed, in this transaction."""
    progress = float(view.snapshot["progress"]["share"])
    pathway = catalog.pathway(record.pathway_id)
    if record.last_progress != progress:
        reached = [m.title for m in pathway.milestones if m.id in new_milestones]
        sent = enqueue_progress(
            tx,
            launch,
            progress * GRADE_MAXIMUM,
            GRADE_MAXIMUM,
            now=now,
            activity_progress="Completed" if view.recommendation.goal_reached else "InProgress",
            pathway_id=pathway.id,
            comment=("Milestone reached: " + "; ".join(reached)) if reached else None,
        )
        if sent.queued:
            record.last_progress = progress
    for milestone in pathway.milestones:
        if milestone.id in new_milestones:
            enqueue_progress(
                tx,
                launch,
                1.0,
                1.0,
                now=now,
                activity_progress="Completed",
                line_item_tag=f"milestone:{milestone.id}",
                pathway_id=pathway.id,
                label=f"Milestone: {milestone.title}",
            )
    if wants_competency_grades(launch):
        _competency_grades(tx, launch, record, catalog, view, now)


def _competency_grades(
    tx: Transaction,
    launch: LaunchRecord,
    record: LearnerRecord,
    catalog: Catalog,
    view: ComputedView,
    now: datetime,
) -> None:
    """The mastery of each competency of the pathway, in whole percent, to its own line item
    (`tag` = the competency, `resourceId` = the pathway); sent only when the percent changed."""
    reported = dict(record.reported or {})
    sent = dict(reported.get("competency_grades") or {})
    changed = False
    for competency_id, estimate in view.estimates.items():
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
            pathway_id=record.pathway_id,
            label=f"Mastery: {catalog.competency(competency_id).name}",
        )
        if queued.queued:
            sent[competency_id] = percent
            changed = True
    if changed:
        record.reported = {**reported, "competency_grades": sent}


def telling_for(ports: Ports, tx: Transaction, page: LearnerPageRecord) -> Telling:
    """Where a background change of this learner is told: their latest launch, and the LRS
    when the tenant has one."""
    launch = tx.launches.get(page.launch_id) if page.launch_id else None
    if launch is None:
        return Telling(None, None)
    connected = ports.lrs.connected(launch.tenant)
    return Telling(launch, ports.settings.base_url if connected else None)


def catch_up(ports: Ports, limit: int = CATCH_UP_BATCH) -> int:
    """The background step after a sync: every learner record whose evidence moved on (new
    statements, voids, a new parameter version) is brought up to date (a replay where
    needed) and its view recomputed. Returns how many records."""
    with ports.storage.transaction() as tx:
        behind = tx.learner_pages.behind(limit)
    done = 0
    for learner_id in behind:
        with ports.storage.transaction() as tx:
            record = tx.learners.get(learner_id)
            if record is None:
                continue
            found = tx.catalogs.effective(record.course.tenant)
            if found is None:
                continue
            digest, catalog = found
            page = tx.learner_pages.of(learner_id)
            try:
                catalog.pathway(record.pathway_id)
            except UnknownIdError:
                continue
            recompute(tx, record, page, catalog, digest, ports.now(), telling_for(ports, tx, page))
            done += 1
    if done:
        log.info("caught up %s learner states", done)
    return done
