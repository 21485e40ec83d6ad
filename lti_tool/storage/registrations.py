"""Platform registrations and their deployments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from lti_tool.errors import DuplicateRegistration
from lti_tool.storage.models import (
    REGISTRATION_ACTIVE,
    REGISTRATION_STATUSES,
    DeploymentRow,
    LearnerRow,
    RegistrationRow,
)
from lti_tool.storage.records import RegistrationRecord, Tenant
from lti_tool.storage.settings_cache import SettingsCache


def _record(row: RegistrationRow) -> RegistrationRecord:
    return RegistrationRecord(
        id=row.id,
        issuer=row.issuer,
        client_id=row.client_id,
        name=row.name,
        auth_login_url=row.auth_login_url,
        auth_token_url=row.auth_token_url,
        auth_audience=row.auth_audience,
        keyset_url=row.keyset_url,
        deployments=tuple(d.deployment_id for d in row.deployments),
        xapi_identity=row.xapi_identity,
        created_at=row.created_at,
        status=row.status,
        source=row.source,
        product_family_code=row.product_family_code,
    )


# The launch path asks these once or twice per launch: Core statements, built once.
_COLUMNS = (
    RegistrationRow.issuer,
    RegistrationRow.client_id,
    RegistrationRow.auth_login_url,
    RegistrationRow.auth_token_url,
    RegistrationRow.auth_audience,
    RegistrationRow.keyset_url,
    RegistrationRow.status,
    RegistrationRow.product_family_code,
)
_BY_ISSUER = select(*_COLUMNS).where(RegistrationRow.issuer == bindparam("iss")).limit(2)
_BY_TENANT = select(*_COLUMNS).where(
    RegistrationRow.issuer == bindparam("iss"),
    RegistrationRow.client_id == bindparam("client_id"),
)
# A launch's registration and whether its deployment is one of it, in one query.
_WITH_DEPLOYMENT = select(
    *_COLUMNS,
    exists(
        select(DeploymentRow.id).where(
            DeploymentRow.registration_id == RegistrationRow.id,
            DeploymentRow.deployment_id == bindparam("deployment_id"),
        )
    ).label("has_deployment"),
).where(
    RegistrationRow.issuer == bindparam("iss"),
    RegistrationRow.client_id == bindparam("client_id"),
)
_DEPLOYMENT = (
    select(DeploymentRow.id)
    .join(RegistrationRow)
    .where(
        RegistrationRow.issuer == bindparam("iss"),
        RegistrationRow.client_id == bindparam("client_id"),
        DeploymentRow.deployment_id == bindparam("deployment_id"),
    )
)


class RegistrationRepository:
    def __init__(self, session: Session, settings: SettingsCache) -> None:
        self._session = session
        self._settings = settings

    def _row(self, tenant: Tenant) -> RegistrationRow | None:
        return self._session.scalars(
            select(RegistrationRow)
            .options(selectinload(RegistrationRow.deployments))
            .where(
                RegistrationRow.issuer == tenant.issuer,
                RegistrationRow.client_id == tenant.client_id,
            )
        ).first()

    def add(
        self,
        tenant: Tenant,
        *,
        name: str,
        auth_login_url: str,
        auth_token_url: str,
        keyset_url: str,
        auth_audience: str | None,
        deployments: Sequence[str],
        now: datetime,
        status: str = REGISTRATION_ACTIVE,
        source: str = "manual",
        product_family_code: str | None = None,
    ) -> RegistrationRecord:
        """Store a new registration; `DuplicateRegistration` when the tenant exists."""
        if status not in REGISTRATION_STATUSES:
            raise ValueError(f"unknown registration status {status!r}")
        row = RegistrationRow(
            issuer=tenant.issuer,
            client_id=tenant.client_id,
            name=name,
            auth_login_url=auth_login_url,
            auth_token_url=auth_token_url,
            auth_audience=auth_audience,
            keyset_url=keyset_url,
            created_at=now,
            status=status,
            source=source,
            product_family_code=product_family_code,
            deployments=[
                DeploymentRow(deployment_id=d, created_at=now) for d in dict.fromkeys(deployments)
            ],
        )
        if self._row(tenant) is not None:
            raise DuplicateRegistration()
        self._session.add(row)
        try:
            self._session.flush()
            SettingsCache.changed(self._session)
        except IntegrityError:  # registered by someone else meanwhile
            self._session.expunge(row)
            raise DuplicateRegistration() from None
        return _record(row)

    def find(self, tenant: Tenant) -> RegistrationRecord | None:
        row = self._row(tenant)
        return _record(row) if row is not None else None

    def get(self, registration_id: int) -> RegistrationRecord | None:
        row = self._session.get(RegistrationRow, registration_id)
        return _record(row) if row is not None else None

    def set_status(self, tenant: Tenant, status: str) -> bool:
        """Approve (`active`), disable or re-enable; False when the registration is gone."""
        if status not in REGISTRATION_STATUSES:
            raise ValueError(f"unknown registration status {status!r}")
        row = self._row(tenant)
        if row is None:
            return False
        row.status = status
        self._session.flush()
        SettingsCache.changed(self._session)
        return True

    def set_product_family(self, tenant: Tenant, code: str | None) -> bool:
        row = self._row(tenant)
        if row is None:
            return False
        row.product_family_code = code or None
        self._session.flush()
        SettingsCache.changed(self._session)
        return True

    def all(self) -> list[RegistrationRecord]:
        rows = self._session.scalars(
            select(RegistrationRow)
            .options(selectinload(RegistrationRow.deployments))
            .order_by(RegistrationRow.id)
        )
        return [_record(row) for row in rows]

    def login_urls(self, tenant: Tenant | None = None) -> list[tuple[str, str]]:
        """(issuer, auth_login_url) of the tenant's registration, or of every registration
        with None: the two addresses a platform shows Skillpath's pages from. Two columns,
        no ORM objects, kept for a few seconds (`settings_cache`): every page's security
        headers read it."""
        return list(self._settings.get(("login_urls", tenant), lambda: self._login_urls(tenant)))

    def _login_urls(self, tenant: Tenant | None) -> tuple[tuple[str, str], ...]:
        query = select(RegistrationRow.issuer, RegistrationRow.auth_login_url)
        if tenant is not None:
            query = query.where(
                RegistrationRow.issuer == tenant.issuer,
                RegistrationRow.client_id == tenant.client_id,
            )
        rows = self._session.execute(query.order_by(RegistrationRow.id))
        return tuple((issuer, login_url) for issuer, login_url in rows)

    def tenants(self) -> set[Tenant]:
        return {
            Tenant(issuer, client_id)
            for issuer, client_id in self._session.execute(
                select(RegistrationRow.issuer, RegistrationRow.client_id)
            )
        }

    def remove(self, tenant: Tenant) -> bool:
        row = self._row(tenant)
        if row is None:
            return False
        self._session.delete(row)
        self._session.flush()
        SettingsCache.changed(self._session)
        return True

    def add_deployment(self, tenant: Tenant, deployment_id: str, now: datetime) -> bool:
        """Add a deployment id; False when the registration does not exist."""
        row = self._row(tenant)
        if row is None:
            return False
        row.deployments.append(DeploymentRow(deployment_id=deployment_id, created_at=now))
        self._session.flush()
        SettingsCache.changed(self._session)
        return True

    def remove_deployment(self, tenant: Tenant, deployment_id: str) -> bool:
        """Remove one deployment id; False when there is no such deployment."""
        row = self._row(tenant)
        found = (
            next((d for d in row.deployments if d.deployment_id == deployment_id), None)
            if row
            else None
        )
        if row is None or found is None:
            return False
        row.deployments.remove(found)
        self._session.flush()
        SettingsCache.changed(self._session)
        return True

    def set_identity(self, tenant: Tenant, identity: Mapping[str, Any] | None) -> bool:
        """Store how the tenant's learners are named in xAPI (None: the default)."""
        row = self._row(tenant)
        if row is None:
            return False
        row.xapi_identity = dict(identity) if identity is not None else None
        if identity is None or identity.get("mode") != "mbox":
            # Emails were kept only to name learners by mailbox: not needed, not kept.
            self._session.execute(
                update(LearnerRow)
                .where(LearnerRow.issuer == tenant.issuer, LearnerRow.client_id == tenant.client_id)
                .values(email=None)
            )
        self._session.flush()
        SettingsCache.changed(self._session)
        return True

    def identity(self, tenant: Tenant) -> Mapping[str, Any] | None:
        return self._session.scalars(
            select(RegistrationRow.xapi_identity).where(
                RegistrationRow.issuer == tenant.issuer,
                RegistrationRow.client_id == tenant.client_id,
            )
        ).first()

    # -- the launch path (pylti1p3's tool configuration): plain rows --------------------------

    def lookup_by_issuer(self, issuer: str) -> list[Any]:
        """At most two registrations of `issuer` (one means the issuer is unambiguous)."""
        return list(self._session.execute(_BY_ISSUER, {"iss": issuer}).all())

    def lookup(self, tenant: Tenant) -> Any | None:
        return self._session.execute(
            _BY_TENANT, {"iss": tenant.issuer, "client_id": tenant.client_id}
        ).first()

    def lookup_with_deployment(self, tenant: Tenant, deployment_id: str) -> Any | None:
        """`lookup`, and in the same query whether `deployment_id` is one of the registration's
        deployments (the row's `has_deployment`)."""
        return self._session.execute(
            _WITH_DEPLOYMENT,
            {"iss": tenant.issuer, "client_id": tenant.client_id, "deployment_id": deployment_id},
        ).first()

    def has_deployment(self, tenant: Tenant, deployment_id: str) -> bool:
        found = self._session.execute(
            _DEPLOYMENT,
            {"iss": tenant.issuer, "client_id": tenant.client_id, "deployment_id": deployment_id},
        ).first()
        return found is not None
