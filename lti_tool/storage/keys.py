"""The tool's own RSA keys (private keys stored encrypted by the caller)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.storage.models import ToolKeyRow
from lti_tool.storage.records import ToolKeyRecord


def _record(row: ToolKeyRow) -> ToolKeyRecord:
    return ToolKeyRecord(
        kid=row.kid,
        private_key_encrypted=row.private_key_encrypted,
        public_jwk=row.public_jwk,
        created_at=row.created_at,
        retired_at=row.retired_at,
        publish_until=row.publish_until,
    )


class ToolKeyRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(
        self, kid: str, private_key_encrypted: str, public_jwk: Mapping[str, Any], now: datetime
    ) -> ToolKeyRecord:
        row = ToolKeyRow(
            kid=kid,
            private_key_encrypted=private_key_encrypted,
            public_jwk=dict(public_jwk),
            created_at=now,
        )
        self._session.add(row)
        self._session.flush()
        return _record(row)

    def current(self) -> ToolKeyRecord | None:
        """The newest key that is not retired."""
        row = self._session.scalars(
            select(ToolKeyRow)
            .where(ToolKeyRow.retired_at.is_(None))
            .order_by(ToolKeyRow.created_at.desc())
        ).first()
        return _record(row) if row is not None else None

    def retire_current(self, now: datetime, publish_until: datetime) -> None:
        for row in self._session.scalars(select(ToolKeyRow).where(ToolKeyRow.retired_at.is_(None))):
            row.retired_at = now
            row.publish_until = publish_until
        self._session.flush()

    def all(self) -> list[ToolKeyRecord]:
        """Every key, newest first."""
        rows = self._session.scalars(select(ToolKeyRow).order_by(ToolKeyRow.created_at.desc()))
        return [_record(row) for row in rows]
