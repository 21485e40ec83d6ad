"""Health per destination: a failing receiver is probed one item at a time, not hammered; the
first success makes everything waiting for it due at once; one destination's trouble leaves
the others alone; leases are renewed while a delivery runs and given back when untried."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime, timedelta

from lti_tool.container import Container
from lti_tool.outbox import (
    BackoffPolicy,
    Delivered,
    DeliveryResult,
    Exchange,
    ItemToDeliver,
    RetryLater,
    WorkerOptions,
    worker_once,
)
from tests.lti_tool.outbox.conftest import KIND, ScriptedDeliverer

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def options(clock: Clock, **changes: object) -> WorkerOptions:
    base = WorkerOptions(
        batch_size=50,
        concurrency=1,
        kinds=(KIND,),
        rng=random.Random(7),
        clock=clock,
        name="test-worker",
    )
    for name, value in changes.items():
        setattr(base, name, value)
    return base


def enqueue(services: Container, tenant: str, count: int) -> None:
    with services.storage.transaction() as tx:
        for n in range(count):
            tx.outbox.enqueue(KIND, {"issuer": tenant, "client_id": "c", "n": n}, now=T0)


def unavailable(item: ItemToDeliver) -> DeliveryResult:
    return RetryLater("HTTP 503", exchange=Exchange("POST", 503, ""))


def test_a_failing_destination_is_probed_not_hammered_and_released_on_success(
    services: Container, scripted: ScriptedDeliverer
) -> None:
    clock = Clock()
    enqueue(services, "https://lms.example", 30)
    down = True
    scripted.script = lambda item: unavailable(item) if down else Delivered()
    tried_while_down = 0
    for _ in range(60):  # one pass a second for a minute of outage
        worker_once(services, options(clock))
        clock.advance(1)
    tried_while_down = len(scripted.seen)
    # First pass: one failure marks the receiver unwell, the other 29 go back untried; the
    # destination is failing after three, then one probe at a time, at most every 10 s.
    assert tried_while_down <= 3 + 60 // 5
    with services.storage.transaction() as tx:
        (health,) = tx.outbox.destinations()
    assert health.failing and health.pending == 30 and health.failures == tried_while_down

    down = False
    recovered_at = clock.now
    while True:
        worker_once(services, options(clock))
        with services.storage.transaction() as tx:
            if tx.outbox.counts([KIND]).pending == 0:
                break
        clock.advance(1)
        assert clock.now - recovered_at <= timedelta(seconds=30), "not delivered in 30 s"
    # One probe interval (at most 10 s) and every item went out at once.
    assert clock.now - recovered_at <= timedelta(seconds=11)
    with services.storage.transaction() as tx:
        (health,) = tx.outbox.destinations()
    assert not health.failing and health.failures == 0 and health.pending == 0


def test_one_destination_down_leaves_the_others_alone(
    services: Container, scripted: ScriptedDeliverer
) -> None:
    clock = Clock()
    enqueue(services, "https://down.example", 10)
    enqueue(services, "https://up.example", 10)
    scripted.script = lambda item: (
        unavailable(item) if item.payload["issuer"] == "https://down.example" else Delivered()
    )
    for _ in range(5):
        worker_once(services, options(clock))
        clock.advance(1)
    delivered = [i for i in scripted.seen if i.payload["issuer"] == "https://up.example"]
    assert len(delivered) == 10
    with services.storage.transaction() as tx:
        health = {h.destination: h for h in tx.outbox.destinations()}
    down = health[f"{KIND} https://down.example c"]
    assert down.failing and down.pending == 10
    # Nothing waits for the healthy one, and it never failed: it has no record at all.
    assert f"{KIND} https://up.example c" not in health


def test_failures_of_one_item_do_not_mark_its_receiver_unwell(
    services: Container, scripted: ScriptedDeliverer
) -> None:
    """A 409 (or a deliverer missing in this process) is the item's trouble, not the
    receiver's: the other items keep flowing."""
    clock = Clock()
    enqueue(services, "https://lms.example", 6)
    scripted.script = lambda item: (
        RetryLater("HTTP 409", exchange=Exchange("POST", 409, ""))
        if item.payload["n"] < 4
        else Delivered()
    )
    worker_once(services, options(clock))
    assert len(scripted.seen) == 6
    with services.storage.transaction() as tx:
        assert tx.outbox.destinations()[0].failures == 0


