from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.container import Container
from lti_tool.outbox import (
    BackoffPolicy,
    Delivered,
    Failed,
    RetryLater,
    WorkerOptions,
    worker_once,
)
from lti_tool.storage.models import AttemptRow, OutboxRow
from tests.lti_tool.outbox.conftest import KIND, ScriptedDeliverer

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def options(clock: Clock, **changes: object) -> WorkerOptions:
    base = WorkerOptions(
        batch_size=20,
        lease=timedelta(seconds=30),
        concurrency=1,
        kinds=(KIND,),
        rng=random.Random(7),
        clock=clock,
        name="test-worker",
    )
    for name, value in changes.items():
        setattr(base, name, value)
    return base


def test_enqueue_commits_and_rolls_back_with_the_caller(services: Container) -> None:
    with services.storage.transaction() as tx:
        tx.outbox.enqueue(KIND, {"n": 1}, now=T0)
    with pytest.raises(RuntimeError):
        with services.storage.transaction() as tx:
            tx.outbox.enqueue(KIND, {"n": 2}, now=T0)
            raise RuntimeError("the change that caused it failed")
    with services.storage.transaction() as tx:
        assert [i.payload for i in tx.outbox.entries(kind=KIND)] == [{"n": 1}]


def test_a_newer_value_supersedes_an_undelivered_older_one(
    services: Container, scripted: ScriptedDeliverer
) -> None:
    with services.storage.transaction() as tx:
        tx.outbox.enqueue(KIND, {"score": 1}, now=T0, supersede_key="line-1|ada")
        tx.outbox.enqueue(KIND, {"score": 5}, now=T0, supersede_key="line-2|ada")
        tx.outbox.enqueue(KIND, {"score": 2}, now=T0, supersede_key="line-1|ada")
    report = worker_once(services, options(Clock()))
    assert report.delivered == 2
    assert sorted(i.payload["score"] for i in scripted.seen) == [2, 5]
    with services.storage.transaction() as tx:
        assert tx.outbox.counts([KIND]).superseded == 1


def test_items_of_one_key_leave_in_order_and_a_retried_old_one_is_retired(
    services: Container, scripted: ScriptedDeliverer
) -> None:
    clock = Clock()
    scripted.script = lambda item: RetryLater("busy", after=10)
    with services.storage.transaction() as tx:
        tx.outbox.enqueue(KIND, {"score": 1}, now=T0, supersede_key="k")
    with services.storage.transaction() as tx:
        lease = tx.outbox.claim(now=T0, limit=10, lease=timedelta(seconds=30))
    # A newer score arrives while the old one is in flight: the old one is not retired under
    # the worker's feet, and the new one waits for it.
    with services.storage.transaction() as tx:
        tx.outbox.enqueue(KIND, {"score": 2}, now=T0, supersede_key="k")
        assert tx.outbox.claim(now=T0, limit=10, lease=timedelta(seconds=30)).items == []
    with services.storage.transaction() as tx:
        tx.outbox.finish(
            lease.items[0].id,
            lease.token,
            "retry",
            error="503",
            now=T0,
            retry_at=T0 + timedelta(seconds=5),
            worker="w",
            duration_ms=1,
        )
    scripted.script = lambda item: Delivered()
    report = worker_once(services, options(clock))
    assert [i.payload["score"] for i in scripted.seen] == [2]
    assert report.delivered == 1
    with services.storage.transaction() as tx:
        assert tx.outbox.counts([KIND]).superseded == 1


def test_backoff_is_exponential_with_jitter_and_honours_retry_after(
    services: Container, scripted: ScriptedDeliverer
) -> None:
    policy = BackoffPolicy(base_seconds=2, cap_seconds=100)
    rng = random.Random(1)
    delays = [policy.delay(n, rng) for n in range(1, 9)]
    for n, delay in enumerate(delays, start=1):
        assert 1 <= delay <= min(100, 2 * 2 ** (n - 1))
    assert max(delays[5:]) > 10
    assert policy.delay(3, rng, retry_after=42) == 42

    clock = Clock()
    scripted.script = lambda item: RetryLater("429", after=30)
    with services.storage.transaction() as tx:
        tx.outbox.enqueue(KIND, {"n": 1}, now=T0)
    worker_once(services, options(clock))
    clock.now = T0 + timedelta(seconds=29)
    assert worker_once(services, options(clock)).claimed == 0
    clock.now = T0 + timedelta(seconds=30)
    assert worker_once(services, options(clock)).claimed == 1


