"""How each registration names its learners in the LRS, stored on the registration.

The default is `account {homePage: the issuer, name: the LTI sub}` and stores nothing. An admin
may instead match what the organisation's content already sends (`skillpath lrs identity`):
`mbox` from the LTI email claim (the email is then kept on the learner's record so incoming
statements about that mailbox can be filed), or an account on another homePage with a mapping
from LTI sub to that system's account name.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lti_tool.errors import ConfigurationError
from lti_tool.models import Launch, LearnerRecord, PlatformRegistration
from xapi.identity import IdentityMode, IdentityPolicy, LearnerIdentity, learner_actor

log = logging.getLogger("skillpath.xapi")

MODES = {mode.value: mode for mode in IdentityMode}
EMAIL_CLAIM = "email"


def set_identity(
    session: Session,
    issuer: str,
    client_id: str,
    mode: str,
    home_page: str | None = None,
    account_names: Mapping[str, str] | None = None,
) -> PlatformRegistration:
    """Store the identity policy of one registration (validated; raises ConfigurationError)."""
    registration = session.scalars(
        select(PlatformRegistration).where(
            PlatformRegistration.issuer == issuer, PlatformRegistration.client_id == client_id
        )
    ).first()
    if registration is None:
        raise ConfigurationError(
            f"no platform is registered as issuer={issuer} client_id={client_id}"
        )
    if mode not in MODES:
        raise ConfigurationError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    chosen = MODES[mode]
    if chosen is IdentityMode.MAPPED_ACCOUNT:
        parts = urlsplit(home_page or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError("mapped_account needs --home-page, an absolute http(s) URL")
    elif home_page or account_names:
        raise ConfigurationError(
            f"--home-page and --mapping only go with mapped_account, not {mode}"
        )
    names = dict(account_names or {})
    for sub, name in names.items():
        if not sub or not name:
            raise ConfigurationError("every mapping row needs an LTI sub and an account name")
    registration.xapi_identity = (
        None
        if chosen is IdentityMode.ACCOUNT
        else {"mode": chosen.value, "home_page": home_page, "account_names": names}
    )
    if chosen is not IdentityMode.MBOX:
        # Emails were kept only to name learners by mailbox: not needed any more, not kept.
        session.execute(
            update(LearnerRecord)
            .where(LearnerRecord.issuer == issuer, LearnerRecord.client_id == client_id)
            .values(email=None)
        )
    session.flush()
    return registration


def policy_from(issuer: str, stored: Mapping[str, Any] | None) -> IdentityPolicy:
    """The policy a registration's stored `xapi_identity` describes (None: the default)."""
    if not stored:
        return IdentityPolicy(issuer)
    return IdentityPolicy(
        issuer,
        MODES[str(stored.get("mode", "account"))],
        stored.get("home_page"),
        dict(stored.get("account_names") or {}),
    )


def identity_policy(session: Session, issuer: str, client_id: str) -> IdentityPolicy:
    stored = session.scalars(
        select(PlatformRegistration.xapi_identity).where(
            PlatformRegistration.issuer == issuer, PlatformRegistration.client_id == client_id
        )
    ).first()
    return policy_from(issuer, stored)


def launch_email(launch: Launch) -> str | None:
    value = launch.claims.get(EMAIL_CLAIM)
    return value.strip() if isinstance(value, str) and "@" in value else None


def actor_for(
    policy: IdentityPolicy, issuer: str, subject: str, email: str | None
) -> dict[str, Any]:
    """The learner's actor under the policy. When the policy wants a mailbox and the platform
    did not share the email, the default account is used (logged), so nothing is lost."""
    try:
        return learner_actor(LearnerIdentity(issuer, subject, email), policy)
    except ValueError:
        log.warning(
            "identity policy of issuer=%s needs an email and the launch has none: "
            "statements name the learner by account",
            issuer,
        )
        return learner_actor(LearnerIdentity(issuer, subject), IdentityPolicy(issuer))


def email_directory(
    session: Session, policies: Iterable[IdentityPolicy]
) -> dict[str, dict[str, str]]:
    """issuer -> {email: sub} for the registrations that name learners by mailbox."""
    issuers = [p.issuer for p in policies if p.mode is IdentityMode.MBOX]
    directory: dict[str, dict[str, str]] = {}
    if not issuers:
        return directory
    rows = session.execute(
        select(LearnerRecord.issuer, LearnerRecord.email, LearnerRecord.subject).where(
            LearnerRecord.issuer.in_(issuers), LearnerRecord.email.is_not(None)
        )
    )
    for issuer, email, subject in rows:
        if email:
            directory.setdefault(issuer, {})[email] = subject
    return directory
