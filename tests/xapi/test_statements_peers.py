"""Every statement Skillpath builds is accepted by BOTH real LRSs: a rejection fails the test.

Ralph runs with its append patch only; its validation (pydantic models) is its own, and its
other defects do not matter for writes.
"""

from __future__ import annotations

import pytest

from peers.lrs import LrsPeer
from tests.xapi.support import matcher
from tests.xapi.test_statements import BUILDERS, context
from xapi.reader import EvidenceReader


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_lrs_accepts_the_built_statement(lrs: LrsPeer, name: str) -> None:
    statement = BUILDERS[name](context())
    with lrs.client() as client:
        sid = client.put_statement(statement)
        stored = client.get_statement(sid)
    assert stored["id"] == statement["id"]
    assert stored["verb"]["id"] == statement["verb"]["id"]
    assert stored["context"]["registration"] == statement["context"]["registration"]
    # Skillpath's own statements are never read back as evidence about lessons.
    reader = EvidenceReader({stored["object"]["id"]}, matcher())
    reader.add(stored)
    assert reader.observations() == []


@pytest.mark.parametrize("mode", ["mbox", "mapped_account"])
def test_lrs_accepts_each_identity_mode(lrs: LrsPeer, mode: str) -> None:
    from dataclasses import replace

    from tests.xapi.test_statements import ISSUER, NOW
    from xapi.identity import IdentityMode, IdentityPolicy, LearnerIdentity, learner_actor
    from xapi.statements import competency_result

    policy = IdentityPolicy(
        ISSUER,
        IdentityMode(mode),
        "https://hr.example.org" if mode != "mbox" else None,
        {"learner-1": "emp-1"},
    )
    actor = learner_actor(LearnerIdentity(ISSUER, "learner-1", "Ada@Example.org"), policy)
    statement = competency_result(
        replace(context(), learner=actor), "escalation", "Escalation", 0.5, now=NOW
    )
    with lrs.client() as client:
        stored = client.get_statement(client.put_statement(statement))
    assert stored["actor"] == actor