def test_failed_items_stop_keep_the_reason_and_can_be_retried(
    services: Container, scripted: ScriptedDeliverer
) -> None:
    clock = Clock()
    scripted.script = lambda item: Failed("HTTP 404: user not in course")
    with services.storage.transaction() as tx:
        tx.outbox.enqueue(KIND, {"n": 1}, now=T0)
    assert worker_once(services, options(clock)).failed == 1
    clock.now += timedelta(hours=1)
    assert worker_once(services, options(clock)).claimed == 0
    with services.storage.transaction() as tx:
        [item] = tx.outbox.entries(status="failed")
        assert item.last_error == "HTTP 404: user not in course"
        assert tx.outbox.retry(now=clock.now) == 1
    scripted.script = lambda item: Delivered()
    assert worker_once(services, options(clock)).delivered == 1


def test_every_attempt_is_in_the_audit_log(
    services: Container, scripted: ScriptedDeliverer
) -> None:
    from lti_tool.outbox import Exchange

    answers = iter(
        [
            RetryLater("HTTP 503", exchange=Exchange("POST /scores {..}", 503, "down" * 2000)),
            Delivered(Exchange("POST /scores {..}", 200, "{}")),
        ]
    )
    scripted.script = lambda item: next(answers)
    clock = Clock()
    with services.storage.transaction() as tx:
        tx.outbox.enqueue(KIND, {"n": 1}, now=T0)
    worker_once(services, options(clock))
    clock.now += timedelta(hours=1)
    worker_once(services, options(clock))
    with Session(services.storage.engine) as session:
        rows = session.scalars(select(AttemptRow).order_by(AttemptRow.id)).all()
        assert [(r.outcome, r.response_status) for r in rows] == [
            ("retry", 503),
            ("delivered", 200),
        ]
        assert len(rows[0].response_body) <= 2000
        assert rows[0].worker == "test-worker"
        assert rows[0].attempted_at == T0


def test_a_killed_workers_items_come_back_after_the_lease(
    services: Container, scripted: ScriptedDeliverer
) -> None:
    with services.storage.transaction() as tx:
        tx.outbox.enqueue(KIND, {"n": 1}, now=T0)
    with services.storage.transaction() as tx:
        lease = tx.outbox.claim(now=T0, limit=10, lease=timedelta(seconds=30))
    assert len(lease.items) == 1  # ...and this worker dies here
    clock = Clock(T0 + timedelta(seconds=29))
    assert worker_once(services, options(clock)).claimed == 0
    clock.now = T0 + timedelta(seconds=31)
    report = worker_once(services, options(clock))
    assert report.delivered == 1
    # The dead worker's late answer cannot overwrite the new state.
    with services.storage.transaction() as tx:
        assert not tx.outbox.finish(
            lease.items[0].id,
            lease.token,
            "failed",
            error="late",
            now=clock.now,
            worker="ghost",
        )
        assert tx.outbox.counts([KIND]).delivered == 1


def test_threads_never_claim_the_same_item(services: Container) -> None:
    total = 300
    with services.storage.transaction() as tx:
        for n in range(total):
            tx.outbox.enqueue(KIND, {"n": n}, now=T0)
    claimed: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(6)

    def work() -> None:
        barrier.wait()
        while True:
            with services.storage.transaction() as tx:
                lease = tx.outbox.claim(now=T0, limit=7, lease=timedelta(minutes=5), kinds=[KIND])
            if not lease.items:
                return
            with lock:
                claimed.extend(i.id for i in lease.items)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == total
    assert len(set(claimed)) == total
    with Session(services.storage.engine) as session:
        assert session.scalar(select(func.max(OutboxRow.attempts))) == 1


def test_a_failed_value_with_a_newer_one_is_not_retried(
    services: Container, scripted: ScriptedDeliverer
) -> None:
    scripted.script = lambda item: Failed("HTTP 400")
    with services.storage.transaction() as tx:
        tx.outbox.enqueue(KIND, {"score": 1}, now=T0, supersede_key="k")
    worker_once(services, options(Clock()))
    scripted.script = lambda item: Delivered()
    with services.storage.transaction() as tx:
        tx.outbox.enqueue(KIND, {"score": 2}, now=T0, supersede_key="k")
    worker_once(services, options(Clock()))
    with services.storage.transaction() as tx:
        assert tx.outbox.retry(now=T0) == 0
