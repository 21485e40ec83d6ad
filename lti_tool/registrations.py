"""Platform registrations and their deployments: the repository, and the pylti1p3
`ToolConfAbstract` that reads them from the database (no JSON config file)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration as LtiRegistration
from pylti1p3.tool_config import ToolConfAbstract
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from lti_tool.db import Database
from lti_tool.errors import ConfigurationError
from lti_tool.models import Deployment, PlatformRegistration
from lti_tool.tool_keys import SigningKey


@dataclass(frozen=True)
class RegistrationInput:
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    keyset_url: str
    deployments: Sequence[str] = ()
    name: str = ""
    auth_audience: str | None = None


def _require_url(field: str, value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"{field} must be an absolute http(s) URL, got {value!r}")


def add_registration(session: Session, data: RegistrationInput) -> PlatformRegistration:
    if not data.issuer.strip():
        raise ConfigurationError("issuer must not be empty")
    if not data.client_id.strip():
        raise ConfigurationError("client_id must not be empty")
    for field in ("auth_login_url", "auth_token_url", "keyset_url"):
        _require_url(field.replace("_", "-"), getattr(data, field))
    if find_registration(session, data.issuer, data.client_id) is not None:
        raise ConfigurationError(
            f"a platform with issuer {data.issuer!r} and client id {data.client_id!r} "
            "is already registered"
        )
    registration = PlatformRegistration(
        issuer=data.issuer,
        client_id=data.client_id,
        name=data.name or urlsplit(data.issuer).netloc or data.issuer,
        auth_login_url=data.auth_login_url,
        auth_token_url=data.auth_token_url,
        auth_audience=data.auth_audience,
        keyset_url=data.keyset_url,
        deployments=[Deployment(deployment_id=d) for d in dict.fromkeys(data.deployments)],
    )
    session.add(registration)
    try:
        session.flush()
    except IntegrityError:
        raise ConfigurationError("that platform is already registered") from None
    return registration


def find_registration(session: Session, issuer: str, client_id: str) -> PlatformRegistration | None:
    return session.scalars(
        select(PlatformRegistration)
        .options(selectinload(PlatformRegistration.deployments))
        .where(PlatformRegistration.issuer == issuer, PlatformRegistration.client_id == client_id)
    ).first()


def registrations_of_issuer(session: Session, issuer: str) -> list[PlatformRegistration]:
    return list(
        session.scalars(select(PlatformRegistration).where(PlatformRegistration.issuer == issuer))
    )


def list_registrations(session: Session) -> list[PlatformRegistration]:
    return list(
        session.scalars(
            select(PlatformRegistration)
            .options(selectinload(PlatformRegistration.deployments))
            .order_by(PlatformRegistration.id)
        )
    )


def remove_registration(session: Session, issuer: str, client_id: str) -> None:
    registration = find_registration(session, issuer, client_id)
    if registration is None:
        raise ConfigurationError(
            f"no platform with issuer {issuer!r} and client id {client_id!r} is registered"
        )
    session.delete(registration)


def add_deployment(session: Session, issuer: str, client_id: str, deployment_id: str) -> Deployment:
    if not deployment_id.strip():
        raise ConfigurationError("deployment id must not be empty")
    registration = find_registration(session, issuer, client_id)
    if registration is None:
        raise ConfigurationError(
            f"no platform with issuer {issuer!r} and client id {client_id!r} is registered: "
            "add it first with `skillpath platform add`"
        )
    if any(d.deployment_id == deployment_id for d in registration.deployments):
        raise ConfigurationError(f"deployment {deployment_id!r} is already registered")
    deployment = Deployment(deployment_id=deployment_id)
    registration.deployments.append(deployment)
    session.flush()
    return deployment


class SkillpathRegistration(LtiRegistration):
    """A pylti1p3 registration whose tool key is loaded only when a service needs it."""

    def __init__(self, load_signing_key: Callable[[], SigningKey]) -> None:
        super().__init__()
        self._load_signing_key = load_signing_key
        self._signing_key: SigningKey | None = None

    def _key(self) -> SigningKey:
        if self._signing_key is None:
            self._signing_key = self._load_signing_key()
        return self._signing_key

    def get_tool_private_key(self) -> str:
        return self._key().private_key_pem

    def get_kid(self) -> str:
        return self._key().kid


class DatabaseToolConf(ToolConfAbstract[Any]):
    """Registrations for pylti1p3, read from our tables. One issuer may have many client ids.

    Every login and launch looks registrations up, so these are single Core queries rather
    than ORM loads."""

    _COLUMNS = (
        PlatformRegistration.issuer,
        PlatformRegistration.client_id,
        PlatformRegistration.auth_login_url,
        PlatformRegistration.auth_token_url,
        PlatformRegistration.keyset_url,
        PlatformRegistration.auth_audience,
    )

    # Built once: constructing a statement costs more than running it on SQLite.
    _BY_ISSUER = select(*_COLUMNS).where(PlatformRegistration.issuer == bindparam("iss")).limit(2)
    _BY_ISSUER_AND_CLIENT = select(*_COLUMNS).where(
        PlatformRegistration.issuer == bindparam("iss"),
        PlatformRegistration.client_id == bindparam("client_id"),
    )
    _DEPLOYMENT = (
        select(Deployment.id)
        .join(PlatformRegistration)
        .where(
            PlatformRegistration.issuer == bindparam("iss"),
            PlatformRegistration.client_id == bindparam("client_id"),
            Deployment.deployment_id == bindparam("deployment_id"),
        )
    )

    def __init__(self, database: Database, load_signing_key: Callable[[], SigningKey]) -> None:
        self._db = database
        self._load_signing_key = load_signing_key
        self.issuers_relation_types = _ManyClientsPerIssuer()

    def _to_lti(self, row: Any) -> SkillpathRegistration:
        registration = SkillpathRegistration(self._load_signing_key)
        registration.set_issuer(row.issuer).set_client_id(row.client_id)
        registration.set_auth_login_url(row.auth_login_url).set_auth_token_url(row.auth_token_url)
        registration.set_key_set_url(row.keyset_url)
        if row.auth_audience:
            registration.set_auth_audience(row.auth_audience)
        return registration

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> LtiRegistration:
        with self._db.engine.connect() as connection:
            rows = connection.execute(self._BY_ISSUER, {"iss": iss}).all()
        if len(rows) != 1:
            return None  # type: ignore[return-value]
        return self._to_lti(rows[0])

    def find_registration_by_params(
        self, iss: str, client_id: str, *args: Any, **kwargs: Any
    ) -> LtiRegistration:
        if not client_id:
            return self.find_registration_by_issuer(iss)
        with self._db.engine.connect() as connection:
            row = connection.execute(
                self._BY_ISSUER_AND_CLIENT, {"iss": iss, "client_id": client_id}
            ).first()
        return self._to_lti(row) if row else None  # type: ignore[return-value]

    def find_deployment(self, iss: str, deployment_id: str) -> LtiDeployment | None:
        raise NotImplementedError("Skillpath always looks deployments up with the client id")

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> LtiDeployment | None:
        with self._db.engine.connect() as connection:
            found = connection.execute(
                self._DEPLOYMENT,
                {"iss": iss, "client_id": client_id, "deployment_id": deployment_id},
            ).first()
        if found is None:
            return None
        return LtiDeployment().set_deployment_id(deployment_id)


class _ManyClientsPerIssuer(dict[str, str]):
    """Every issuer may have several client ids (Canvas: one issuer for all instances)."""

    def get(self, key: str, default: Any = None) -> str:  # type: ignore[override]
        return "one-issuer-many-client-ids"
