"""Retries happen only where they are safe, proved through our fault-injecting proxy in front of
the real Learning Locker (Ralph's defects do not matter here; LL's strict 409 check does)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from peers.fault_proxy import FaultProxy, fault_proxy
from peers.lrs import LrsPeer
from tests.xapi.support import actor, matcher, new_lesson, new_sub, statement
from xapi.client import LrsClient, RetryPolicy, StatementQuery
from xapi.errors import LrsConnectionError, LrsServerError, LrsTimeout, XapiError
from xapi.sync import SyncCursor, refresh_learner, sync_statements

FAST = RetryPolicy(attempts=3, backoff_seconds=0.01)


@pytest.fixture
def proxy(learning_locker: LrsPeer) -> Iterator[FaultProxy]:
    parts = urlsplit(learning_locker.endpoint)
    with fault_proxy(f"{parts.scheme}://{parts.netloc}") as running:
        yield running


def client_via(proxy: FaultProxy, peer: LrsPeer, **kwargs: object) -> LrsClient:
    return LrsClient(
        proxy.url + "/xAPI/", peer.username, peer.password, retry=FAST, version="1.0.3", **kwargs
    )  # type: ignore[arg-type]


def test_get_is_retried_after_503s(proxy: FaultProxy, learning_locker: LrsPeer) -> None:
    proxy.fail(2, methods=("GET",))
    with client_via(proxy, learning_locker) as client:
        page = client.get_statements(StatementQuery(limit=1))
    assert isinstance(page.statements, list)
    assert proxy.attempts("GET") == 3


def test_get_gives_up_after_the_policy_with_the_status(
    proxy: FaultProxy, learning_locker: LrsPeer
) -> None:
    proxy.fail(5, methods=("GET",))
    with client_via(proxy, learning_locker) as client, pytest.raises(LrsServerError) as caught:
        client.get_statements(StatementQuery(limit=1))
    assert caught.value.status == 503
    assert caught.value.request is not None and caught.value.request.method == "GET"
    assert proxy.attempts("GET") == 3


def test_put_is_retried_and_a_lost_answer_ends_in_success(
    proxy: FaultProxy, learning_locker: LrsPeer
) -> None:
    """The first PUT lands but its answer is lost; the retry gets 204/409: success, one copy."""
    sub = new_sub()
    body = statement(sub, new_lesson(), success=True)
    proxy.drop(1, methods=("PUT",), after_forwarding=True)
    proxy.fail(1, methods=("PUT",))
    with client_via(proxy, learning_locker) as client:
        assert client.put_statement(body) == body["id"]
    assert proxy.attempts("PUT") == 3
    with learning_locker.client() as direct:
        page = direct.get_statements(StatementQuery(agent=actor(sub)))
    assert [s["id"] for s in page.statements] == [body["id"]]


def test_post_is_never_retried_on_503(proxy: FaultProxy, learning_locker: LrsPeer) -> None:
    proxy.fail(1, methods=("POST",))
    with client_via(proxy, learning_locker) as client, pytest.raises(LrsServerError):
        client.post_statements([statement(new_sub(), new_lesson())])
    assert proxy.attempts("POST") == 1


def test_post_is_never_retried_on_a_dropped_connection(
    proxy: FaultProxy, learning_locker: LrsPeer
) -> None:
    proxy.drop(1, methods=("POST",))
    with client_via(proxy, learning_locker) as client, pytest.raises(LrsConnectionError):
        client.post_statements([statement(new_sub(), new_lesson())])
    assert proxy.attempts("POST") == 1


def test_get_is_retried_after_a_dropped_connection(
    proxy: FaultProxy, learning_locker: LrsPeer
) -> None:
    proxy.drop(1, methods=("GET",))
    with client_via(proxy, learning_locker) as client:
        client.get_statements(StatementQuery(limit=1))
    assert proxy.attempts("GET") == 2


def test_learner_refresh_is_bounded_by_its_timeout(
    proxy: FaultProxy, learning_locker: LrsPeer
) -> None:
    proxy.delay_seconds = 1.0
    with client_via(proxy, learning_locker, timeout=5.0) as client:
        client.retry = RetryPolicy(attempts=1)
        started = datetime.now(UTC)
        with pytest.raises(LrsTimeout) as caught:
            refresh_learner(
                client, actor(new_sub()), {new_lesson()}, matcher(), timeout_seconds=0.3
            )
        assert isinstance(caught.value, XapiError)
    assert datetime.now(UTC) - started < timedelta(seconds=0.9)


def test_cursor_never_moves_past_consistent_through(
    proxy: FaultProxy, learning_locker: LrsPeer
) -> None:
    sub, lesson = new_sub(), new_lesson()
    with learning_locker.client() as direct:
        direct.put_statement(statement(sub, lesson, success=True))
    through = datetime.now(UTC) - timedelta(hours=1)
    proxy.consistent_through = through.isoformat().replace("+00:00", "Z")
    start = SyncCursor(since=datetime.now(UTC) - timedelta(seconds=30))
    with client_via(proxy, learning_locker) as client:
        result = sync_statements(client, {lesson}, matcher(), start)
    assert [o.lesson_id for o in result.observations] == [lesson]
    # The LRS vouches only for statements stored up to `through`: the cursor stays put, and
    # what was read beyond it is remembered so the next sync does not count it twice.
    assert result.cursor.since == start.since
    assert result.observations[0].statement_id in result.cursor.seen
    with client_via(proxy, learning_locker) as client:
        again = sync_statements(client, {lesson}, matcher(), result.cursor)
    assert again.observations == []
    assert again.counts.duplicate >= 1
