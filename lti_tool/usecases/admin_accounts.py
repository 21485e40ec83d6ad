"""Who may use the admin console: local admin accounts (`skillpath admin create`; passwords
hashed with argon2, never stored or logged), and the administrator of an LMS registration
who arrives by an LTI launch with an institution or system administrator role (scoped to
that registration).

An LTI launch reaches the console through a single-use ticket: the console never runs inside
the LMS frame, so the launch page opens it in a window of its own with the ticket in its
address, and the ticket becomes the console session there.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from adapters.lms import adapter_named
from lti_tool.errors import ConfigurationError, Forbidden, NotAuthenticated
from lti_tool.lti.vocabulary import is_administrator, product_family, roles_of
from lti_tool.storage import AdminAccountRecord, LaunchRecord, Tenant
from lti_tool.usecases.audit import COMMAND_LINE, AdminActor, record
from lti_tool.usecases.ports import Ports

log = logging.getLogger("skillpath.admin")

USERNAME = re.compile(r"^[A-Za-z0-9._@-]{1,100}$")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
TICKET_SECONDS = 120
# Verified against when the username is unknown, so both answers take as long.
_HASHER = PasswordHasher()
_DECOY = _HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class ConsoleSession:
    """What the console keeps in its session cookie: who, and the registration they are
    limited to (none: a local admin)."""

    kind: str  # "local" or "lti"
    label: str
    username: str = ""
    issuer: str = ""
    client_id: str = ""

    @property
    def tenant(self) -> Tenant | None:
        return Tenant(self.issuer, self.client_id) if self.kind == "lti" else None

    def to_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "label": self.label,
            "username": self.username,
            "issuer": self.issuer,
            "client_id": self.client_id,
        }

    @classmethod
    def from_dict(cls, data: Any) -> ConsoleSession | None:
        if not isinstance(data, dict) or data.get("kind") not in ("local", "lti"):
            return None
        values = {k: data.get(k) for k in ("kind", "label", "username", "issuer", "client_id")}
        if not all(isinstance(v, str) for v in values.values()):
            return None
        return cls(**values)  # type: ignore[arg-type]


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ConfigurationError(f"the password must be at least {MIN_PASSWORD} characters long")
    if len(password) > MAX_PASSWORD:
        raise ConfigurationError(f"the password must be at most {MAX_PASSWORD} characters long")


def create_admin(
    ports: Ports, username: str, password: str, actor: AdminActor = COMMAND_LINE
) -> AdminAccountRecord:
    """A new local admin; the password is kept as an argon2 hash."""
    actor.require_everything()
    username = username.strip()
    if not USERNAME.match(username):
        raise ConfigurationError(
            "the username is 1 to 100 letters, digits, dots, dashes, underscores or @"
        )
    _check_password(password)
    with ports.storage.transaction() as tx:
        created = tx.admins.add(username, _HASHER.hash(password), ports.now())
        if created is None:
            raise ConfigurationError(f"an admin named {username!r} already exists")
        record(tx, ports, actor, Tenant.DEFAULT, "admin.create", f"created local admin {username}")
    return created


def set_password(
    ports: Ports, username: str, password: str, actor: AdminActor = COMMAND_LINE
) -> None:
    actor.require_everything()
    _check_password(password)
    with ports.storage.transaction() as tx:
        if not tx.admins.set_password_hash(username, _HASHER.hash(password)):
            raise ConfigurationError(f"no admin is named {username!r}")
        record(tx, ports, actor, Tenant.DEFAULT, "admin.password", f"new password for {username}")


def list_admins(ports: Ports) -> list[AdminAccountRecord]:
    with ports.storage.transaction() as tx:
        return tx.admins.all()


def sign_in(ports: Ports, username: str, password: str) -> ConsoleSession:
    """A local admin's session, or `NotAuthenticated` saying nothing of which part was
    wrong. A hash made with older parameters is renewed on success."""
    refused = NotAuthenticated("Wrong username or password.", code="bad_credentials")
    if len(password) > MAX_PASSWORD or len(username) > 100:
        raise refused
    with ports.storage.transaction() as tx:
        account = tx.admins.find(username.strip())
    try:
        _HASHER.verify(account.password_hash if account else _DECOY, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        log.warning("admin sign-in refused for a username of %d characters", len(username))
        raise refused from None
    if account is None:
        raise refused
    with ports.storage.transaction() as tx:
        if _HASHER.check_needs_rehash(account.password_hash):
            tx.admins.set_password_hash(account.username, _HASHER.hash(password))
        tx.admins.logged_in(account.username, ports.now())
        session = ConsoleSession("local", f"local admin {account.username}", account.username)
        record(tx, ports, actor_of(session), Tenant.DEFAULT, "admin.sign_in", "signed in")
    return session


def actor_of(session: ConsoleSession) -> AdminActor:
    return AdminActor(session.label, session.tenant)


def current_actor(ports: Ports, session: ConsoleSession | None) -> AdminActor:
    """The actor of a console session that is still good: its account still exists, or its
    registration is still registered and active (removing or disabling a registration ends
    its administrators' console sessions too)."""
    if session is None:
        raise NotAuthenticated("Sign in to Skillpath's admin console.", code="console_sign_in")
    with ports.storage.transaction() as tx:
        if session.kind == "local":
            alive = tx.admins.find(session.username) is not None
        else:
            found = tx.registrations.find(Tenant(session.issuer, session.client_id))
            alive = found is not None and found.is_active
    if not alive:
        raise NotAuthenticated(
            "This console session has ended: sign in again.", code="console_sign_in"
        )
    return actor_of(session)


def ticket_for_launch(ports: Ports, launch: LaunchRecord) -> str:
    """A single-use ticket into the console for an LMS administrator's launch; `Forbidden`
    for anyone else."""
    adapter = adapter_named(product_family(launch.claims))
    if not adapter.grants_console(roles_of(launch.claims), is_administrator):
        raise Forbidden(
            "Only an administrator of this LMS opens Skillpath's admin console.",
            code="not_an_administrator",
            admin_hint=adapter.console_hint(),
        )
    with ports.storage.transaction() as tx:
        registration = tx.registrations.find(launch.tenant)
    if registration is None or not registration.is_active:
        raise Forbidden("This LMS registration is not active in Skillpath.")
    who = launch.user_name or "An administrator"
    label = f"{who} (administrator of {registration.name})"
    ticket = secrets.token_urlsafe(32)
    ports.store.put(
        "console-ticket:" + ticket,
        ConsoleSession("lti", label, issuer=launch.issuer, client_id=launch.client_id).to_dict(),
        TICKET_SECONDS,
    )
    return ticket


def redeem_ticket(ports: Ports, ticket: str) -> ConsoleSession:
    """The console session a ticket stands for (once)."""
    found = (
        ConsoleSession.from_dict(ports.store.take("console-ticket:" + ticket)) if ticket else None
    )
    if found is None:
        raise NotAuthenticated(
            "This link into the admin console was already used or has expired: open it from "
            "the LMS again.",
            code="console_ticket",
        )
    with ports.storage.transaction() as tx:
        record(
            tx,
            ports,
            actor_of(found),
            found.tenant or Tenant.DEFAULT,
            "admin.sign_in",
            "signed in from the LMS",
        )
    return found
