"""How a tenant's learners are named in its LRS: the identity policy stored on the
registration (`xapi_identity`), and the actor of one learner under it.

The default, when nothing is stored, is `account {homePage: the issuer, name: the LTI sub}`.
The policy itself and the actor shapes are `xapi.identity`'s; this module reads the stored
setting and falls back safely when a launch lacks what the policy needs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from lti_tool.storage import Tenant, Transaction
from xapi.identity import IdentityMode, IdentityPolicy, LearnerIdentity, learner_actor

log = logging.getLogger("skillpath.xapi")

MODES = {mode.value: mode for mode in IdentityMode}


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


def identity_policy(tx: Transaction, tenant: Tenant) -> IdentityPolicy:
    return policy_from(tenant.issuer, tx.registrations.identity(tenant))


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
