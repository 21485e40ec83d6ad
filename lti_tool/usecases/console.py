"""What the admin console shows: the registrations an admin may see, one registration (or
the defaults) with its deployments, catalog and LRS, and the LRS checked before it is saved.

Secrets never come back out: an LRS is shown by its endpoint and username, and its password
only as "set".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from lti_tool.errors import ConfigurationError, NotFound
from lti_tool.lrs.gateway import LrsProbe
from lti_tool.storage import AuditRecord, RegistrationRecord, Tenant
from lti_tool.usecases import admin
from lti_tool.usecases.audit import AdminActor, record
from lti_tool.usecases.outbox import OutboxCounts
from lti_tool.usecases.ports import Ports

DEFAULT_KEY = "default"


@dataclass(frozen=True)
class CatalogSummary:
    competencies: int
    lessons: int
    pathways: tuple[str, ...]


@dataclass(frozen=True)
class LrsSummary:
    endpoint: str
    username: str
    updated_at: datetime | None


@dataclass(frozen=True)
class TenantView:
    """One registration (or, with `registration` None, the defaults every registration
    without its own uses)."""

    key: str
    tenant: Tenant
    registration: RegistrationRecord | None
    catalog: CatalogSummary | None
    lrs: LrsSummary | None
    audit: list[AuditRecord]

    @property
    def title(self) -> str:
        return self.registration.name if self.registration else "Defaults for every registration"


@dataclass(frozen=True)
class Overview:
    registrations: list[RegistrationRecord]
    pending: list[RegistrationRecord]
    outbox: OutboxCounts


def overview(ports: Ports, actor: AdminActor) -> Overview:
    registrations = admin.list_platforms(ports, actor)
    with ports.storage.transaction() as tx:
        counts = tx.outbox.counts((), actor.tenant)
    return Overview(
        registrations=registrations,
        pending=[r for r in registrations if r.status == "pending"],
        outbox=counts,
    )


def resolve(ports: Ports, actor: AdminActor, key: str) -> tuple[Tenant, RegistrationRecord | None]:
    """The tenant a console address names (`default` or a registration's id), if the actor
    may manage it; 404 otherwise, so an LMS's administrator learns nothing of the others."""
    if key == DEFAULT_KEY:
        if not actor.sees_everything:
            raise NotFound("No such registration.")
        return Tenant.DEFAULT, None
    if not key.isdigit():
        raise NotFound("No such registration.")
    with ports.storage.transaction() as tx:
        found = tx.registrations.get(int(key))
    if found is None or not actor.may_manage(found.tenant):
        raise NotFound("No such registration.")
    return found.tenant, found


def tenant_view(ports: Ports, actor: AdminActor, key: str) -> TenantView:
    tenant, registration = resolve(ports, actor, key)
    with ports.storage.transaction() as tx:
        document = tx.catalogs.document(tenant)
        connection = tx.lrs.for_tenant(tenant)
        audit = tx.audit.recent(tenant, 20)
    catalog = None
    if document is not None:
        catalog = CatalogSummary(
            competencies=len(document.get("competencies") or []),
            lessons=len(document.get("lessons") or []),
            pathways=tuple(
                str(p.get("title") or p.get("id"))
                for p in document.get("pathways") or []
                if isinstance(p, dict)
            ),
        )
    lrs = None
    if connection is not None and connection.tenant == tenant:
        lrs = LrsSummary(connection.endpoint, connection.username, None)
    return TenantView(key, tenant, registration, catalog, lrs, audit)


def _stored_password(ports: Ports, tenant: Tenant, endpoint: str, username: str) -> str | None:
    """The saved password of this very connection (same endpoint and username), so an
    admin need not type it again to test or keep it."""
    with ports.storage.transaction() as tx:
        found = tx.lrs.for_tenant(tenant)
    if found is None or found.tenant != tenant:
        return None
    if (found.endpoint.rstrip("/"), found.username) != (endpoint.rstrip("/"), username):
        return None
    return ports.box.decrypt(found.password_encrypted).decode()


def _lrs_input(endpoint: str, username: str) -> tuple[str, str]:
    endpoint, username = endpoint.strip(), username.strip()
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError("The LRS endpoint must be an absolute http(s) URL.")
    if not username:
        raise ConfigurationError("The LRS username must not be empty.")
    return endpoint, username


def test_lrs(
    ports: Ports, actor: AdminActor, key: str, endpoint: str, username: str, password: str
) -> LrsProbe:
    """Try the LRS an admin typed in (the saved password when none is typed and the
    connection is the saved one); nothing is saved."""
    tenant, _ = resolve(ports, actor, key)
    endpoint, username = _lrs_input(endpoint, username)
    secret = password or _stored_password(ports, tenant, endpoint, username)
    if not secret:
        raise ConfigurationError("Type the LRS password (it is not shown once saved).")
    probe = ports.lrs.probe(endpoint, username, secret)
    with ports.storage.transaction() as tx:
        record(
            tx,
            ports,
            actor,
            tenant,
            "lrs.test",
            f"tested {endpoint} as {username}: {'connected' if probe.ok else probe.message}",
        )
    return probe


def save_lrs(
    ports: Ports, actor: AdminActor, key: str, endpoint: str, username: str, password: str
) -> None:
    tenant, _ = resolve(ports, actor, key)
    endpoint, username = _lrs_input(endpoint, username)
    secret = password or _stored_password(ports, tenant, endpoint, username)
    if not secret:
        raise ConfigurationError("Type the LRS password (it is not shown once saved).")
    admin.set_lrs(ports, endpoint, username, secret, tenant, actor)
