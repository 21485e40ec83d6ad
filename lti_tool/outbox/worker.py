"""The outbox worker: lease due items, hand each to the deliverer of its kind, record the
answer, back off on failures that may heal. `worker_once` drains one batch; `run_worker`
loops; `start_embedded_worker` runs the loop in a thread of the web process (embedded mode).

Leases are short and renewed while a delivery runs (`LeaseKeeper`), so a killed worker's items
move on within one lease while a slow delivery keeps its own. Health is kept per destination
(`lti_tool.storage.outbox`): a failure that says the receiver is unwell counts against it, a
success makes everything waiting for it due at once, and once one item of a destination has
failed in a pass, its other items of that pass are given back untried.
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
from lti_tool.storage import Storage, Transaction
from lti_tool.storage.outbox import PROBE_AFTER_FAILURES, OutboxRepository

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
    # Renewed every third of itself while a delivery runs, so a live worker keeps its items
    # however slow the receiver; a killed worker's items come back after at most this long.
    lease: timedelta = timedelta(seconds=15)
    concurrency: int = 4
    # Failures in a row after which a destination gets probes instead of its queue.
    probe_after: int = PROBE_AFTER_FAILURES
    # How long recording an answer is retried while the database is unreachable (the item
    # stays ours by its lease token unless another worker took it meanwhile).
    finish_within_seconds: float = 60.0
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
    # Leased but given back untried: their destination failed earlier in the same pass.
    released: int = 0

    def add(self, other: WorkerReport) -> None:
        self.claimed += other.claimed
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.failed += other.failed
        self.lease_lost += other.lease_lost
        self.released += other.released


def _deliver(deliverers: DelivererRegistry, item: ItemToDeliver) -> DeliveryResult:
    deliverer = deliverers.get(item.kind)
    if deliverer is None:
        # A kind whose code is not loaded in this process: leave it for a worker that has it.
        return RetryLater(
            f"no deliverer for kind {item.kind!r} in this worker", after=60.0, item_only=True
        )
    try:
        return deliverer.deliver(item)
    except Exception as exc:  # noqa: BLE001 - a bug in one deliverer must not stop the queue
        log.exception("deliverer for %s raised on item %s", item.kind, item.id)
        return RetryLater(f"internal error: {type(exc).__name__}: {exc}", item_only=True)


class LeaseKeeper:
    """Renews a lease on the items still in flight, every third of the lease, in a thread of
    its own, until `stop`. A renewal that fails (database unreachable) is logged and tried
    again at the next tick."""

    def __init__(
        self, storage: Storage, token: str, item_ids: Sequence[int], options: WorkerOptions
    ) -> None:
        self._storage = storage
        self._token = token
        self._open = set(item_ids)
        self._options = options
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="skillpath-lease", daemon=True)
        self.renewals = 0

    def start(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def done(self, item_id: int) -> None:
        with self._lock:
            self._open.discard(item_id)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        every = max(self._options.lease.total_seconds() / 3, 0.01)
        while not self._stop.wait(every):
            with self._lock:
                open_ids = sorted(self._open)
            if not open_ids:
                continue
            until = self._options.clock() + self._options.lease
            try:
                with self._storage.transaction() as tx:
                    tx.outbox.renew(self._token, open_ids, until)
                self.renewals += 1
            except Exception as exc:  # noqa: BLE001 - next tick tries again
                log.warning("could not renew the outbox lease: %s", type(exc).__name__)


def worker_once(
    host: OutboxHost,
    options: WorkerOptions | None = None,
    deliverers: DelivererRegistry | None = None,
) -> WorkerReport:
    """Lease one batch of due items (and the probes of failing destinations), deliver them
    (with `deliverers`, by default the host's), record every answer."""
    options = options or WorkerOptions()
    deliverers = deliverers or host.deliverers
    storage = host.storage
    with storage.transaction() as tx:
        lease = tx.outbox.claim(
            now=options.clock(),
            limit=options.batch_size,
            lease=options.lease,
            kinds=options.kinds,
            probe_after=options.probe_after,
        )
    report = WorkerReport(claimed=len(lease.items))
    if not lease.items:
        return report
    keeper = LeaseKeeper(storage, lease.token, [i.id for i in lease.items], options).start()
    unwell: set[str] = set()
    untried: list[int] = []
    lock = threading.Lock()

    def one(item: ItemToDeliver) -> None:
        with lock:
            if item.destination in unwell:
                untried.append(item.id)
                keeper.done(item.id)
                return
        started = time.monotonic()
        result = _deliver(deliverers, item)
        duration_ms = int((time.monotonic() - started) * 1000)
        now = options.clock()
        retry_at = None
        if isinstance(result, RetryLater):
            delay = options.policy.delay(item.attempts, options.rng, result.after)
            retry_at = now + timedelta(seconds=delay)
            if result.receiver_unwell:
                with lock:
                    unwell.add(item.destination)

        def record(tx: Transaction) -> bool:
            return _finish(
                tx.outbox, item, lease.token, result, now, retry_at, options, duration_ms
            )

        try:
            kept = storage.retrying(record, within_seconds=options.finish_within_seconds)
        finally:
            keeper.done(item.id)
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

    try:
        if options.concurrency <= 1 or len(lease.items) == 1:
            for item in lease.items:
                one(item)
        else:
            with ThreadPoolExecutor(max_workers=options.concurrency) as pool:
                list(pool.map(one, lease.items))
    finally:
        keeper.stop()
    if untried:
        with storage.transaction() as tx:
            tx.outbox.release(lease.token, untried)
        report.claimed -= len(untried)
        report.released += len(untried)
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
    options: WorkerOptions,
    duration_ms: int,
) -> bool:
    exchange = result.exchange
    details = {
        "now": now,
        "request_summary": exchange.request_summary,
        "response_status": exchange.response_status,
        "response_body": exchange.response_body,
        "worker": options.name,
        "duration_ms": duration_ms,
    }
    if isinstance(result, Delivered):
        kept = outbox.finish(item.id, token, "delivered", **details)
        released = outbox.destination_succeeded(item.destination, now=now)
        if released:
            log.info("%s is back: %s waiting items are due now", item.destination, released)
        return kept
    if isinstance(result, Failed):
        return outbox.finish(item.id, token, "failed", error=result.reason, **details)
    if result.receiver_unwell:
        after = result.after

        def probe_delay(failures: int) -> float:
            beyond = failures - options.probe_after + 1
            return options.policy.probe_delay(beyond, options.rng, after)

        failures = outbox.destination_failed(
            item.destination, now=now, error=result.reason, probe_delay=probe_delay
        )
        if failures == options.probe_after:
            log.warning(
                "%s is failing (%s failures in a row: %s); probing it instead of sending",
                item.destination,
                failures,
                result.reason,
            )
    return outbox.finish(
        item.id,
        token,
        "retry",
        error=result.reason,
        retry_at=retry_at,
        uncertain=result.uncertain,
        **details,
    )
