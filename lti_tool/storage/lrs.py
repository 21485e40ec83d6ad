"""LRS connections: the default one and per-tenant ones, passwords stored encrypted (the
caller encrypts), each with the background sync's cursor."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.storage.models import LrsConnectionRow
from lti_tool.storage.records import LrsConnectionRecord, Tenant
from lti_tool.storage.settings_cache import SettingsCache


def _record(row: LrsConnectionRow) -> LrsConnectionRecord:
    return LrsConnectionRecord(
        id=row.id,
        tenant=Tenant(row.issuer, row.client_id),
        endpoint=row.endpoint,
        username=row.username,
        password_encrypted=row.password_encrypted,
        sync_cursor=row.sync_cursor,
    )


class LrsRepository:
    def __init__(self, session: Session, settings: SettingsCache) -> None:
        self._session = session
        self._settings = settings

    def _row(self, tenant: Tenant) -> LrsConnectionRow | None:
        return self._session.scalars(
            select(LrsConnectionRow).where(
                LrsConnectionRow.issuer == tenant.issuer,
                LrsConnectionRow.client_id == tenant.client_id,
            )
        ).first()

    def save(
        self,
        tenant: Tenant,
        endpoint: str,
        username: str,
        password_encrypted: str,
        now: datetime,
    ) -> LrsConnectionRecord:
        """Set the tenant's (or the default) LRS. Another endpoint is read from its start."""
        row = self._row(tenant)
        if row is None:
            row = LrsConnectionRow(issuer=tenant.issuer, client_id=tenant.client_id)
            self._session.add(row)
        elif row.endpoint != endpoint:
            row.sync_cursor = None
        row.endpoint, row.username = endpoint, username
        row.password_encrypted = password_encrypted
        row.updated_at = now
        self._session.flush()
        SettingsCache.changed(self._session)
        return _record(row)

    def for_tenant(self, tenant: Tenant) -> LrsConnectionRecord | None:
        """The tenant's own LRS, else the default one, else None. Kept for a few seconds
        (`settings_cache`), so its `sync_cursor` may be that old: the sync reads its cursor
        with `get`."""
        return self._settings.get(("lrs", tenant), lambda: self._for_tenant(tenant))

    def _for_tenant(self, tenant: Tenant) -> LrsConnectionRecord | None:
        rows = self._session.scalars(
            select(LrsConnectionRow).where(
                (
                    (LrsConnectionRow.issuer == tenant.issuer)
                    & (LrsConnectionRow.client_id == tenant.client_id)
                )
                | ((LrsConnectionRow.issuer == "") & (LrsConnectionRow.client_id == ""))
            )
        ).all()
        if not rows:
            return None
        return _record(min(rows, key=lambda r: r.issuer == ""))

    def get(self, connection_id: int) -> LrsConnectionRecord | None:
        row = self._session.get(LrsConnectionRow, connection_id)
        return _record(row) if row is not None else None

    def all(self) -> list[LrsConnectionRecord]:
        rows = self._session.scalars(select(LrsConnectionRow).order_by(LrsConnectionRow.id))
        return [_record(row) for row in rows]

    def save_cursor(self, connection_id: int, cursor: Mapping[str, Any]) -> None:
        row = self._session.get(LrsConnectionRow, connection_id)
        if row is not None:
            row.sync_cursor = dict(cursor)
            self._session.flush()
