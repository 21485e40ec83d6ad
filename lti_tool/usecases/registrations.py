"""Registrations over their life: made by LTI Dynamic Registration (the platform asks), then
approved, disabled, enabled again or told which LMS they are, by an admin.

Whether a dynamic registration launches at once or waits for a local admin's approval is
`SKILLPATH_REGISTRATION_APPROVAL` (`admin` by default: the registration URL is public, so a
stranger's platform must not get a working registration, let alone the defaults every
registration shares, without someone saying yes).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from lti_tool.errors import (
    ConfigurationError,
    DuplicateRegistration,
    NotFound,
    RegistrationFailed,
)
from lti_tool.lti import registrations
from lti_tool.lti.dynamic_registration import PlatformConfiguration
from lti_tool.lti.registrations import RegistrationInput
from lti_tool.storage import (
    REGISTRATION_ACTIVE,
    REGISTRATION_DISABLED,
    REGISTRATION_PENDING,
    RegistrationRecord,
    Tenant,
)
from lti_tool.usecases.audit import AdminActor, record
from lti_tool.usecases.ports import Ports

log = logging.getLogger("skillpath.registration")

# What an admin may do to a registration's status, and what it becomes.
STATUS_CHANGES = {
    "approve": (REGISTRATION_ACTIVE, (REGISTRATION_PENDING,)),
    "disable": (REGISTRATION_DISABLED, (REGISTRATION_ACTIVE, REGISTRATION_PENDING)),
    "enable": (REGISTRATION_ACTIVE, (REGISTRATION_DISABLED,)),
}


@dataclass(frozen=True)
class DynamicRegistration:
    """A registration the platform has accepted and Skillpath has stored."""

    registration: RegistrationRecord
    platform: PlatformConfiguration

    @property
    def active(self) -> bool:
        return self.registration.is_active

    @property
    def deployment_id(self) -> str | None:
        return self.registration.deployments[0] if self.registration.deployments else None


def register_dynamically(
    ports: Ports, openid_configuration: str, registration_token: str | None
) -> DynamicRegistration:
    """Fetch and check the platform's configuration, post Skillpath's registration, store
    what the platform answered. `RegistrationFailed` says what went wrong and what the
    platform answered; nothing is stored then."""
    openid_configuration = (openid_configuration or "").strip()
    if not openid_configuration:
        raise RegistrationFailed(
            "The registration request carries no openid_configuration: start it from the "
            "LMS's “register a tool by URL” page.",
            code="missing_openid_configuration",
        )
    platform = ports.registrar.fetch_configuration(openid_configuration, registration_token)
    with ports.storage.transaction() as tx:
        existing = tx.registrations.lookup_by_issuer(platform.issuer)
    answer, _sent = ports.registrar.register(platform, registration_token)
    status = (
        REGISTRATION_PENDING if ports.settings.registrations_need_approval else REGISTRATION_ACTIVE
    )
    data = RegistrationInput(
        issuer=platform.issuer,
        client_id=answer.client_id,
        auth_login_url=platform.authorization_endpoint,
        auth_token_url=platform.token_endpoint,
        keyset_url=platform.jwks_uri,
        deployments=[answer.deployment_id] if answer.deployment_id else [],
        name=platform.display_name,
        auth_audience=platform.authorization_server,
        product_family_code=platform.product_family_code or None,
    )
    actor = AdminActor(f"LTI Dynamic Registration from {platform.display_name}")
    try:
        with ports.storage.transaction() as tx:
            stored = registrations.add_registration(
                tx, data, ports.now(), status=status, source="dynamic"
            )
            record(
                tx,
                ports,
                actor,
                stored.tenant,
                "platform.register.dynamic",
                f"registered client id {stored.client_id}"
                + (f", deployment {answer.deployment_id}" if answer.deployment_id else "")
                + f"; {'active' if stored.is_active else 'waiting for approval'}",
            )
    except DuplicateRegistration:
        raise RegistrationFailed(
            f"The platform gave Skillpath the client id {answer.client_id}, which is already "
            "registered for this issuer; nothing was changed.",
            code="duplicate_registration",
            status=409,
            admin_hint="Remove the old registration in Skillpath's admin console first.",
        ) from None
    log.info(
        "dynamic registration stored: issuer=%s client_id=%s status=%s (%d other registration(s) "
        "of this issuer)",
        stored.issuer,
        stored.client_id,
        stored.status,
        len(existing),
    )
    return DynamicRegistration(stored, platform)


def change_status(
    ports: Ports, tenant: Tenant, change: str, actor: AdminActor
) -> RegistrationRecord:
    """`approve` a pending registration, `disable` one, or `enable` it again (local admins
    only: this decides which platforms may launch at all)."""
    actor.require_everything()
    if change not in STATUS_CHANGES:
        raise ConfigurationError(f"unknown change {change!r}")
    target, allowed_from = STATUS_CHANGES[change]
    with ports.storage.transaction() as tx:
        current = registrations.require_registration(tx, tenant)
        if current.status not in allowed_from:
            raise ConfigurationError(
                f"{current.name} is {current.status}: it cannot be {change}d",
                code="invalid_status_change",
            )
        tx.registrations.set_status(tenant, target)
        record(tx, ports, actor, tenant, f"platform.{change}", f"{current.name} is now {target}")
        changed = tx.registrations.find(tenant)
    assert changed is not None
    return changed


def set_product_family(
    ports: Ports, tenant: Tenant, code: str | None, actor: AdminActor
) -> RegistrationRecord:
    """Which LMS the registration is (chooses its adapter when launches do not say)."""
    actor.require(tenant)
    code = (code or "").strip().lower() or None
    if code is not None and (
        len(code) > 100 or not code.replace("_", "").replace("-", "").isalnum()
    ):
        raise ConfigurationError("the LMS family code is letters, digits, - and _ only")
    with ports.storage.transaction() as tx:
        registrations.require_registration(tx, tenant)
        tx.registrations.set_product_family(tenant, code)
        record(tx, ports, actor, tenant, "platform.lms", f"LMS family set to {code or 'unknown'}")
        changed = tx.registrations.find(tenant)
    assert changed is not None
    return changed


def find_registration(ports: Ports, registration_id: int, actor: AdminActor) -> RegistrationRecord:
    """One registration by its id, if the actor may see it (404 otherwise: an admin of one
    registration learns nothing about others)."""
    with ports.storage.transaction() as tx:
        found = tx.registrations.get(registration_id)
    if found is None or not actor.may_manage(found.tenant):
        raise NotFound("No such registration.")
    return found
