"""Platform registrations and their deployments: the checks an admin's input goes through,
and the pylti1p3 `ToolConfAbstract` that reads registrations from storage (no JSON config file).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration as LtiRegistration
from pylti1p3.tool_config import ToolConfAbstract

from lti_tool.errors import ConfigurationError, DuplicateRegistration, UnknownRegistration
from lti_tool.inputs import IDENTIFIER_LENGTH, text_problem
from lti_tool.lti.tool_keys import SigningKey
from lti_tool.lti.vocabulary import DEPLOYMENT_ID_CLAIM
from lti_tool.storage import (
    REGISTRATION_ACTIVE,
    RegistrationRecord,
    Storage,
    Tenant,
    Transaction,
)


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
    product_family_code: str | None = None

    @property
    def tenant(self) -> Tenant:
        return Tenant(self.issuer, self.client_id)


# The columns of a registration (`lti_tool/storage/models.py`).
URL_LENGTH = 1000
NAME_LENGTH = 200


def require_text(label: str, value: str, limit: int | None) -> None:
    """An admin's value must be text the registration's column can hold."""
    problem = text_problem(value, limit)
    if problem:
        raise ConfigurationError(f"{label} {problem}")


def check_tenant(tenant: Tenant) -> None:
    """The issuer and client id an admin names must be text a registration could hold
    (checked before they are looked up)."""
    require_text("issuer", tenant.issuer, IDENTIFIER_LENGTH)
    require_text("client id", tenant.client_id, IDENTIFIER_LENGTH)


def _require_url(field: str, value: str) -> None:
    require_text(field, value, URL_LENGTH)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"{field} must be an absolute http(s) URL, got {value!r}")


def _unknown(tenant: Tenant, hint: str = "") -> UnknownRegistration:
    return UnknownRegistration(
        f"no platform with issuer {tenant.issuer!r} and client id {tenant.client_id!r} is "
        "registered" + hint
    )


def add_registration(
    tx: Transaction,
    data: RegistrationInput,
    now: datetime,
    *,
    status: str = REGISTRATION_ACTIVE,
    source: str = "manual",
) -> RegistrationRecord:
    if not data.issuer.strip():
        raise ConfigurationError("issuer must not be empty")
    if not data.client_id.strip():
        raise ConfigurationError("client_id must not be empty")
    check_tenant(data.tenant)
    require_text("name", data.name, NAME_LENGTH)
    for deployment_id in data.deployments:
        require_text("deployment id", deployment_id, IDENTIFIER_LENGTH)
    if data.auth_audience:
        require_text("auth-audience", data.auth_audience, URL_LENGTH)
    for field in ("auth_login_url", "auth_token_url", "keyset_url"):
        _require_url(field.replace("_", "-"), getattr(data, field))
    try:
        return tx.registrations.add(
            data.tenant,
            name=data.name or urlsplit(data.issuer).netloc or data.issuer,
            auth_login_url=data.auth_login_url,
            auth_token_url=data.auth_token_url,
            keyset_url=data.keyset_url,
            auth_audience=data.auth_audience,
            deployments=data.deployments,
            now=now,
            status=status,
            source=source,
            product_family_code=data.product_family_code,
        )
    except DuplicateRegistration:
        raise DuplicateRegistration(
            f"a platform with issuer {data.issuer!r} and client id {data.client_id!r} "
            "is already registered"
        ) from None


def find_registration(tx: Transaction, tenant: Tenant) -> RegistrationRecord | None:
    return tx.registrations.find(tenant)


def require_registration(tx: Transaction, tenant: Tenant) -> RegistrationRecord:
    check_tenant(tenant)
    found = tx.registrations.find(tenant)
    if found is None:
        raise _unknown(tenant)
    return found


def list_registrations(tx: Transaction) -> list[RegistrationRecord]:
    return tx.registrations.all()


def remove_registration(tx: Transaction, tenant: Tenant) -> None:
    """Remove the registration and end its sessions: its launches are forgotten, so a session
    token of that platform names nothing any more."""
    check_tenant(tenant)
    if not tx.registrations.remove(tenant):
        raise _unknown(tenant)
    tx.launches.forget_tenant(tenant)


def add_deployment(tx: Transaction, tenant: Tenant, deployment_id: str, now: datetime) -> None:
    if not deployment_id.strip():
        raise ConfigurationError("deployment id must not be empty")
    check_tenant(tenant)
    require_text("deployment id", deployment_id, IDENTIFIER_LENGTH)
    registration = tx.registrations.find(tenant)
    if registration is None:
        raise _unknown(tenant, ": add it first with `skillpath platform add`")
    if deployment_id in registration.deployments:
        raise ConfigurationError(f"deployment {deployment_id!r} is already registered")
    tx.registrations.add_deployment(tenant, deployment_id, now)


class SkillpathRegistration(LtiRegistration):
    """A pylti1p3 registration whose tool key is loaded only when a service needs it."""

    def __init__(
        self,
        load_signing_key: Callable[[], SigningKey],
        status: str = REGISTRATION_ACTIVE,
        product_family: str | None = None,
    ) -> None:
        super().__init__()
        self._load_signing_key = load_signing_key
        self._signing_key: SigningKey | None = None
        # `active`, `pending` (waits for an admin's approval) or `disabled`: only an active
        # registration may log in and launch.
        self.status = status
        # The LMS the registration says it is, for launches that do not say.
        self.product_family = product_family
        # The launch's deployment id when the query that found this registration for a
        # launch also found the deployment (`find_registration_by_params`); None otherwise.
        self.deployment_found: str | None = None

    def _key(self) -> SigningKey:
        if self._signing_key is None:
            self._signing_key = self._load_signing_key()
        return self._signing_key

    def get_tool_private_key(self) -> str:
        return self._key().private_key_pem

    def get_kid(self) -> str:
        return self._key().kid


class DatabaseToolConf(ToolConfAbstract[Any]):
    """Registrations for pylti1p3, read from storage. One issuer may have many client ids."""

    def __init__(self, storage: Storage, load_signing_key: Callable[[], SigningKey]) -> None:
        self._storage = storage
        self._load_signing_key = load_signing_key
        self.issuers_relation_types = _ManyClientsPerIssuer()

    def _to_lti(self, row: Any) -> SkillpathRegistration:
        registration = SkillpathRegistration(
            self._load_signing_key, row.status, row.product_family_code
        )
        registration.set_issuer(row.issuer).set_client_id(row.client_id)
        registration.set_auth_login_url(row.auth_login_url).set_auth_token_url(row.auth_token_url)
        registration.set_key_set_url(row.keyset_url)
        if row.auth_audience:
            registration.set_auth_audience(row.auth_audience)
        return registration

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> LtiRegistration:
        with self._storage.reading() as tx:
            rows = tx.registrations.lookup_by_issuer(iss)
        if len(rows) != 1:
            return None  # type: ignore[return-value]
        return self._to_lti(rows[0])

    def find_registration_by_params(
        self, iss: str, client_id: str, *args: Any, **kwargs: Any
    ) -> LtiRegistration:
        if not client_id:
            return self.find_registration_by_issuer(iss)
        # A launch (its token's body given): the deployment is looked up in the same query.
        body = kwargs.get("jwt_body")
        claim = body.get(DEPLOYMENT_ID_CLAIM) if isinstance(body, dict) else None
        deployment_id = claim if isinstance(claim, str) else ""
        launch = bool(deployment_id)
        tenant = Tenant(iss, client_id)
        with self._storage.reading() as tx:
            row = (
                tx.registrations.lookup_with_deployment(tenant, deployment_id)
                if launch
                else tx.registrations.lookup(tenant)
            )
        if not row:
            return None  # type: ignore[return-value]
        registration = self._to_lti(row)
        if launch and row.has_deployment:
            registration.deployment_found = deployment_id
        return registration

    def find_deployment(self, iss: str, deployment_id: str) -> LtiDeployment | None:
        raise NotImplementedError("Skillpath always looks deployments up with the client id")

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> LtiDeployment | None:
        with self._storage.reading() as tx:
            found = tx.registrations.has_deployment(Tenant(iss, client_id), deployment_id)
        if not found:
            return None
        return LtiDeployment().set_deployment_id(deployment_id)


class _ManyClientsPerIssuer(dict[str, str]):
    """Every issuer may have several client ids (Canvas: one issuer for all instances)."""

    def get(self, key: str, default: Any = None) -> str:  # type: ignore[override]
        return "one-issuer-many-client-ids"