def test_retry_after_postpones_the_next_probe(
    services: Container, scripted: ScriptedDeliverer
) -> None:
    clock = Clock()
    enqueue(services, "https://lms.example", 5)
    scripted.script = lambda item: RetryLater(
        "HTTP 429", after=15, exchange=Exchange("POST", 429, "")
    )
    for _ in range(3):
        worker_once(services, options(clock))
        clock.advance(0.1)
    with services.storage.transaction() as tx:
        (health,) = tx.outbox.destinations()
    assert health.failing and health.probe_at is not None
    assert health.probe_at - clock.now >= timedelta(seconds=14)


def test_several_workers_take_one_probe_between_them(
    services: Container, scripted: ScriptedDeliverer
) -> None:
    clock = Clock()
    enqueue(services, "https://lms.example", 20)
    scripted.script = unavailable
    for _ in range(3):
        worker_once(services, options(clock))
    clock.advance(30)
    seen_before = len(scripted.seen)
    with services.storage.transaction() as tx:
        first = tx.outbox.claim(now=clock.now, limit=50, lease=timedelta(seconds=15))
    with services.storage.transaction() as tx:
        second = tx.outbox.claim(now=clock.now, limit=50, lease=timedelta(seconds=15))
    assert len(first.items) == 1 and second.items == []
    assert len(scripted.seen) == seen_before


def test_the_lease_is_renewed_while_a_slow_delivery_runs(
    services: Container, scripted: ScriptedDeliverer
) -> None:
    """A delivery that takes longer than the lease keeps its item: no second worker takes
    it (and sends it again) meanwhile."""
    enqueue(services, "https://lms.example", 1)
    started = threading.Event()

    def slow(item: ItemToDeliver) -> DeliveryResult:
        started.set()
        time.sleep(2.5)
        return Delivered()

    scripted.script = slow
    short = WorkerOptions(
        lease=timedelta(seconds=1.0), kinds=(KIND,), concurrency=1, name="slow-worker"
    )
    first = threading.Thread(target=worker_once, args=(services, short))
    first.start()
    assert started.wait(5)
    taken_by_others = 0
    deadline = time.monotonic() + 2.2  # past two leases
    while time.monotonic() < deadline:
        with services.storage.transaction() as tx:
            lease = tx.outbox.claim(now=datetime.now(UTC), limit=10, lease=timedelta(seconds=5))
            taken_by_others += len(lease.items)
        time.sleep(0.05)
    first.join(5)
    assert taken_by_others == 0
    assert len(scripted.seen) == 1
    with services.storage.transaction() as tx:
        assert tx.outbox.counts([KIND]).delivered == 1


def test_a_killed_workers_items_move_on_within_30_seconds(
    services: Container, scripted: ScriptedDeliverer
) -> None:
    clock = Clock()
    enqueue(services, "https://lms.example", 3)
    production = WorkerOptions()
    assert production.lease <= timedelta(seconds=30)
    with services.storage.transaction() as tx:
        held = tx.outbox.claim(now=clock.now, limit=10, lease=production.lease)
    assert len(held.items) == 3  # ... and the worker holding them is killed
    clock.advance(production.lease.total_seconds() + 1)
    report = worker_once(services, options(clock))
    assert report.delivered == 3
    assert all(item.uncertain for item in scripted.seen)  # checked with the receiver first


def test_probe_delays_grow_to_a_cap() -> None:
    policy = BackoffPolicy()
    rng = random.Random(2)
    delays = [policy.probe_delay(n, rng) for n in range(1, 12)]
    assert all(0.5 <= d <= 10 for d in delays)
    assert max(delays[6:]) > 5
    assert policy.probe_delay(1, rng, retry_after=15) >= 15
    assert policy.probe_delay(1, rng, retry_after=3600) <= 20
