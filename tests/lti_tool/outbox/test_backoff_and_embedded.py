from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from flask import Flask

from lti_tool.app import start_embedded_worker
from lti_tool.container import Container
from lti_tool.lti.services.paging import next_link, parse_links
from lti_tool.outbox import (
    Delivered,
    Exchange,
    Failed,
    RetryLater,
    WorkerOptions,
    parse_retry_after,
    result_for_status,
)
from tests.lti_tool.outbox.conftest import KIND, ScriptedDeliverer


def test_retry_after_as_seconds_or_http_date() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120
    assert parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_answers_are_read_as_delivered_retry_or_failed() -> None:
    exchange = Exchange("POST", 0, "")
    assert isinstance(result_for_status(201, "", {}, exchange), Delivered)
    limited = result_for_status(429, "slow down", {"Retry-After": "7"}, exchange)
    assert isinstance(limited, RetryLater) and limited.after == 7
    assert isinstance(result_for_status(503, "", {}, exchange), RetryLater)
    gateway = result_for_status(504, "", {}, exchange)
    assert isinstance(gateway, RetryLater) and gateway.uncertain
    failed = result_for_status(404, "unknown user 7", {}, exchange)
    assert isinstance(failed, Failed) and failed.reason == "HTTP 404: unknown user 7"


def test_several_links_in_one_header_and_urls_keep_their_case() -> None:
    header = (
        '<https://lms.example/api/Members?page=1>; rel="first", '
        '<https://lms.example/api/Members?page=3&Token=AbC>; rel="next last", '
        "<https://lms.example/api/Members?page=2>; rel=current"
    )
    links = parse_links(header)
    assert links["next"] == "https://lms.example/api/Members?page=3&Token=AbC"
    assert links["last"] == links["next"]
    assert links["current"].endswith("page=2")
    assert next_link('<https://a/x>; rel="prev"') is None
    assert next_link(None) is None


def test_the_embedded_worker_delivers_in_the_background(
    app: Flask, services: Container, scripted: ScriptedDeliverer
) -> None:
    worker = start_embedded_worker(app, WorkerOptions(kinds=(KIND,), concurrency=1))
    assert start_embedded_worker(app) is worker
    try:
        with services.storage.transaction() as tx:
            tx.outbox.enqueue(KIND, {"n": 1}, now=datetime.now(UTC))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not scripted.seen:
            time.sleep(0.05)
        assert [item.payload for item in scripted.seen] == [{"n": 1}]
    finally:
        worker.stop()
    assert not worker.alive
    with services.storage.transaction() as tx:
        assert tx.outbox.counts([KIND]).delivered == 1
