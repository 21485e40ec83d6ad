"""The admin console's tables: local admin accounts and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.storage.models import AdminAccountRow, AuditRow
from lti_tool.storage.records import AdminAccountRecord, AuditRecord, Tenant


def _account(row: AdminAccountRow) -> AdminAccountRecord:
    return AdminAccountRecord(
        id=row.id,
        username=row.username,
        password_hash=row.password_hash,
        created_at=row.created_at,
        last_login_at=row.last_login_at,
    )


class AdminAccountRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def _row(self, username: str) -> AdminAccountRow | None:
        return self._session.scalars(
            select(AdminAccountRow).where(AdminAccountRow.username == username)
        ).first()

    def add(self, username: str, password_hash: str, now: datetime) -> AdminAccountRecord | None:
        """A new account; None when the username is taken."""
        if self._row(username) is not None:
            return None
        row = AdminAccountRow(username=username, password_hash=password_hash, created_at=now)
        self._session.add(row)
        try:
            self._session.flush()
        except IntegrityError:  # created by someone else meanwhile
            self._session.expunge(row)
            return None
        return _account(row)

    def find(self, username: str) -> AdminAccountRecord | None:
        row = self._row(username)
        return _account(row) if row is not None else None

    def set_password_hash(self, username: str, password_hash: str) -> bool:
        row = self._row(username)
        if row is None:
            return False
        row.password_hash = password_hash
        self._session.flush()
        return True

    def logged_in(self, username: str, now: datetime) -> None:
        row = self._row(username)
        if row is not None:
            row.last_login_at = now
            self._session.flush()

    def all(self) -> list[AdminAccountRecord]:
        rows = self._session.scalars(select(AdminAccountRow).order_by(AdminAccountRow.username))
        return [_account(row) for row in rows]


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def record(self, actor: str, tenant: Tenant, action: str, detail: str, now: datetime) -> None:
        self._session.add(
            AuditRow(
                at=now,
                actor=actor[:300],
                issuer=tenant.issuer,
                client_id=tenant.client_id,
                action=action[:100],
                detail=detail,
            )
        )
        self._session.flush()

    def recent(self, tenant: Tenant | None = None, limit: int = 100) -> list[AuditRecord]:
        """Newest first; only the tenant's entries when one is given."""
        query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if tenant is not None:
            query = query.where(
                AuditRow.issuer == tenant.issuer, AuditRow.client_id == tenant.client_id
            )
        return [
            AuditRecord(
                id=row.id,
                at=row.at,
                actor=row.actor,
                tenant=Tenant(row.issuer, row.client_id),
                action=row.action,
                detail=row.detail,
            )
            for row in self._session.scalars(query)
        ]
