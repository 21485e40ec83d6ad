"""The outbox as a queue in the database: enqueue (inside the caller's transaction), claim
with a lease (several workers, several processes, never the same item twice), finish, and
the admin's list and retry. What an outcome means is the worker's business (`lti_tool.outbox`);
this module only records it.

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

from lti_tool.storage.models import (
    DELIVERED,
    FAILED,
    PENDING,
    SUPERSEDED,
    AttemptRow,
    OutboxRow,
)
from lti_tool.storage.records import AttemptRecord, ItemToDeliver, OutboxEntry, Tenant

# Kept in the audit log: enough to see what the receiver said, not a whole HTML error page.
AUDIT_TEXT_LIMIT = 2000

OUTCOMES = ("delivered", "failed", "retry")


def truncate(text: str, limit: int = AUDIT_TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Lease:
    token: str
    until: datetime
    items: list[ItemToDeliver]


@dataclass(frozen=True)
class OutboxCounts:
    pending: int
    delivered: int
    failed: int
    superseded: int


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
    return or_(OutboxRow.leased_until.is_(None), OutboxRow.leased_until <= now)


def _due(now: datetime, kinds: Sequence[str]) -> list[Any]:
    older = aliased(OutboxRow)
    conditions = [
        OutboxRow.status == PENDING,
        OutboxRow.next_attempt_at <= now,
        _not_leased(now),
        # Items of one key leave in order: never overtake an older pending one.
        ~exists().where(
            and_(
                OutboxRow.supersede_key.is_not(None),
                older.kind == OutboxRow.kind,
                older.supersede_key == OutboxRow.supersede_key,
                older.status == PENDING,
                older.id < OutboxRow.id,
            )
        ),
    ]
    if kinds:
        conditions.append(OutboxRow.kind.in_(list(kinds)))
    return conditions


def _lease_values(token: str, until: datetime) -> dict[str, Any]:
    return {
        "lease_token": token,
        "leased_until": until,
        "attempts": OutboxRow.attempts + 1,
        # A lease that ran out without `finish` belonged to a worker that died, perhaps
        # after sending: the next attempt checks with the receiver first.
        "uncertain": case((OutboxRow.lease_token.is_not(None), True), else_=OutboxRow.uncertain),
    }


def claim(
    session: Session,
    *,
    now: datetime,
    limit: int,
    lease: timedelta,
    kinds: Sequence[str] = (),
) -> Lease:
    """Lease up to `limit` due items to the caller (theirs once the transaction commits). The items are the caller's
    until `lease` runs out; finishing them needs the lease token."""
    token = uuid.uuid4().hex
    until = now + lease
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        ids = list(
            session.scalars(
                select(OutboxRow.id)
                .where(*_due(now, kinds))
                .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(ids))
                .values(**_lease_values(token, until))
                .execution_options(synchronize_session=False)
            )
    else:
        candidates = (
            select(OutboxRow.id)
            .where(*_due(now, kinds))
            .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
            .limit(limit)
            .scalar_subquery()
        )
        # One statement: the due condition is evaluated under SQLite's write lock.
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(candidates), *_due(now, kinds))
            .values(**_lease_values(token, until))
            .execution_options(synchronize_session=False)
        )
    rows = session.scalars(
        select(OutboxRow).where(OutboxRow.lease_token == token).order_by(OutboxRow.id)
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
    session: Session,
    item_id: int,
    lease_token: str,
    outcome: str,
    *,
    now: datetime,
    error: str = "",
    retry_at: datetime | None = None,
    uncertain: bool = False,
    request_summary: str = "",
    response_status: int | None = None,
    response_body: str = "",
    worker: str = "",
    duration_ms: int = 0,
) -> bool:
    """Record one attempt (`outcome`: delivered, failed or retry) and move the item on. False
    when the lease was lost (another worker took the item after our lease ran out): the
    attempt is logged, the state kept. Core statements only: this runs once per delivery."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}")
    params: dict[str, Any] = {"b_id": item_id, "b_token": lease_token, "b_now": now}
    if outcome != "delivered":
        params["b_error"] = truncate(error)
    if outcome == "retry":
        params |= {"b_retry_at": retry_at or now, "b_uncertain": uncertain}
    changed = session.execute(_FINISH[outcome], params)
    kept = bool(getattr(changed, "rowcount", 0))
    if kept and outcome == "retry":
        _retire_if_superseded(session, item_id, now)
    session.execute(
        _INSERT_ATTEMPT,
        {
            "item_id": item_id,
            "attempted_at": now,
            "outcome": outcome if kept else outcome + " (lease lost)",
            "request_summary": truncate(request_summary),
            "response_status": response_status,
            "response_body": truncate(response_body),
            "worker": worker[:100],
            "duration_ms": duration_ms,
        },
    )
    return kept


_INSERT_ATTEMPT = insert(cast(Table, AttemptRow.__table__))


def _finish_statements() -> dict[str, Any]:
    """The three ways an attempt moves its item on, built once (this runs per delivery):
    only while the caller still holds the lease and the item is pending."""
    table = cast(Table, OutboxRow.__table__)
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

_ITEMS = cast(Table, OutboxRow.__table__)
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


