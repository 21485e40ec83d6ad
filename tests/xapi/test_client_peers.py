"""`LrsClient` against both real LRSs: client-made ids, idempotent retries, `more` paging.

Ralph runs with its append defect patched by our launcher (tests/peers/ralph_launcher.py); the
queries here use `since` and `agent` only, never the `verb`/`activity` filters Ralph ignores.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from peers.lrs import LrsPeer
from tests.xapi.support import actor, new_lesson, new_sub, statement
from xapi.client import StatementQuery
from xapi.errors import LrsAuthError, LrsRejectedStatement


def test_every_request_names_the_xapi_version(lrs: LrsPeer) -> None:
    with lrs.client() as client:
        assert client.version == "1.0.3"


def test_put_with_client_id_and_identical_retry_are_both_success(lrs: LrsPeer) -> None:
    body = statement(new_sub(), new_lesson(), scaled=0.5)
    with lrs.client() as client:
        first = client.put_statement(body)
        again = client.put_statement(body)  # 204 or 409: both mean "stored"
        stored = client.get_statement(first)
    assert first == again == body["id"]
    assert stored["id"] == body["id"]


def test_put_of_a_different_statement_under_a_used_id_is_rejected(lrs: LrsPeer) -> None:
    body = statement(new_sub(), new_lesson(), scaled=0.5)
    with lrs.client() as client:
        client.put_statement(body)
        other = {**statement(new_sub(), new_lesson(), scaled=0.1), "id": body["id"]}
        with pytest.raises(LrsRejectedStatement, match="different statement"):
            client.put_statement(other)


def test_put_makes_the_id_and_timestamp_when_missing(lrs: LrsPeer) -> None:
    body = statement(new_sub(), new_lesson())
    del body["id"], body["timestamp"]
    with lrs.client() as client:
        sid = client.put_statement(body)
        assert uuid.UUID(sid)
        assert client.get_statement(sid)["timestamp"]


def test_wrong_password_raises_the_auth_error(lrs: LrsPeer) -> None:
    with lrs.client() as good:
        endpoint = good.endpoint
    from xapi.client import LrsClient

    with (
        LrsClient(endpoint, lrs.username, "wrong", version="1.0.3") as client,
        pytest.raises(LrsAuthError) as caught,
    ):
        client.get_statements(StatementQuery(limit=1))
    assert caught.value.status in (401, 403)
    assert "wrong" not in str(caught.value)


def test_more_links_are_followed_across_several_pages(lrs: LrsPeer) -> None:
    sub = new_sub()
    since = datetime.now(UTC) - timedelta(seconds=2)
    ids = []
    with lrs.client() as client:
        for _ in range(7):
            ids.append(client.put_statement(statement(sub, new_lesson(), success=True)))
        pages = list(client.iter_pages(StatementQuery(since=since, limit=3)))
    read = [s["id"] for page in pages for s in page.statements]
    assert set(ids) <= set(read)
    assert len(read) == len(set(read))
    assert len(pages) >= 3


def test_learning_locker_rejects_an_invalid_statement(learning_locker: LrsPeer) -> None:
    body = statement(new_sub(), new_lesson(), result={"score": {"scaled": 3}})
    with learning_locker.client() as client, pytest.raises(LrsRejectedStatement) as caught:
        client.put_statement(body)
    assert caught.value.status == 400


def test_agent_filter_reads_one_learner(learning_locker: LrsPeer) -> None:
    sub = new_sub()
    with learning_locker.client() as client:
        sid = client.put_statement(statement(sub, new_lesson()))
        page = client.get_statements(StatementQuery(agent=actor(sub), limit=10))
    assert [s["id"] for s in page.statements] == [sid]
    assert page.consistent_through is not None
