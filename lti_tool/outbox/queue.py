"""The outbox as a queue in the database: enqueue (inside the caller's transaction), claim
with a lease (several workers, several processes, never the same item twice), finish, and
the admin's list and retry.

Claiming is `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL and one conditional `UPDATE`
on SQLite (SQLite serialises writers, so the statement is atomic). Nothing here talks HTTP.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Table,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from lti_tool.outbox.delivery import (
    Delivered,
    DeliveryResult,
    Failed,
    ItemToDeliver,
    RetryLater,
    truncate,
)
from lti_tool.outbox.models import (
    DELIVERED,
    FAILED,
    PENDING,
    SUPERSEDED,
    DeliveryAttempt,
    OutboxItem,
)


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    now: datetime,
    supersede_key: str | None = None,
) -> int:
    """Add an item in the caller's transaction (it leaves when the caller commits); its id.

    With a `supersede_key`, older undelivered items of the same key that no worker holds are
    retired as superseded: only the newest value is worth sending."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if supersede_key is not None:
        session.execute(_SUPERSEDE, {"b_kind": kind, "b_key": supersede_key, "b_now": now})
    row = {
        "kind": kind,
        "supersede_key": supersede_key,
        "payload": payload,
        "status": PENDING,
        "attempts": 0,
        "uncertain": False,
        "next_attempt_at": now,
        "created_at": now,
    }
    return int(session.execute(_INSERT_ITEM, row).scalar_one())


def _not_leased(now: datetime) -> Any:
    return or_(OutboxItem.leased_until.is_(None), OutboxItem.leased_until <= now)


def _due(now: datetime, kinds: Sequence[str]) -> list[Any]:
    older = aliased(OutboxItem)
    conditions = [
        OutboxItem.status == PENDING,
        OutboxItem.next_attempt_at <= now,
        _not_leased(now),
        # Items of one key leave in order: never overtake an older pending one.
        ~exists().where(
            and_(
                OutboxItem.supersede_key.is_not(None),
                older.kind == OutboxItem.kind,
                older.supersede_key == OutboxItem.supersede_key,
                older.status == PENDING,
                older.id < OutboxItem.id,
            )
        ),
    ]
    if kinds:
        conditions.append(OutboxItem.kind.in_(list(kinds)))
    return conditions


def _lease_values(token: str, until: datetime) -> dict[str, Any]:
    return {
        "lease_token": token,
        "leased_until": until,
        "attempts": OutboxItem.attempts + 1,
        # A lease that ran out without `finish` belonged to a worker that died, perhaps
        # after sending: the next attempt checks with the receiver first.
        "uncertain": case((OutboxItem.lease_token.is_not(None), True), else_=OutboxItem.uncertain),
    }


@dataclass(frozen=True)
class Lease:
    token: str
    until: datetime
    items: list[ItemToDeliver]


