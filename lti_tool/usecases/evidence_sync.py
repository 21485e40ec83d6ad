"""Background sync (`skillpath sync`, and the worker): read every LRS from its stored cursor
to the end and file the evidence under the learners Skillpath knows.

A learner is known once they have launched; statements about people who never launched are
read past (their whole history is fetched at their first launch)."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

from lti_tool.lrs.actors import identity_policy
from lti_tool.lrs.gateway import EvidenceBatch
from lti_tool.storage import LrsConnectionRecord, Tenant, Transaction
from lti_tool.usecases.evidence import store_evidence
from lti_tool.usecases.ports import Ports
from recommender import Observation
from xapi.identity import ActorMatcher, IdentityMode
from xapi.sync import SyncCursor, sync_statements

log = logging.getLogger("skillpath.sync")


@dataclass(frozen=True)
class SyncReport:
    endpoint: str
    read: int
    filed: int
    voided: int
    skipped_malformed: int


def sync_all(ports: Ports) -> list[SyncReport]:
    """One pass over every configured LRS connection."""
    with ports.storage.transaction() as tx:
        connections = [c.id for c in tx.lrs.all()]
    return [sync_connection(ports, connection_id) for connection_id in connections]


def sync_connection(ports: Ports, connection_id: int) -> SyncReport:
    with ports.storage.transaction() as tx:
        connection = tx.lrs.get(connection_id)
        assert connection is not None
        tenants = _tenants_of(tx, connection)
        policies = [identity_policy(tx, tenant) for tenant in sorted(tenants, key=_order)]
        emails = tx.learners.email_directory(
            p.issuer for p in policies if p.mode is IdentityMode.MBOX
        )
        lesson_ids = tx.catalogs.all_lesson_ids()
        cursor = SyncCursor.from_dict(connection.sync_cursor) if connection.sync_cursor else None
    lrs = ports.lrs.settings_for(connection.tenant)
    assert lrs is not None
    client, paging = ports.lrs.client(lrs)
    result = sync_statements(
        client,
        lesson_ids,
        ActorMatcher(policies, emails),
        cursor,
        paging=paging,
    )
    filed = 0
    now = ports.now()
    with ports.storage.transaction() as tx:
        by_learner: dict[str, list[Observation]] = {}
        for observation in result.observations:
            by_learner.setdefault(observation.learner_id, []).append(observation)
        for key, observations in by_learner.items():
            issuer, _, subject = key.partition("|")
            for tenant in tx.learners.tenants_knowing(issuer, subject):
                if tenant not in tenants:
                    continue  # another tenant's LRS: never file its evidence here
                batch = EvidenceBatch(
                    [dataclasses.replace(o, learner_id=subject) for o in observations]
                )
                filed += store_evidence(tx, tenant, batch, now)
        if result.voided_statement_ids:
            voided = EvidenceBatch([], tuple(result.voided_statement_ids))
            for tenant in tenants:
                store_evidence(tx, tenant, voided, now)
        tx.lrs.save_cursor(connection_id, result.cursor.to_dict())
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


def _order(tenant: Tenant) -> tuple[str, str]:
    return (tenant.issuer, tenant.client_id)


def _tenants_of(tx: Transaction, connection: LrsConnectionRecord) -> set[Tenant]:
    """The registrations whose evidence this LRS holds: its own, or (the default LRS) every
    registration that has no LRS of its own."""
    if not connection.tenant.is_default:
        return {connection.tenant}
    own = {c.tenant for c in tx.lrs.all() if not c.tenant.is_default}
    return tx.registrations.tenants() - own
