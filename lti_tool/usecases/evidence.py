"""A learner's evidence: what the LRS said, kept per tenant and person (the learner state is
kept up to date from it by `learner_state`).

The LRS is read at the learner's launch (`refresh`, bounded by a timeout) and by the
background sync; pages read what is stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from lti_tool.lrs.gateway import EvidenceBatch, EvidenceSource
from lti_tool.storage import LearnerRecord, Tenant, Transaction
from recommender import Catalog

log = logging.getLogger("skillpath.learning")


@dataclass(frozen=True)
class EvidenceStatus:
    status: str  # "fresh", "stale" or "no_lrs"
    refreshed_at: datetime | None
    message: str


def store_evidence(tx: Transaction, tenant: Tenant, batch: EvidenceBatch, now: datetime) -> int:
    """Keep new statements (deduplicated by id) and mark voided ones. Returns how many new."""
    added = tx.evidence.add_new(tenant, batch.observations, now)
    affected = tx.evidence.void(tenant, batch.voided_statement_ids)
    if affected:
        # A voided statement stops counting: these learners' states are replayed (in the
        # background catch-up, or at their next launch).
        tx.learner_pages.flag_replay(tenant, affected)
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
