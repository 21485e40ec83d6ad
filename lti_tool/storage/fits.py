"""Fits of the learner model per tenant, versioned; the newest active one is in use."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lti_tool.storage.models import ModelFitRow
from lti_tool.storage.records import ModelFitRecord, Tenant
from lti_tool.storage.settings_cache import SettingsCache


def _record(row: ModelFitRow) -> ModelFitRecord:
    return ModelFitRecord(
        id=row.id,
        tenant=Tenant(row.issuer, row.client_id),
        version=row.version,
        catalog_digest=row.catalog_digest,
        params=row.params,
        report=row.report,
        active=row.active,
        verdict=row.verdict,
        evidence_seen=row.evidence_seen,
        created_at=row.created_at,
    )


def _of(tenant: Tenant) -> tuple[Any, ...]:
    return (ModelFitRow.issuer == tenant.issuer, ModelFitRow.client_id == tenant.client_id)


class ModelFitRepository:
    def __init__(self, session: Session, settings: SettingsCache) -> None:
        self._session = session
        self._settings = settings

    def add(
        self,
        tenant: Tenant,
        *,
        catalog_digest: str,
        params: Mapping[str, Any],
        report: Mapping[str, Any],
        active: bool,
        verdict: str,
        evidence_seen: int,
        now: datetime,
    ) -> ModelFitRecord:
        """Store a fit as the tenant's next version; an active one retires the one before."""
        version = (
            self._session.scalar(select(func.max(ModelFitRow.version)).where(*_of(tenant))) or 0
        ) + 1
        if active:
            self._session.execute(
                update(ModelFitRow).where(*_of(tenant), ModelFitRow.active).values(active=False)
            )
        row = ModelFitRow(
            issuer=tenant.issuer,
            client_id=tenant.client_id,
            version=version,
            catalog_digest=catalog_digest,
            params=dict(params),
            report=dict(report),
            active=active,
            verdict=verdict,
            evidence_seen=evidence_seen,
            created_at=now,
        )
        self._session.add(row)
        self._session.flush()
        SettingsCache.changed(self._session)
        return _record(row)

    def current(self, tenant: Tenant) -> ModelFitRecord | None:
        """The fit in use for the tenant, or None (the priors)."""
        row = self._session.scalars(
            select(ModelFitRow)
            .where(*_of(tenant), ModelFitRow.active)
            .order_by(ModelFitRow.version.desc())
        ).first()
        return _record(row) if row is not None else None

    def current_key(self, tenant: Tenant) -> tuple[int, datetime] | None:
        """The id and creation time of the fit in use, or None (the priors): a stored fit
        never changes, so these name its parameters (`params_of`) for a cache. Kept for a few
        seconds (`settings_cache`)."""
        return self._settings.get(("fit", tenant), lambda: self._current_key(tenant))

    def _current_key(self, tenant: Tenant) -> tuple[int, datetime] | None:
        found = self._session.execute(
            select(ModelFitRow.id, ModelFitRow.created_at)
            .where(*_of(tenant), ModelFitRow.active)
            .order_by(ModelFitRow.version.desc())
            .limit(1)
        ).first()
        return (found[0], found[1]) if found is not None else None

    def params_of(self, fit_id: int) -> dict[str, Any]:
        """The parameters of one stored fit."""
        return dict(
            self._session.execute(
                select(ModelFitRow.params).where(ModelFitRow.id == fit_id)
            ).scalar_one()
        )

    def latest(self, tenant: Tenant) -> ModelFitRecord | None:
        """The newest fit, switched on or not."""
        row = self._session.scalars(
            select(ModelFitRow).where(*_of(tenant)).order_by(ModelFitRow.version.desc())
        ).first()
        return _record(row) if row is not None else None

    def history(self, tenant: Tenant, limit: int = 20) -> list[ModelFitRecord]:
        """The tenant's fits, newest first."""
        rows = self._session.scalars(
            select(ModelFitRow)
            .where(*_of(tenant))
            .order_by(ModelFitRow.version.desc())
            .limit(limit)
        )
        return [_record(row) for row in rows]