def claim(
    session: Session,
    *,
    now: datetime,
    limit: int,
    lease: timedelta,
    kinds: Sequence[str] = (),
) -> Lease:
    """Lease up to `limit` due items to the caller and commit. The items are the caller's
    until `lease` runs out; finishing them needs the lease token."""
    token = uuid.uuid4().hex
    until = now + lease
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        ids = list(
            session.scalars(
                select(OutboxItem.id)
                .where(*_due(now, kinds))
                .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            session.execute(
                update(OutboxItem)
                .where(OutboxItem.id.in_(ids))
                .values(**_lease_values(token, until))
                .execution_options(synchronize_session=False)
            )
    else:
        candidates = (
            select(OutboxItem.id)
            .where(*_due(now, kinds))
            .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
            .limit(limit)
            .scalar_subquery()
        )
        # One statement: the due condition is evaluated under SQLite's write lock.
        session.execute(
            update(OutboxItem)
            .where(OutboxItem.id.in_(candidates), *_due(now, kinds))
            .values(**_lease_values(token, until))
            .execution_options(synchronize_session=False)
        )
    session.commit()
    rows = session.scalars(
        select(OutboxItem).where(OutboxItem.lease_token == token).order_by(OutboxItem.id)
    ).all()
    items = [
        ItemToDeliver(
            id=row.id,
            kind=row.kind,
            payload=dict(row.payload),
            attempts=row.attempts,
            uncertain=row.uncertain,
            created_at=row.created_at,
        )
        for row in rows
    ]
    return Lease(token=token, until=until, items=items)


def finish(
    session: Session | Connection,
    item_id: int,
    lease_token: str,
    result: DeliveryResult,
    *,
    now: datetime,
    retry_at: datetime | None,
    worker: str,
    duration_ms: int,
) -> bool:
    """Record one attempt and move the item on, and commit. False when the lease was lost
    (another worker took the item after our lease ran out): the attempt is logged, the state
    kept. Core statements only: this runs once per delivery."""
    params: dict[str, Any] = {"b_id": item_id, "b_token": lease_token, "b_now": now}
    if isinstance(result, Delivered):
        outcome = "delivered"
    elif isinstance(result, Failed):
        outcome = "failed"
        params["b_error"] = truncate(result.reason)
    else:
        assert isinstance(result, RetryLater)
        outcome = "retry"
        params |= {
            "b_error": truncate(result.reason),
            "b_retry_at": retry_at or now,
            "b_uncertain": result.uncertain,
        }
    changed = session.execute(_FINISH[outcome], params)
    kept = bool(getattr(changed, "rowcount", 0))
    if kept and outcome == "retry":
        _retire_if_superseded(session, item_id, now)
    exchange = result.exchange
    session.execute(
        _INSERT_ATTEMPT,
        {
            "item_id": item_id,
            "attempted_at": now,
            "outcome": outcome if kept else outcome + " (lease lost)",
            "request_summary": truncate(exchange.request_summary),
            "response_status": exchange.response_status,
            "response_body": truncate(exchange.response_body),
            "worker": worker[:100],
            "duration_ms": duration_ms,
        },
    )
    session.commit()
    return kept


_INSERT_ATTEMPT = insert(cast(Table, DeliveryAttempt.__table__))


def _finish_statements() -> dict[str, Any]:
    """The three ways an attempt moves its item on, built once (this runs per delivery):
    only while the caller still holds the lease and the item is pending."""
    table = cast(Table, OutboxItem.__table__)
    held = update(table).where(
        table.c.id == bindparam("b_id"),
        table.c.lease_token == bindparam("b_token"),
        table.c.status == PENDING,
    )
    released = {"lease_token": None, "leased_until": None}
    return {
        "delivered": held.values(
            status=DELIVERED,
            finished_at=bindparam("b_now"),
            last_error=None,
            uncertain=False,
            **released,
        ),
        "failed": held.values(
            status=FAILED,
            finished_at=bindparam("b_now"),
            last_error=bindparam("b_error"),
            **released,
        ),
        "retry": held.values(
            next_attempt_at=bindparam("b_retry_at"),
            last_error=bindparam("b_error"),
            uncertain=bindparam("b_uncertain"),
            **released,
        ),
    }


_FINISH = _finish_statements()

_ITEMS = cast(Table, OutboxItem.__table__)
_INSERT_ITEM = insert(_ITEMS).returning(_ITEMS.c.id)
# Older undelivered items of a key that no worker holds: retired when a newer value comes.
_SUPERSEDE = (
    update(_ITEMS)
    .where(
        _ITEMS.c.kind == bindparam("b_kind"),
        _ITEMS.c.supersede_key == bindparam("b_key"),
        _ITEMS.c.status == PENDING,
        or_(_ITEMS.c.leased_until.is_(None), _ITEMS.c.leased_until <= bindparam("b_now")),
    )
    .values(status=SUPERSEDED, finished_at=bindparam("b_now"), lease_token=None)
)


def _retire_if_superseded(session: Session | Connection, item_id: int, now: datetime) -> None:
    """A retried item whose key got a newer value meanwhile is not worth retrying."""
    newer = aliased(OutboxItem)
    session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.id == item_id,
            OutboxItem.supersede_key.is_not(None),
            exists().where(
                newer.kind == OutboxItem.kind,
                newer.supersede_key == OutboxItem.supersede_key,
                newer.id > OutboxItem.id,
                newer.status.in_([PENDING, DELIVERED]),
            ),
        )
        .values(status=SUPERSEDED, finished_at=now)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class OutboxCounts:
    pending: int
    delivered: int
    failed: int
    superseded: int


def counts(session: Session, kinds: Sequence[str] = ()) -> OutboxCounts:
    """How many items are in each state (the instructor's and admin's grade-sync summary)."""
    query = select(OutboxItem.status, func.count()).group_by(OutboxItem.status)
    if kinds:
        query = query.where(OutboxItem.kind.in_(list(kinds)))
    found = {status: number for status, number in session.execute(query).all()}
    return OutboxCounts(
        pending=found.get(PENDING, 0),
        delivered=found.get(DELIVERED, 0),
        failed=found.get(FAILED, 0),
        superseded=found.get(SUPERSEDED, 0),
    )


def list_items(
    session: Session, *, status: str | None = None, kind: str | None = None, limit: int = 50
) -> list[OutboxItem]:
    """Newest first."""
    query = select(OutboxItem).order_by(OutboxItem.id.desc()).limit(limit)
    if status:
        query = query.where(OutboxItem.status == status)
    if kind:
        query = query.where(OutboxItem.kind == kind)
    return list(session.scalars(query))


def attempts_of(session: Session, item_id: int) -> list[DeliveryAttempt]:
    return list(
        session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.item_id == item_id)
            .order_by(DeliveryAttempt.id)
        )
    )


def retry(session: Session, *, now: datetime, item_ids: Sequence[int] = ()) -> int:
    """Put failed items (all, or the given ones) back in the queue, due now. Returns how many."""
    newer = aliased(OutboxItem)
    # A failed score whose key got a newer value since stays failed: retrying it would put
    # an old value back over the new one.
    query = update(OutboxItem).where(
        OutboxItem.status == FAILED,
        ~exists().where(
            OutboxItem.supersede_key.is_not(None),
            newer.kind == OutboxItem.kind,
            newer.supersede_key == OutboxItem.supersede_key,
            newer.id > OutboxItem.id,
        ),
    )
    if item_ids:
        query = query.where(OutboxItem.id.in_(list(item_ids)))
    result = session.execute(
        query.values(status=PENDING, next_attempt_at=now, finished_at=None).execution_options(
            synchronize_session=False
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
