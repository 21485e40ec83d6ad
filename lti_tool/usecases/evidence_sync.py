"""Background sync (`skillpath sync`, and the worker): read every LRS from its stored cursor
to the end and file the evidence under the learners Skillpath knows.

A learner is known once they have launched; statements about people who never launched are
read past (their whole history is fetched at their first launch). Each LRS is synced on its
own, page by page, saving its cursor with each page's evidence."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime

from lti_tool.lrs.actors import identity_policy
from lti_tool.lrs.gateway import EvidenceBatch
from lti_tool.storage import LrsConnectionRecord, Tenant, Transaction
from lti_tool.usecases.evidence import store_evidence
from lti_tool.usecases.ports import Ports
from recommender import Observation
from xapi.identity import ActorMatcher, IdentityMode
from xapi.reader import ReadCounts
from xapi.sync import SyncCursor, SyncResult, sync_pages

log = logging.getLogger("skillpath.sync")

# Statements asked for per page: what one transaction files and one cursor save covers.
PAGE_SIZE = 500


@dataclass(frozen=True)
class SyncReport:
    """What the sync of one LRS did. `error` is set when it stopped early: what was read up
    to then is filed and its cursor saved, so the next sync goes on from there."""

    endpoint: str
    read: int
    filed: int
    voided: int
    skipped_malformed: int
    pages: int = 0
    error: str = ""
    # When the cursor stands (the newest `stored` read): the sync's lag is now minus this.
    cursor_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return not self.error


def sync_all(ports: Ports, *, page_size: int = PAGE_SIZE) -> list[SyncReport]:
    """One pass over every configured LRS connection. Each LRS is synced on its own: one
    that is down or answers nonsense is reported and the others still sync."""
    with ports.storage.transaction() as tx:
        connections = [(c.id, c.endpoint) for c in tx.lrs.all()]
    reports = []
    for connection_id, endpoint in connections:
        try:
            reports.append(sync_connection(ports, connection_id, page_size=page_size))
        except Exception as exc:  # noqa: BLE001 - one LRS must not stop the others
            log.warning("sync of %s failed before reading: %s", endpoint, _reason(exc))
            reports.append(SyncReport(endpoint, 0, 0, 0, 0, error=_reason(exc)))
    return reports


def sync_connection(ports: Ports, connection_id: int, *, page_size: int = PAGE_SIZE) -> SyncReport:
    """Read one LRS from its cursor to the end, page by page: each page's evidence and the
    cursor after it are stored in one transaction, so memory stays constant however much the
    LRS holds, and a sync stopped midway (killed, LRS gone) resumes after its last page."""
    with ports.storage.transaction() as tx:
        connection = tx.lrs.get(connection_id)
        if connection is None:
            raise LookupError(f"no LRS connection {connection_id}")
        tenants = _tenants_of(tx, connection)
        policies = [identity_policy(tx, tenant) for tenant in sorted(tenants, key=_order)]
        emails = tx.learners.email_directory(
            p.issuer for p in policies if p.mode is IdentityMode.MBOX
        )
        lesson_ids = tx.catalogs.all_lesson_ids()
        cursor = SyncCursor.from_dict(connection.sync_cursor) if connection.sync_cursor else None
    lrs = ports.lrs.settings_for(connection.tenant)
    if lrs is None:
        raise LookupError(f"LRS connection {connection_id} has no settings")
    client, paging = ports.lrs.client(lrs)
    counts = ReadCounts()
    filed = voided = pages = 0
    error = ""
    cursor_at = cursor.since if cursor else None
    pages_read = sync_pages(
        client,
        lesson_ids,
        ActorMatcher(policies, emails),
        cursor,
        paging=paging,
        page_size=page_size,
    )
    try:
        for page in pages_read:

            def store(tx: Transaction, page: SyncResult = page) -> int:
                return _file_page(tx, connection_id, tenants, page, ports.now())

            filed += ports.storage.retrying(store)
            counts = counts + page.counts
            voided += len(page.voided_statement_ids)
            pages = page.pages
            cursor_at = page.cursor.since
    except Exception as exc:  # noqa: BLE001 - what was stored stays; the next sync goes on
        error = _reason(exc)
        log.warning(
            "sync of %s stopped after %s pages (%s); it resumes from there next time",
            lrs.endpoint,
            pages,
            error,
        )
    log.info(
        "synced %s: pages=%s read=%s filed=%s voided=%s skipped_malformed=%s",
        lrs.endpoint,
        pages,
        counts.read,
        filed,
        voided,
        counts.skipped_malformed,
    )
    return SyncReport(
        lrs.endpoint,
        counts.read,
        filed,
        voided,
        counts.skipped_malformed,
        pages=pages,
        error=error,
        cursor_at=cursor_at,
    )


def _file_page(
    tx: Transaction, connection_id: int, tenants: set[Tenant], page: SyncResult, now: datetime
) -> int:
    """One page's evidence under the learners who have launched, and the cursor after it."""
    filed = 0
    by_learner: dict[str, list[Observation]] = {}
    for observation in page.observations:
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
    if page.voided_statement_ids:
        voided = EvidenceBatch([], tuple(page.voided_statement_ids))
        for tenant in tenants:
            store_evidence(tx, tenant, voided, now)
    tx.lrs.save_cursor(connection_id, page.cursor.to_dict())
    return filed


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


def _order(tenant: Tenant) -> tuple[str, str]:
    return (tenant.issuer, tenant.client_id)


def _tenants_of(tx: Transaction, connection: LrsConnectionRecord) -> set[Tenant]:
    """The registrations whose evidence this LRS holds: its own, or (the default LRS) every
    registration that has no LRS of its own."""
    if not connection.tenant.is_default:
        return {connection.tenant}
    own = {c.tenant for c in tx.lrs.all() if not c.tenant.is_default}
    return tx.registrations.tenants() - own
