"""A learner's evidence: what the LRS said, kept per tenant and person, and the learner state
the engine rebuilds from what still counts.

The LRS is read at the learner's launch (`refresh`, bounded by a timeout) and by the
background sync; pages read what is stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from lti_tool.lrs.gateway import EvidenceBatch, EvidenceSource
from lti_tool.storage import LearnerRecord, Tenant, Transaction
from recommender import Catalog, LearnerState, ModelParams, new_learner, replay

log = logging.getLogger("skillpath.learning")


@dataclass(frozen=True)
class EvidenceStatus:
    status: str  # "fresh", "stale" or "no_lrs"
    refreshed_at: datetime | None
    message: str


def store_evidence(tx: Transaction, tenant: Tenant, batch: EvidenceBatch, now: datetime) -> int:
    """Keep new statements (deduplicated by id) and mark voided ones. Returns how many new."""
    added = tx.evidence.add_new(tenant, batch.observations, now)
    tx.evidence.void(tenant, batch.voided_statement_ids)
    return added


def refresh(
    tx: Transaction,
    record: LearnerRecord,
    source: EvidenceSource | None,
    catalog: Catalog,
    now: datetime,
) -> EvidenceStatus:
    """Read the learner's new statements from the LRS into their evidence. Any LRS failure
    degrades to the last known state, and the status says how old it is."""
    if source is None:
        return EvidenceStatus("no_lrs", record.evidence_refreshed_at, "No LRS is connected.")
    tenant = record.course.tenant
    try:
        batch = source(record.subject, record.evidence_refreshed_at, tuple(catalog.lessons))
    except Exception as exc:  # noqa: BLE001 - any LRS failure degrades to the last state
        log.warning(
            "evidence refresh failed for issuer=%s client_id=%s: %s",
            tenant.issuer,
            tenant.client_id,
            type(exc).__name__,
        )
        when = record.evidence_refreshed_at
        message = (
            f"The learning record store did not answer; this uses what was known at {when:%Y-%m-%d %H:%M} UTC."
            if when
            else "The learning record store did not answer; activity outside Skillpath is not counted yet."
        )
        return EvidenceStatus("stale", when, message)
    store_evidence(tx, tenant, batch, now)
    record.evidence_refreshed_at = now
    return EvidenceStatus("fresh", now, "Up to date with the learning record store.")


def rebuild_state(
    tx: Transaction, record: LearnerRecord, catalog: Catalog, params: ModelParams
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
    observations = [
        o
        for o in tx.evidence.for_learner(record.course.tenant, record.subject)
        if o.lesson_id in catalog.lessons
    ]
    return replay(base, observations, catalog, params)
