"""`LrsClient` details that need no LRS: URL resolution, query encoding, version choice,
timestamps, cursor round trip, and the exported names."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

import xapi.client
import xapi.errors
from xapi.client import LrsClient, RetryPolicy, StatementQuery, prepare_statement
from xapi.sync import SyncCursor
from xapi.timestamps import format_timestamp, parse_timestamp


@pytest.mark.parametrize(
    ("more", "url"),
    [
        ("/xAPI/statements?cursor=a%20b", "http://lrs.test:8080/xAPI/statements?cursor=a%20b"),
        ("statements?cursor=2", "http://lrs.test:8080/xAPI/statements?cursor=2"),
        ("http://other.test/x/statements?c=3", "http://other.test/x/statements?c=3"),
    ],
)
def test_more_links_resolve_against_the_endpoint(more: str, url: str) -> None:
    client = LrsClient("http://lrs.test:8080/xAPI", version="1.0.3")
    assert client.url(more) == url


def test_query_encodes_the_agent_as_json_and_times_in_utc() -> None:
    since = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    params = StatementQuery(since=since, agent={"mbox": "mailto:a@b.org"}, limit=5).to_params()
    assert params["since"] == "2026-01-01T10:00:00.000Z"
    assert json.loads(params["agent"]) == {"mbox": "mailto:a@b.org"}
    assert params["ascending"] == "true"
    assert "ascending" not in StatementQuery(ascending=None).to_params()


def test_version_is_2_only_when_about_lists_it() -> None:
    client = LrsClient("http://lrs.test/xAPI/")
    client._about = {"version": ["1.0.3", "2.0.0"]}
    assert client.version == "2.0.0"
    other = LrsClient("http://lrs.test/xAPI/")
    other._about = {"version": ["1.0.0", "1.0.3"]}
    assert other.version == "1.0.3"


def test_prepare_statement_keeps_an_explicit_id_and_fills_the_rest() -> None:
    body = prepare_statement({"verb": {}}, "3b0b1c1e-0000-4000-8000-000000000001")
    assert body["id"] == "3b0b1c1e-0000-4000-8000-000000000001"
    assert parse_timestamp(body["timestamp"]).tzinfo is not None


def test_retry_backoff_grows_and_honours_a_small_retry_after() -> None:
    policy = RetryPolicy(backoff_seconds=0.1, max_sleep_seconds=1)
    assert [policy.delay(n) for n in range(3)] == [0.1, 0.2, 0.4]
    assert policy.delay(0, "30") == 1


def test_timestamps_round_trip_and_reject_naive_times() -> None:
    moment = parse_timestamp("2026-05-01T08:00:00.123456789+0200")
    assert moment == datetime(2026, 5, 1, 6, 0, 0, 123456, tzinfo=UTC)
    assert format_timestamp(moment) == "2026-05-01T06:00:00.123Z"
    with pytest.raises(ValueError):
        parse_timestamp("2026-05-01T08:00:00")


def test_cursor_round_trips() -> None:
    cursor = SyncCursor(
        since=datetime(2026, 1, 1, tzinfo=UTC), seen={"a": datetime(2026, 1, 1, tzinfo=UTC)}
    )
    assert SyncCursor.from_dict(json.loads(json.dumps(cursor.to_dict()))) == cursor


@pytest.mark.parametrize("module", [xapi.client, xapi.errors])
def test_exported_members_exist(module: object) -> None:
    for name in module.__all__:  # type: ignore[attr-defined]
        assert hasattr(module, name), name


def test_every_error_is_an_xapi_error() -> None:
    for name in xapi.errors.__all__:
        value = getattr(xapi.errors, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, xapi.errors.XapiError)
