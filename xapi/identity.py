"""Who a learner is in xAPI: the actor Skillpath writes, and the learner an incoming actor names.

By default the learner's actor is `account {homePage: the platform issuer, name: the LTI sub}`
(no email: statements cannot be deleted, so they should not carry personal data). A
registration may instead match what its organisation's content already sends: `mbox` from the
LTI email claim, or an account on another homePage through a mapping from sub to account name.
An actor never carries more than one inverse functional identifier.

Learner keys (`Observation.learner_id`) are `learner_key(issuer, sub)`.

Must not import flask, sqlalchemy or anything of `lti_tool`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = [
    "ActorMatcher",
    "IdentityMode",
    "IdentityPolicy",
    "LearnerIdentity",
    "learner_actor",
    "learner_key",
]

IDENTIFIER_KEYS = ("mbox", "mbox_sha1sum", "openid", "account")


def learner_key(issuer: str, sub: str) -> str:
    """The learner key used in `Observation.learner_id`: unique across platforms."""
    return f"{issuer}|{sub}"


class IdentityMode(Enum):
    """Which identifier the learner's actor carries."""

    ACCOUNT = "account"  # account {homePage: issuer, name: sub}: the default
    MBOX = "mbox"  # mailto: of the LTI email claim
    MAPPED_ACCOUNT = "mapped_account"  # account on another homePage, name from a mapping


@dataclass(frozen=True, slots=True)
class IdentityPolicy:
    """How one registration (one platform issuer) names its learners in the LRS.

    `account_names` maps LTI sub to the account name used on `home_page` (MAPPED_ACCOUNT);
    a sub missing from it falls back to the sub itself.
    """

    issuer: str
    mode: IdentityMode = IdentityMode.ACCOUNT
    home_page: str | None = None
    account_names: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mode is IdentityMode.MAPPED_ACCOUNT and not self.home_page:
            raise ValueError("a mapped account needs the homePage of the other system")


@dataclass(frozen=True, slots=True)
class LearnerIdentity:
    """What the LTI launch says about the learner."""

    issuer: str
    sub: str
    email: str | None = None
    name: str | None = None


def learner_actor(learner: LearnerIdentity, policy: IdentityPolicy) -> dict[str, Any]:
    """The learner's xAPI Agent under `policy`: exactly one identifier.

    Raises ValueError when the policy asks for mbox and the launch carried no email (the
    caller then falls back to the default policy or refuses to write).
    """
    actor: dict[str, Any] = {"objectType": "Agent"}
    if policy.mode is IdentityMode.MBOX:
        if not learner.email:
            raise ValueError("identity policy needs an email, and the launch has none")
        actor["mbox"] = f"mailto:{learner.email.strip().lower()}"
    elif policy.mode is IdentityMode.MAPPED_ACCOUNT:
        assert policy.home_page is not None
        name = policy.account_names.get(learner.sub, learner.sub)
        actor["account"] = {"homePage": policy.home_page, "name": name}
    else:
        actor["account"] = {"homePage": learner.issuer, "name": learner.sub}
    return actor


def identifier_count(actor: Mapping[str, Any]) -> int:
    """How many inverse functional identifiers an actor carries (xAPI allows exactly one)."""
    return sum(1 for key in IDENTIFIER_KEYS if key in actor)


class ActorMatcher:
    """Maps an incoming statement's actor to a learner key, across the registrations that
    share one LRS. Unknown actors map to None (statements of people Skillpath does not serve).

    `email_to_sub` (per issuer) resolves mbox and mbox_sha1sum actors; it is what the launches
    have told Skillpath so far.
    """

    def __init__(
        self,
        policies: Iterable[IdentityPolicy],
        email_to_sub: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self._accounts: dict[tuple[str, str], tuple[str, str]] = {}
        self._home_pages: dict[str, str] = {}
        self._mboxes: dict[str, tuple[str, str]] = {}
        for policy in policies:
            self._home_pages[policy.issuer.rstrip("/")] = policy.issuer
            if policy.mode is IdentityMode.MAPPED_ACCOUNT and policy.home_page:
                for sub, name in policy.account_names.items():
                    self._accounts[(policy.home_page.rstrip("/"), name)] = (policy.issuer, sub)
            emails = (email_to_sub or {}).get(policy.issuer, {})
            for email, sub in emails.items():
                mbox = f"mailto:{email.strip().lower()}"
                self._mboxes[mbox] = (policy.issuer, sub)
                self._mboxes[hashlib.sha1(mbox.encode()).hexdigest()] = (policy.issuer, sub)

    def learner_key(self, actor: Any) -> str | None:
        """The learner key of `actor`, or None when it is nobody Skillpath knows.

        Raises ValueError when the actor is not an Agent with exactly one identifier.
        """
        if not isinstance(actor, dict | Mapping):
            raise ValueError("actor is not an object")
        if actor.get("objectType", "Agent") != "Agent":
            return None  # a Group's evidence is not one learner's
        if identifier_count(actor) != 1:
            raise ValueError("actor must carry exactly one identifier")
        account = actor.get("account")
        if account is not None:
            if not isinstance(account, dict | Mapping):
                raise ValueError("actor.account is not an object")
            home = str(account.get("homePage", "")).rstrip("/")
            name = account.get("name")
            if not isinstance(name, str) or not name:
                raise ValueError("actor.account.name is missing")
            mapped = self._accounts.get((home, name))
            if mapped is not None:
                return learner_key(*mapped)
            issuer = self._home_pages.get(home)
            return learner_key(issuer, name) if issuer is not None else None
        mbox = actor.get("mbox")
        if isinstance(mbox, str):
            found = self._mboxes.get(mbox.strip().lower())
            return learner_key(*found) if found else None
        sha = actor.get("mbox_sha1sum")
        if isinstance(sha, str):
            found = self._mboxes.get(sha.lower())
            return learner_key(*found) if found else None
        return None
