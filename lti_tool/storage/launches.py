"""Validated launches, looked up by launch id (the session names one)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, bindparam, delete, insert, select
from sqlalchemy.orm import Session

from lti_tool.storage.models import LaunchRow
from lti_tool.storage.records import LaunchRecord, Tenant

# On the table, not the ORM class: the ORM's bulk machinery costs more than the insert.
_INSERT = insert(cast(Table, LaunchRow.__table__))
_BY_ID = select(LaunchRow).where(LaunchRow.id == bindparam("id"))


class LaunchRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, launch: LaunchRecord) -> None:
        self._session.execute(
            _INSERT,
            {
                "id": launch.id,
                "issuer": launch.issuer,
                "client_id": launch.client_id,
                "deployment_id": launch.deployment_id,
                "message_type": launch.message_type,
                "subject": launch.subject,
                "role": launch.role,
                "user_name": launch.user_name,
                "context_id": launch.context_id,
                "context_title": launch.context_title,
                "resource_link_id": launch.resource_link_id,
                "resource_link_title": launch.resource_link_title,
                "claims": dict(launch.claims),
                "created_at": launch.created_at,
            },
        )

    def get(self, launch_id: str) -> LaunchRecord | None:
        row = self._session.scalars(_BY_ID, {"id": launch_id}).first()
        if row is None:
            return None
        return LaunchRecord(
            id=row.id,
            issuer=row.issuer,
            client_id=row.client_id,
            deployment_id=row.deployment_id,
            message_type=row.message_type,
            subject=row.subject,
            role=row.role,
            user_name=row.user_name,
            context_id=row.context_id,
            context_title=row.context_title,
            resource_link_id=row.resource_link_id,
            resource_link_title=row.resource_link_title,
            claims=row.claims,
            created_at=row.created_at,
        )

    def forget_tenant(self, tenant: Tenant) -> int:
        """Delete every launch of the tenant (its sessions then name nothing)."""
        result = self._session.execute(
            delete(LaunchRow).where(
                LaunchRow.issuer == tenant.issuer, LaunchRow.client_id == tenant.client_id
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)
