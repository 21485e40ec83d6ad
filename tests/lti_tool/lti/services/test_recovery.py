"""Issue 14, outage recovery: the platform's score endpoint down for 20 s while learners'
scores queue; once it is back, every waiting score reaches the gradebook within 30 s, exactly
once, and the endpoint was probed, not hammered, meanwhile. Time is the worker's clock,
moved a second per pass (the production backoff and lease, no real waiting)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from lti_tool.lti.services.score_delivery import KIND
from lti_tool.outbox import WorkerOptions, worker_once
from peers.fault_proxy import FaultProxy
from tests.lti_tool.lti.services.conftest import GradeRig
from tests.lti_tool.lti.services.test_outages import assert_exactly_once, queue_scores


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def score_posts(proxy: FaultProxy) -> int:
    return sum(n for path, n in proxy.stats.by_path.items() if path.endswith("/scores"))


def test_after_an_outage_every_waiting_score_arrives_within_30_s(
    rig: GradeRig, proxy: FaultProxy
) -> None:
    clock = Clock()
    # Production settings (backoff, lease, batch, concurrency), only the clock is the test's.
    options = WorkerOptions(kinds=(KIND,), clock=clock, rng=random.Random(14))
    deliverers = rig.deliverers(proxy)
    expected = queue_scores(rig, 12)
    proxy.faults.path_contains = "/scores"
    proxy.faults.status_next = 1_000_000
    for _ in range(20):  # 20 s of outage, one pass a second
        worker_once(rig.services, options, deliverers)
        clock.now += timedelta(seconds=1)
    # Probed, not hammered: per-item retries would have sent about 12 x 5 requests.
    assert score_posts(proxy) <= 4 + 8

    proxy.faults.status_next = 0
    back = clock.now
    while True:
        worker_once(rig.services, options, deliverers)
        with rig.services.storage.transaction() as tx:
            if tx.outbox.counts([KIND]).pending == 0:
                break
        clock.now += timedelta(seconds=1)
        assert clock.now - back <= timedelta(seconds=30), "a score still waits 30 s after"
    assert_exactly_once(rig, expected)
