"""Background sync (`skillpath sync`, and the worker): read every LRS from its stored cursor
to the end and file the evidence under the learners Skillpath knows.

A learner is known once they have launched; statements about people who never launched are
read past (their whole history is fetched at their first launch)."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from lti_tool.learning.evidence import EvidenceBatch
from lti_tool.learning.identity import email_directory, identity_policy
from lti_tool.learning.learner_path import store_evidence
from lti_tool.learning.lrs_evidence import LrsGateway
from lti_tool.models import CatalogRecord, LearnerRecord, LrsConnection, PlatformRegistration
from lti_tool.services import Services
from recommender import load_catalog
from xapi.identity import ActorMatcher
from xapi.sync import SyncCursor, sync_statements

log = logging.getLogger("skillpath.sync")


@dataclass(frozen=True)
class SyncReport:
    endpoint: str
    read: int
    filed: int
    voided: int
    skipped_malformed: int


def sync_all(services: Services, gateway: LrsGateway) -> list[SyncReport]:
    """One pass over every configured LRS connection."""
    with services.database.session() as session:
        connections = [row.id for row in session.scalars(select(LrsConnection))]
    return [sync_connection(services, gateway, connection_id) for connection_id in connections]


def sync_connection(services: Services, gateway: LrsGateway, connection_id: int) -> SyncReport:
    with services.database.session() as session:
        row = session.get(LrsConnection, connection_id)
        assert row is not None
        lrs = gateway.settings_for(row.issuer, row.client_id)
        assert lrs is not None
        tenants = _tenants_of(session, row)
        policies = [
            identity_policy(session, issuer, client_id) for issuer, client_id in sorted(tenants)
        ]
        emails = email_directory(session, policies)
        lesson_ids = _lesson_ids(session)
        cursor = SyncCursor.from_dict(row.sync_cursor) if row.sync_cursor else None
    client, paging = gateway.client(lrs)
    result = sync_statements(
        client,
        lesson_ids,
        ActorMatcher(policies, emails),
        cursor,
        paging=paging,
    )
    filed = 0
    with services.database.session() as session:
        by_learner: dict[str, list[Any]] = {}
        for observation in result.observations:
            by_learner.setdefault(observation.learner_id, []).append(observation)
        for key, observations in by_learner.items():
            issuer, _, subject = key.partition("|")
            known = session.execute(
                select(LearnerRecord.client_id)
                .where(LearnerRecord.issuer == issuer, LearnerRecord.subject == subject)
                .distinct()
            ).scalars()
            for client_id in known:
                if (issuer, client_id) not in tenants:
                    continue  # another tenant's LRS: never file its evidence here
                batch = EvidenceBatch(
                    [dataclasses.replace(o, learner_id=subject) for o in observations]
                )
                filed += store_evidence(session, issuer, client_id, batch)
        if result.voided_statement_ids:
            for issuer, client_id in tenants:
                store_evidence(
                    session,
                    issuer,
                    client_id,
                    EvidenceBatch([], tuple(result.voided_statement_ids)),
                )
        connection = session.get(LrsConnection, connection_id)
        assert connection is not None
        connection.sync_cursor = result.cursor.to_dict()
    counts = result.counts
    log.info(
        "synced %s: read=%s filed=%s voided=%s skipped_malformed=%s",
        lrs.endpoint,
        counts.read,
        filed,
        len(result.voided_statement_ids),
        counts.skipped_malformed,
    )
    return SyncReport(
        lrs.endpoint, counts.read, filed, len(result.voided_statement_ids), counts.skipped_malformed
    )


def _tenants_of(session: Any, connection: LrsConnection) -> set[tuple[str, str]]:
    """The registrations whose evidence this LRS holds: its own, or (the default LRS) every
    registration that has no LRS of its own."""
    if connection.issuer:
        return {(connection.issuer, connection.client_id)}
    own = {(r.issuer, r.client_id) for r in session.scalars(select(LrsConnection)) if r.issuer}
    registered = {
        (r.issuer, r.client_id)
        for r in session.execute(
            select(PlatformRegistration.issuer, PlatformRegistration.client_id)
        )
    }
    return registered - own


def _lesson_ids(session: Any) -> set[str]:
    ids: set[str] = set()
    for document in session.scalars(select(CatalogRecord.document)):
        ids.update(load_catalog(document).lessons)
    return ids
