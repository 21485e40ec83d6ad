"""Outages between Skillpath and the platform, made by our fault proxy: every score still
arrives, exactly once, in the platform's gradebook."""

from __future__ import annotations

import time
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.storage.models import AttemptRow
from lti_tool.usecases.grades import PROGRESS_TAG, record_progress
from peers.fault_proxy import FaultProxy
from tests.lti_tool.lti.services.conftest import GradeRig


def queue_scores(rig: GradeRig, learners: int, prefix: str = "learner") -> dict[str, float]:
    expected = {}
    for n, launch in enumerate(rig.learners(learners, prefix)):
        assert record_progress(rig.services, launch, n % 10, 10).queued
        assert launch.subject
        expected[launch.subject] = float(n % 10)
    return expected


def assert_exactly_once(rig: GradeRig, expected: dict[str, float]) -> None:
    item = rig.line_item(tag=PROGRESS_TAG)
    posts = rig.peer.gradebook.posts(item["id"])
    per_user = Counter(p.user_id for p in posts)
    assert per_user == Counter(dict.fromkeys(expected, 1))
    assert {p.user_id: p.score["scoreGiven"] for p in posts} == expected


def test_503_for_a_while(rig: GradeRig, proxy: FaultProxy) -> None:
    expected = queue_scores(rig, 10)
    proxy.faults.path_contains = "/scores"
    proxy.faults.status_next = 12
    rig.drain(proxy)
    assert proxy.stats.injected_status == 12
    assert_exactly_once(rig, expected)


def test_429_with_retry_after_is_honoured(rig: GradeRig, proxy: FaultProxy) -> None:
    expected = queue_scores(rig, 1)
    proxy.faults.path_contains = "/scores"
    proxy.faults.status_next = 1
    proxy.faults.status_code = 429
    proxy.faults.retry_after = "1"
    rig.drain(proxy)
    assert_exactly_once(rig, expected)
    with Session(rig.services.storage.engine) as session:
        attempts = session.scalars(select(AttemptRow).order_by(AttemptRow.id)).all()
        assert [a.response_status for a in attempts] == [
            429,
            201,
        ]  # 201: the first score of this user
        waited = (attempts[1].attempted_at - attempts[0].attempted_at).total_seconds()
        assert waited >= 0.95


def test_connection_refused_then_back(rig: GradeRig, proxy: FaultProxy) -> None:
    expected = queue_scores(rig, 5)
    deliverers = rig.deliverers(proxy)
    proxy.refuse_connections()
    from lti_tool.outbox import worker_once

    report = worker_once(rig.services, rig.options(), deliverers)
    # The first refusal marks the platform unwell: items not yet started are given back
    # untried (at most the 4 already in flight were tried).
    assert report.delivered == 0 and 1 <= report.retrying <= 4
    assert report.retrying + report.released == 5
    proxy.resume()
    rig.drain(deliverers=deliverers)
    assert_exactly_once(rig, expected)


def test_dropped_after_the_platform_got_it_is_not_sent_twice(
    rig: GradeRig, proxy: FaultProxy
) -> None:
    expected = queue_scores(rig, 6)
    proxy.faults.path_contains = "/scores"
    proxy.faults.drop_after_forward_next = 4
    rig.drain(proxy)
    assert proxy.stats.dropped_after_forward == 4
    assert_exactly_once(rig, expected)
    with Session(rig.services.storage.engine) as session:
        confirmed = session.scalars(
            select(AttemptRow).where(AttemptRow.response_body.like("%read back%"))
        ).all()
        assert len(confirmed) == 4


def test_slow_answers_past_the_timeout(rig: GradeRig, proxy: FaultProxy) -> None:
    expected = queue_scores(rig, 3)
    proxy.faults.path_contains = "/scores"
    proxy.faults.slow_next = 2
    proxy.faults.slow_seconds = 0.6
    started = time.monotonic()
    rig.drain(deliverers=rig.deliverers(proxy, read_timeout=0.3))
    assert time.monotonic() - started < 10
    assert_exactly_once(rig, expected)


def test_everything_at_once(rig: GradeRig, proxy: FaultProxy) -> None:
    expected = queue_scores(rig, 40)
    proxy.faults.status_next = 15  # token, line item and score requests alike
    proxy.faults.drop_after_forward_next = 5
    proxy.faults.slow_next = 3
    proxy.faults.slow_seconds = 0.5
    rig.drain(deliverers=rig.deliverers(proxy, read_timeout=0.3), timeout=40)
    assert_exactly_once(rig, expected)


def test_a_worker_killed_after_sending_loses_nothing_and_sends_nothing_twice(
    rig: GradeRig,
) -> None:
    from datetime import UTC, datetime, timedelta

    expected = queue_scores(rig, 3)
    registry = rig.deliverers()
    deliverer = registry.get("ags_score")
    assert deliverer is not None
    with rig.services.storage.transaction() as tx:
        lease = tx.outbox.claim(now=datetime.now(UTC), limit=10, lease=timedelta(milliseconds=300))
    # The worker sends two of them, then dies before recording anything.
    for item in lease.items[:2]:
        deliverer.deliver(item)
    time.sleep(0.35)
    rig.drain(deliverers=registry)
    assert_exactly_once(rig, expected)
