"""Every statement Skillpath builds is accepted by BOTH real LRSs: a rejection fails the test.

Ralph runs with its append patch only; its validation (pydantic models) is its own, and its
other defects do not matter for writes.
"""

from __future__ import annotations

import pytest

from tests.peers.lrs import LrsPeer
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
