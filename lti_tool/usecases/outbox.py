"""What waits to leave Skillpath, as an admin sees and steers it: counts per state, the
newest items with their audit log, and retrying failed ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lti_tool.storage import AttemptRecord, OutboxEntry
from lti_tool.storage.models import STATUSES
from lti_tool.storage.outbox import OutboxCounts
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
) -> OutboxListing:
    with ports.storage.transaction() as tx:
        items = tx.outbox.entries(status=status, kind=kind, limit=limit)
        attempts = {i.id: tx.outbox.attempts_of(i.id) for i in items} if with_attempts else {}
        return OutboxListing(tx.outbox.counts([kind] if kind else []), items, attempts)


def retry_failed(ports: Ports, item_ids: Sequence[int] = ()) -> int:
    """Put failed items (the given ones, or all) back in the queue, due now."""
    with ports.storage.transaction() as tx:
        return tx.outbox.retry(now=ports.now(), item_ids=item_ids)
