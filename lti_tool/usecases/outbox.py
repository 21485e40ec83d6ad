"""What waits to leave Skillpath, as an admin sees and steers it: counts per state, the
newest items with their audit log, and retrying failed ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lti_tool.errors import ConfigurationError
from lti_tool.storage import AttemptRecord, OutboxEntry, Tenant
from lti_tool.storage.models import STATUSES
from lti_tool.storage.outbox import OutboxCounts
from lti_tool.usecases.audit import COMMAND_LINE, AdminActor, record
from lti_tool.usecases.ports import Ports

__all__ = ["STATUSES", "OutboxListing", "listing", "retry_failed"]


@dataclass(frozen=True)
class OutboxListing:
    counts: OutboxCounts
    items: list[OutboxEntry]
    attempts: dict[int, list[AttemptRecord]] = field(default_factory=dict)


def listing(
    ports: Ports,
    *,
    status: str | None = None,
    kind: str | None = None,
    limit: int = 20,
    with_attempts: bool = False,
    actor: AdminActor = COMMAND_LINE,
) -> OutboxListing:
    """Counts and the newest items (an LMS's administrator sees their registration's only)."""
    if status is not None and status not in STATUSES:
        raise ConfigurationError(f"status must be one of {', '.join(STATUSES)}")
    with ports.storage.transaction() as tx:
        items = tx.outbox.entries(status=status, kind=kind, limit=limit, tenant=actor.tenant)
        attempts = {i.id: tx.outbox.attempts_of(i.id) for i in items} if with_attempts else {}
        counts = tx.outbox.counts([kind] if kind else [], actor.tenant)
        return OutboxListing(counts, items, attempts)


def retry_failed(
    ports: Ports, item_ids: Sequence[int] = (), actor: AdminActor = COMMAND_LINE
) -> int:
    """Put failed items (the given ones, or all the actor may see) back in the queue, due
    now; written to the audit log."""
    with ports.storage.transaction() as tx:
        count = tx.outbox.retry(now=ports.now(), item_ids=item_ids, tenant=actor.tenant)
        if count:
            which = ", ".join(f"#{i}" for i in item_ids) if item_ids else "every failed item"
            record(
                tx,
                ports,
                actor,
                actor.tenant or Tenant.DEFAULT,
                "outbox.retry",
                f"queued again: {which} ({count})",
            )
        return count
