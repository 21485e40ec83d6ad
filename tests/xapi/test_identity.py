"""The learner's actor and the reverse match from an incoming actor to a learner key."""

from __future__ import annotations

import hashlib

import pytest

from xapi.identity import (
    ActorMatcher,
    IdentityMode,
    IdentityPolicy,
    LearnerIdentity,
    identifier_count,
    learner_actor,
    learner_key,
)

ISSUER = "https://lms.skillpath-tests.org"
LEARNER = LearnerIdentity(ISSUER, "sub-1", email="Ada@School-Tests.org")


def test_default_actor_is_an_account_on_the_issuer() -> None:
    actor = learner_actor(LEARNER, IdentityPolicy(ISSUER))
    assert actor == {"objectType": "Agent", "account": {"homePage": ISSUER, "name": "sub-1"}}


def test_configured_forms_carry_exactly_one_identifier() -> None:
    mbox = learner_actor(LEARNER, IdentityPolicy(ISSUER, IdentityMode.MBOX))
    mapped = learner_actor(
        LEARNER,
        IdentityPolicy(
            ISSUER,
            IdentityMode.MAPPED_ACCOUNT,
            home_page="https://hr.school-tests.org",
            account_names={"sub-1": "E1234"},
        ),
    )
    assert mbox["mbox"] == "mailto:ada@school-tests.org"
    assert mapped["account"] == {"homePage": "https://hr.school-tests.org", "name": "E1234"}
    assert identifier_count(mbox) == identifier_count(mapped) == 1


def test_mbox_policy_without_email_is_refused() -> None:
    with pytest.raises(ValueError, match="email"):
        learner_actor(LearnerIdentity(ISSUER, "s"), IdentityPolicy(ISSUER, IdentityMode.MBOX))


def test_matcher_finds_the_learner_from_every_form() -> None:
    policy = IdentityPolicy(
        ISSUER,
        IdentityMode.MAPPED_ACCOUNT,
        home_page="https://hr.school-tests.org",
        account_names={"sub-2": "E99"},
    )
    matcher = ActorMatcher([policy], email_to_sub={ISSUER: {"ada@school-tests.org": "sub-1"}})
    sha = hashlib.sha1(b"mailto:ada@school-tests.org").hexdigest()
    assert matcher.learner_key({"account": {"homePage": ISSUER + "/", "name": "s"}}) == (
        learner_key(ISSUER, "s")
    )
    assert matcher.learner_key(
        {"account": {"homePage": "https://hr.school-tests.org", "name": "E99"}}
    ) == learner_key(ISSUER, "sub-2")
    assert matcher.learner_key({"mbox": "mailto:ADA@school-tests.org"}) == (
        learner_key(ISSUER, "sub-1")
    )
    assert matcher.learner_key({"mbox_sha1sum": sha}) == learner_key(ISSUER, "sub-1")
    assert matcher.learner_key({"mbox": "mailto:nobody@school-tests.org"}) is None
    assert matcher.learner_key({"objectType": "Group", "member": []}) is None


def test_matcher_refuses_an_actor_with_two_identifiers() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        ActorMatcher([IdentityPolicy(ISSUER)]).learner_key(
            {"mbox": "mailto:a@b.org", "account": {"homePage": ISSUER, "name": "x"}}
        )