def _retire_if_superseded(session: Session, item_id: int, now: datetime) -> None:
    """A retried item whose key got a newer value meanwhile is not worth retrying."""
    newer = aliased(OutboxRow)
    session.execute(
        update(OutboxRow)
        .where(
            OutboxRow.id == item_id,
            OutboxRow.supersede_key.is_not(None),
            exists().where(
                newer.kind == OutboxRow.kind,
                newer.supersede_key == OutboxRow.supersede_key,
                newer.id > OutboxRow.id,
                newer.status.in_([PENDING, DELIVERED]),
            ),
        )
        .values(status=SUPERSEDED, finished_at=now)
        .execution_options(synchronize_session=False)
    )


def _of_tenant(tenant: Tenant) -> Any:
    """Items whose payload names the tenant (every kind carries issuer and client_id)."""
    return and_(
        OutboxRow.payload["issuer"].as_string() == tenant.issuer,
        OutboxRow.payload["client_id"].as_string() == tenant.client_id,
    )


def counts(
    session: Session, kinds: Sequence[str] = (), tenant: Tenant | None = None
) -> OutboxCounts:
    """How many items are in each state (the instructor's and admin's grade-sync summary),
    of one tenant's when it is given."""
    query = select(OutboxRow.status, func.count()).group_by(OutboxRow.status)
    if kinds:
        query = query.where(OutboxRow.kind.in_(list(kinds)))
    if tenant is not None:
        query = query.where(_of_tenant(tenant))
    found = {status: number for status, number in session.execute(query).all()}
    return OutboxCounts(
        pending=found.get(PENDING, 0),
        delivered=found.get(DELIVERED, 0),
        failed=found.get(FAILED, 0),
        superseded=found.get(SUPERSEDED, 0),
    )


def list_items(
    session: Session,
    *,
    status: str | None = None,
    kind: str | None = None,
    limit: int = 50,
    tenant: Tenant | None = None,
) -> list[OutboxEntry]:
    """Newest first; one tenant's when it is given."""
    query = select(OutboxRow).order_by(OutboxRow.id.desc()).limit(limit)
    if tenant is not None:
        query = query.where(_of_tenant(tenant))
    if status:
        query = query.where(OutboxRow.status == status)
    if kind:
        query = query.where(OutboxRow.kind == kind)
    return [
        OutboxEntry(
            id=row.id,
            kind=row.kind,
            status=row.status,
            payload=row.payload,
            attempts=row.attempts,
            last_error=row.last_error,
            created_at=row.created_at,
            finished_at=row.finished_at,
        )
        for row in session.scalars(query)
    ]


def attempts_of(session: Session, item_id: int) -> list[AttemptRecord]:
    rows = session.scalars(
        select(AttemptRow).where(AttemptRow.item_id == item_id).order_by(AttemptRow.id)
    )
    return [
        AttemptRecord(
            item_id=row.item_id,
            attempted_at=row.attempted_at,
            outcome=row.outcome,
            request_summary=row.request_summary,
            response_status=row.response_status,
            response_body=row.response_body,
            worker=row.worker,
            duration_ms=row.duration_ms,
        )
        for row in rows
    ]


def retry(
    session: Session,
    *,
    now: datetime,
    item_ids: Sequence[int] = (),
    tenant: Tenant | None = None,
) -> int:
    """Put failed items (all, or the given ones; one tenant's when it is given) back in the
    queue, due now. Returns how many."""
    newer = aliased(OutboxRow)
    # A failed score whose key got a newer value since stays failed: retrying it would put
    # an old value back over the new one.
    query = update(OutboxRow).where(
        OutboxRow.status == FAILED,
        ~exists().where(
            OutboxRow.supersede_key.is_not(None),
            newer.kind == OutboxRow.kind,
            newer.supersede_key == OutboxRow.supersede_key,
            newer.id > OutboxRow.id,
        ),
    )
    if item_ids:
        query = query.where(OutboxRow.id.in_(list(item_ids)))
    if tenant is not None:
        query = query.where(_of_tenant(tenant))
    result = session.execute(
        query.values(status=PENDING, next_attempt_at=now, finished_at=None).execution_options(
            synchronize_session=False
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


class OutboxRepository:
    """The outbox inside one transaction (the functions above, bound to its session)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def enqueue(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        now: datetime,
        supersede_key: str | None = None,
    ) -> int:
        return enqueue(self._session, kind, payload, now=now, supersede_key=supersede_key)

    def claim(
        self, *, now: datetime, limit: int, lease: timedelta, kinds: Sequence[str] = ()
    ) -> Lease:
        return claim(self._session, now=now, limit=limit, lease=lease, kinds=kinds)

    def finish(self, item_id: int, lease_token: str, outcome: str, **details: Any) -> bool:
        return finish(self._session, item_id, lease_token, outcome, **details)

    def counts(self, kinds: Sequence[str] = (), tenant: Tenant | None = None) -> OutboxCounts:
        return counts(self._session, kinds, tenant)

    def entries(
        self,
        *,
        status: str | None = None,
        kind: str | None = None,
        limit: int = 50,
        tenant: Tenant | None = None,
    ) -> list[OutboxEntry]:
        return list_items(self._session, status=status, kind=kind, limit=limit, tenant=tenant)

    def attempts_of(self, item_id: int) -> list[AttemptRecord]:
        return attempts_of(self._session, item_id)

    def retry(
        self, *, now: datetime, item_ids: Sequence[int] = (), tenant: Tenant | None = None
    ) -> int:
        return retry(self._session, now=now, item_ids=item_ids, tenant=tenant)

    def recent(self, kind: str, limit: int) -> list[OutboxEntry]:
        """The newest items of a kind, in every state (the course's grade-sync summary)."""
        return list_items(self._session, kind=kind, limit=limit)
