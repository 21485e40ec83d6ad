"""The outbox as a queue in the database: enqueue (inside the caller's transaction), claim
with a lease (several workers, several processes, never the same item twice), finish, and
the admin's list and retry. What an outcome means is the worker's business (`lti_tool.outbox`);
this module only records it.

Claiming is `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL and one conditional `UPDATE`
on SQLite (SQLite serialises writers, so the statement is atomic). Nothing here talks HTTP.

Health per destination: each item names where it goes (a platform registration, a tenant's
LRS). Failures that say the receiver is unwell are counted per destination; once it is
*failing* (`PROBE_AFTER_FAILURES` in a row) its items are no longer claimed, and one item at a
time is leased as a probe when the destination's `probe_at` comes. The first success makes
every waiting item of that destination due at once, whatever its own backoff said.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from lti_tool.storage.models import (
    DELIVERED,
    FAILED,
    PENDING,
    SUPERSEDED,
    AttemptRow,
    DestinationRow,
    OutboxRow,
)
from lti_tool.storage.records import (
    AttemptRecord,
    DestinationHealth,
    ItemToDeliver,
    OutboxEntry,
    Tenant,
)

# Kept in the audit log: enough to see what the receiver said, not a whole HTML error page.
AUDIT_TEXT_LIMIT = 2000

OUTCOMES = ("delivered", "failed", "retry")

# Failures in a row after which a destination gets probes instead of its queue.
PROBE_AFTER_FAILURES = 3


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
    destination: str | None = None,
) -> int:
    """Add an item in the caller's transaction (it leaves when the caller commits); its id.

    With a `supersede_key`, older undelivered items of the same key that no worker holds are
    retired as superseded: only the newest value is worth sending. `destination` defaults to
    the kind and the payload's tenant (`destination_of`)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if supersede_key is not None:
        session.execute(_SUPERSEDE, {"b_kind": kind, "b_key": supersede_key, "b_now": now})
    row = {
        "kind": kind,
        "supersede_key": supersede_key,
        "destination": destination if destination is not None else destination_of(kind, payload),
        "payload": payload,
        "status": PENDING,
        "attempts": 0,
        "uncertain": False,
        "next_attempt_at": now,
        "created_at": now,
    }
    return int(session.execute(_INSERT_ITEM, row).scalar_one())


def destination_of(kind: str, payload: dict[str, Any]) -> str:
    """Where an item goes, as health is kept: its kind and its tenant (one platform
    registration's services, one tenant's LRS)."""
    name = f"{kind} {payload.get('issuer', '')} {payload.get('client_id', '')}"
    return name[:1100]


def _not_leased(now: datetime) -> Any:
    return or_(OutboxRow.leased_until.is_(None), OutboxRow.leased_until <= now)


def _failing(threshold: int) -> Any:
    """The item's destination is failing: only probes go there."""
    return exists().where(
        DestinationRow.destination == OutboxRow.destination,
        DestinationRow.failures >= threshold,
    )


def _due(
    now: datetime, kinds: Sequence[str], *, probe: str | None = None, threshold: int = 0
) -> list[Any]:
    """Claimable now: pending, due, not leased, not overtaking an older item of its key, and
    (without `probe`) not bound for a failing destination. A probe of destination `probe`
    takes any waiting item of it, due or not (its backoff was the destination's)."""
    older = aliased(OutboxRow)
    conditions = [
        OutboxRow.status == PENDING,
        OutboxRow.destination == probe if probe is not None else OutboxRow.next_attempt_at <= now,
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
    if probe is None and threshold:
        conditions.append(~_failing(threshold))
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
    probe_after: int = PROBE_AFTER_FAILURES,
) -> Lease:
    """Lease up to `limit` due items to the caller (theirs once the transaction commits), plus
    one probe for each failing destination whose `probe_at` has come. The items are the
    caller's until `lease` runs out (`renew` extends it); finishing them needs the token."""
    token = uuid.uuid4().hex
    until = now + lease
    ids = (
        []
        if limit <= 0
        else _claim_ids(session, token, until, now, limit, _due(now, kinds, threshold=probe_after))
    )
    for destination in _probes_due(session, now, until, probe_after):
        probe = _claim_ids(session, token, until, now, 1, _due(now, kinds, probe=destination))
        if not probe:
            # Nothing of ours to probe with (another kind, or all leased): leave it to others.
            session.execute(
                update(_DESTINATIONS)
                .where(_DESTINATIONS.c.destination == destination)
                .values(probe_at=now)
            )
        ids += probe
    rows = (
        session.scalars(
            select(OutboxRow).where(OutboxRow.lease_token == token).order_by(OutboxRow.id)
        ).all()
        if ids
        else []
    )
    items = [
        ItemToDeliver(
            id=row.id,
            kind=row.kind,
            payload=dict(row.payload),
            attempts=row.attempts,
            uncertain=row.uncertain,
            created_at=row.created_at,
            destination=row.destination,
        )
        for row in rows
    ]
    return Lease(token=token, until=until, items=items)


