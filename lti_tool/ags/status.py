"""The state of grade sync for one course, as the instructor page shows it: whether the
link takes grades (and why not), how many scores wait, went through or failed, and each
failure with the platform's answer. Only this tenant's and this course's items are read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.ags.claims import ags_endpoint
from lti_tool.ags.progress import KIND, grade_sync_for
from lti_tool.models import Launch
from lti_tool.outbox.models import OutboxItem

# The newest items looked at: enough for a course page, bounded for a big installation.
RECENT_ITEMS = 2000


@dataclass(frozen=True)
class GradeSyncStatus:
    available: bool
    reason: str
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)


def grade_sync_status(session: Session, launch: Launch) -> GradeSyncStatus:
    sync = grade_sync_for(launch.claims)
    endpoint = ags_endpoint(launch.claims)
    counts = {"pending": 0, "delivered": 0, "failed": 0, "superseded": 0}
    failures: list[dict[str, Any]] = []
    if endpoint is None or not endpoint.lineitems:
        return GradeSyncStatus(sync.available, sync.reason, counts, failures)
    rows = session.execute(
        select(
            OutboxItem.id,
            OutboxItem.status,
            OutboxItem.payload,
            OutboxItem.last_error,
            OutboxItem.attempts,
            OutboxItem.created_at,
        )
        .where(OutboxItem.kind == KIND)
        .order_by(OutboxItem.id.desc())
        .limit(RECENT_ITEMS)
    )
    for row in rows:
        payload = row.payload or {}
        if (payload.get("issuer"), payload.get("client_id"), payload.get("lineitems")) != (
            launch.issuer,
            launch.client_id,
            endpoint.lineitems,
        ):
            continue  # another tenant's or another course's score
        counts[row.status] = counts.get(row.status, 0) + 1
        if row.status == "failed":
            failures.append(
                {
                    "item_id": row.id,
                    "user_id": (payload.get("score") or {}).get("userId"),
                    "reason": row.last_error or "",
                    "attempts": row.attempts,
                    "queued_at": row.created_at,
                }
            )
    return GradeSyncStatus(sync.available, sync.reason, counts, failures)
