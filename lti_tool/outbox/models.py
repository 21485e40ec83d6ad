"""The outbox tables: items waiting to leave Skillpath, and the audit log of every attempt.

An item is written in the same transaction as the change that caused it (a new score, a new
xAPI statement) and removed from the queue only by a worker that saw the receiver's answer.
Imports only SQLAlchemy and `lti_tool.models` (the shared declarative `Base`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.models import Base, UTCDateTime, utcnow

# The states of an item. `pending` items are waiting or leased to a worker; the other three
# are final.
PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
SUPERSEDED = "superseded"
STATUSES = (PENDING, DELIVERED, FAILED, SUPERSEDED)


class OutboxItem(Base):
    """One message to deliver (an AGS score, an xAPI statement), with its delivery state.

    `supersede_key` groups items where only the newest matters (one learner's score on one
    line item): enqueueing a newer one retires undelivered older ones, and items of one key
    are delivered in order. A worker leases an item by setting `lease_token` and
    `leased_until`; a worker killed mid-delivery leaves a lease that simply runs out.
    """

    __tablename__ = "outbox_items"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_supersede", "kind", "supersede_key", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    supersede_key: Mapped[str | None] = mapped_column(String(500), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The last attempt may have reached the receiver without us seeing the answer (connection
    # dropped after the request was sent): the next attempt checks before sending again.
    uncertain: Mapped[bool] = mapped_column(Boolean, default=False)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class DeliveryAttempt(Base):
    """The audit log: one row per attempt, what was sent and what the receiver answered."""

    __tablename__ = "outbox_attempts"
    __table_args__ = (Index("ix_outbox_attempts_item", "item_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("outbox_items.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    outcome: Mapped[str] = mapped_column(String(20))
    request_summary: Mapped[str] = mapped_column(Text, default="")
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_body: Mapped[str] = mapped_column(Text, default="")
    worker: Mapped[str] = mapped_column(String(100), default="")
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