def _claim_ids(
    session: Session,
    token: str,
    until: datetime,
    now: datetime,
    limit: int,
    conditions: list[Any],
) -> list[int]:
    """Lease up to `limit` items matching `conditions`; the ids leased (on SQLite: [0] when
    something may have been, the caller reads them back by token)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        ids = list(
            session.scalars(
                select(OutboxRow.id)
                .where(*conditions)
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
        return ids
    candidates = (
        select(OutboxRow.id)
        .where(*conditions)
        .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
        .limit(limit)
        .scalar_subquery()
    )
    # One statement: the due condition is evaluated under SQLite's write lock.
    result = session.execute(
        update(OutboxRow)
        .where(OutboxRow.id.in_(candidates), *conditions)
        .values(**_lease_values(token, until))
        .execution_options(synchronize_session=False)
    )
    return [0] * int(getattr(result, "rowcount", 0) or 0)


def _probes_due(session: Session, now: datetime, until: datetime, threshold: int) -> list[str]:
    """Failing destinations whose probe time has come, each taken for this caller (its
    `probe_at` moves to the end of the lease, so no other worker probes it meanwhile)."""
    table = _DESTINATIONS
    due = session.scalars(
        select(table.c.destination).where(
            table.c.failures >= threshold,
            or_(table.c.probe_at.is_(None), table.c.probe_at <= now),
        )
    ).all()
    taken = []
    for destination in due:
        result = session.execute(
            update(table)
            .where(
                table.c.destination == destination,
                or_(table.c.probe_at.is_(None), table.c.probe_at <= now),
            )
            .values(probe_at=until)
        )
        if getattr(result, "rowcount", 0):
            taken.append(destination)
    return taken


def renew(session: Session, lease_token: str, item_ids: Sequence[int], until: datetime) -> int:
    """Extend the lease on items still being delivered; how many were still ours."""
    if not item_ids:
        return 0
    result = session.execute(
        update(_ITEMS)
        .where(
            _ITEMS.c.lease_token == lease_token,
            _ITEMS.c.id.in_(list(item_ids)),
            _ITEMS.c.status == PENDING,
        )
        .values(leased_until=until)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def release(session: Session, lease_token: str, item_ids: Sequence[int]) -> int:
    """Give back leased items that were not tried (their destination failed meanwhile): the
    claim's attempt is taken back and no attempt is logged."""
    if not item_ids:
        return 0
    result = session.execute(
        update(_ITEMS)
        .where(
            _ITEMS.c.lease_token == lease_token,
            _ITEMS.c.id.in_(list(item_ids)),
            _ITEMS.c.status == PENDING,
        )
        .values(lease_token=None, leased_until=None, attempts=_ITEMS.c.attempts - 1)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def destination_failed(
    session: Session,
    destination: str,
    *,
    now: datetime,
    error: str,
    probe_delay: Callable[[int], float],
) -> int:
    """Count a failure that says the receiver is unwell; the failures in a row now. The next
    probe is `probe_delay(failures)` seconds away (used once the destination is failing)."""
    table = _DESTINATIONS
    changed = session.execute(
        update(table)
        .where(table.c.destination == destination)
        .values(
            failures=table.c.failures + 1,
            last_failure_at=now,
            last_error=truncate(error, 500),
            failing_since=case((table.c.failing_since.is_(None), now), else_=table.c.failing_since),
        )
    )
    if not getattr(changed, "rowcount", 0):
        values = {
            "destination": destination,
            "failures": 1,
            "last_failure_at": now,
            "last_error": truncate(error, 500),
            "failing_since": now,
        }
        dialect = session.get_bind().dialect.name
        inserter = pg_insert if dialect == "postgresql" else sqlite_insert
        session.execute(
            inserter(table)
            .values(**values)
            .on_conflict_do_update(
                index_elements=[table.c.destination],
                set_={"failures": table.c.failures + 1, "last_failure_at": now},
            )
        )
    failures = int(
        session.scalar(select(table.c.failures).where(table.c.destination == destination)) or 1
    )
    session.execute(
        update(table)
        .where(table.c.destination == destination)
        .values(probe_at=now + timedelta(seconds=probe_delay(failures)))
    )
    return failures


def destination_succeeded(session: Session, destination: str, *, now: datetime) -> int:
    """A delivery to `destination` went through: if it had failures, it is healthy again and
    every item waiting for it is due now. How many items were released."""
    table = _DESTINATIONS
    changed = session.execute(
        update(table)
        .where(table.c.destination == destination, table.c.failures > 0)
        .values(failures=0, probe_at=None, failing_since=None, last_success_at=now)
    )
    if not getattr(changed, "rowcount", 0):
        return 0
    released = session.execute(
        update(_ITEMS)
        .where(
            _ITEMS.c.destination == destination,
            _ITEMS.c.status == PENDING,
            _ITEMS.c.next_attempt_at > now,
        )
        .values(next_attempt_at=now)
    )
    return int(getattr(released, "rowcount", 0) or 0)


def destinations(
    session: Session, probe_after: int = PROBE_AFTER_FAILURES
) -> list[DestinationHealth]:
    """Every destination with waiting items or a health record: depth, oldest, health."""
    waiting = {
        destination: (number, oldest)
        for destination, number, oldest in session.execute(
            select(_ITEMS.c.destination, func.count(), func.min(_ITEMS.c.created_at))
            .where(_ITEMS.c.status == PENDING)
            .group_by(_ITEMS.c.destination)
        ).all()
    }
    health = {row.destination: row for row in session.execute(select(_DESTINATIONS)).all()}
    found = []
    for name in sorted(set(waiting) | set(health)):
        number, oldest = waiting.get(name, (0, None))
        row = health.get(name)
        failures = int(row.failures) if row is not None else 0
        found.append(
            DestinationHealth(
                destination=name,
                pending=int(number),
                oldest_pending_at=_aware(oldest),
                failures=failures,
                failing=failures >= probe_after,
                probe_at=_aware(row.probe_at) if row is not None else None,
                last_error=row.last_error if row is not None else None,
            )
        )
    return found


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


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
_DESTINATIONS = cast(Table, DestinationRow.__table__)
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
        destination: str | None = None,
    ) -> int:
        return enqueue(
            self._session,
            kind,
            payload,
            now=now,
            supersede_key=supersede_key,
            destination=destination,
        )

    def claim(
        self,
        *,
        now: datetime,
        limit: int,
        lease: timedelta,
        kinds: Sequence[str] = (),
        probe_after: int = PROBE_AFTER_FAILURES,
    ) -> Lease:
        return claim(
            self._session, now=now, limit=limit, lease=lease, kinds=kinds, probe_after=probe_after
        )

    def renew(self, lease_token: str, item_ids: Sequence[int], until: datetime) -> int:
        return renew(self._session, lease_token, item_ids, until)

    def release(self, lease_token: str, item_ids: Sequence[int]) -> int:
        return release(self._session, lease_token, item_ids)

    def destination_failed(
        self, destination: str, *, now: datetime, error: str, probe_delay: Callable[[int], float]
    ) -> int:
        return destination_failed(
            self._session, destination, now=now, error=error, probe_delay=probe_delay
        )

    def destination_succeeded(self, destination: str, *, now: datetime) -> int:
        return destination_succeeded(self._session, destination, now=now)

    def destinations(self, probe_after: int = PROBE_AFTER_FAILURES) -> list[DestinationHealth]:
        return destinations(self._session, probe_after)

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
