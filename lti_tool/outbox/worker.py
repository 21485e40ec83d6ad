"""The outbox worker: lease due items, hand each to the deliverer of its kind, record the
answer, back off on failures that may heal. `worker_once` drains one batch; `run_worker`
loops; `start_embedded_worker` runs the loop in a thread of the web process (embedded mode).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from lti_tool.outbox.backoff import BackoffPolicy
from lti_tool.outbox.delivery import (
    Delivered,
    DelivererRegistry,
    DeliveryResult,
    Failed,
    ItemToDeliver,
    RetryLater,
)
from lti_tool.storage import Storage
from lti_tool.storage.outbox import OutboxRepository

log = logging.getLogger("skillpath.outbox")

Clock = Callable[[], datetime]


class OutboxHost(Protocol):
    """What a worker runs on: the database and the deliverers (the container has both)."""

    @property
    def storage(self) -> Storage: ...

    @property
    def deliverers(self) -> DelivererRegistry: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


@dataclass
class WorkerOptions:
    """How one worker behaves. Defaults suit production; tests shorten them."""

    batch_size: int = 50
    # Longer than any single delivery can take (HTTP timeouts are far shorter), so a live
    # worker never loses its lease; a killed worker's items come back after it.
    lease: timedelta = timedelta(seconds=120)
    concurrency: int = 4
    kinds: Sequence[str] = ()
    policy: BackoffPolicy = field(default_factory=BackoffPolicy)
    rng: random.Random = field(default_factory=random.Random)
    clock: Clock = utc_now
    name: str = field(default_factory=default_worker_name)


@dataclass
class WorkerReport:
    """What one `worker_once` did."""

    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    lease_lost: int = 0

    def add(self, other: WorkerReport) -> None:
        self.claimed += other.claimed
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.failed += other.failed
        self.lease_lost += other.lease_lost


def _deliver(deliverers: DelivererRegistry, item: ItemToDeliver) -> DeliveryResult:
    deliverer = deliverers.get(item.kind)
    if deliverer is None:
        # A kind whose code is not loaded in this process: leave it for a worker that has it.
        return RetryLater(f"no deliverer for kind {item.kind!r} in this worker", after=60.0)
    try:
        return deliverer.deliver(item)
    except Exception as exc:  # noqa: BLE001 - a bug in one deliverer must not stop the queue
        log.exception("deliverer for %s raised on item %s", item.kind, item.id)
        return RetryLater(f"internal error: {type(exc).__name__}: {exc}")


def worker_once(
    host: OutboxHost,
    options: WorkerOptions | None = None,
    deliverers: DelivererRegistry | None = None,
) -> WorkerReport:
    """Lease one batch of due items, deliver them (with `deliverers`, by default the host's),
    record every answer."""
    options = options or WorkerOptions()
    deliverers = deliverers or host.deliverers
    storage = host.storage
    with storage.transaction() as tx:
        lease = tx.outbox.claim(
            now=options.clock(),
            limit=options.batch_size,
            lease=options.lease,
            kinds=options.kinds,
        )
    report = WorkerReport(claimed=len(lease.items))
    if not lease.items:
        return report

    def one(item: ItemToDeliver) -> None:
        started = time.monotonic()
        result = _deliver(deliverers, item)
        duration_ms = int((time.monotonic() - started) * 1000)
        now = options.clock()
        retry_at = None
        if isinstance(result, RetryLater):
            delay = options.policy.delay(item.attempts, options.rng, result.after)
            retry_at = now + timedelta(seconds=delay)
        with storage.transaction() as tx:
            kept = _finish(
                tx.outbox, item, lease.token, result, now, retry_at, options.name, duration_ms
            )
        if not kept:
            report.lease_lost += 1
            log.warning("lost the lease on outbox item %s before finishing it", item.id)
        elif isinstance(result, Delivered):
            report.delivered += 1
        elif isinstance(result, Failed):
            report.failed += 1
            log.warning("outbox item %s (%s) failed: %s", item.id, item.kind, result.reason)
        else:
            report.retrying += 1
            log.info("outbox item %s (%s) will be retried: %s", item.id, item.kind, result.reason)

    if options.concurrency <= 1 or len(lease.items) == 1:
        for item in lease.items:
            one(item)
    else:
        with ThreadPoolExecutor(max_workers=options.concurrency) as pool:
            list(pool.map(one, lease.items))
    return report


def run_worker(
    host: OutboxHost,
    stop: threading.Event,
    options: WorkerOptions | None = None,
    idle_seconds: float = 1.0,
) -> WorkerReport:
    """Drain the outbox until `stop` is set; sleep `idle_seconds` when nothing is due."""
    options = options or WorkerOptions()
    total = WorkerReport()
    while not stop.is_set():
        try:
            report = worker_once(host, options)
        except Exception:  # noqa: BLE001 - a database hiccup must not end the loop
            log.exception("outbox worker pass failed; trying again shortly")
            stop.wait(idle_seconds * 5)
            continue
        total.add(report)
        if report.claimed < options.batch_size:
            stop.wait(idle_seconds)
    return total


class EmbeddedWorker:
    """The worker loop in a daemon thread of the web process."""

    def __init__(self, host: OutboxHost, options: WorkerOptions | None = None) -> None:
        self.stop_event = threading.Event()
        self._thread = threading.Thread(
            target=run_worker,
            args=(host, self.stop_event, options),
            name="skillpath-outbox-worker",
            daemon=True,
        )

    def start(self) -> EmbeddedWorker:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()


def _finish(
    outbox: OutboxRepository,
    item: ItemToDeliver,
    token: str,
    result: DeliveryResult,
    now: datetime,
    retry_at: datetime | None,
    worker: str,
    duration_ms: int,
) -> bool:
    exchange = result.exchange
    details = {
        "now": now,
        "request_summary": exchange.request_summary,
        "response_status": exchange.response_status,
        "response_body": exchange.response_body,
        "worker": worker,
        "duration_ms": duration_ms,
    }
    if isinstance(result, Delivered):
        return outbox.finish(item.id, token, "delivered", **details)
    if isinstance(result, Failed):
        return outbox.finish(item.id, token, "failed", error=result.reason, **details)
    return outbox.finish(
        item.id,
        token,
        "retry",
        error=result.reason,
        retry_at=retry_at,
        uncertain=result.uncertain,
        **details,
    )
