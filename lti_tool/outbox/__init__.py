"""The durable outbox: scores and statements written in the caller's transaction (the queue is
`lti_tool.storage.outbox`), delivered by a worker with retries, backoff, leases and an audit
log. Deliverers implement `Deliverer`; the container registers one per kind."""

from lti_tool.outbox.backoff import BackoffPolicy, parse_retry_after, result_for_status
from lti_tool.outbox.delivery import (
    Delivered,
    Deliverer,
    DelivererRegistry,
    DeliveryResult,
    Exchange,
    Failed,
    ItemToDeliver,
    RetryLater,
)
from lti_tool.outbox.worker import (
    EmbeddedWorker,
    OutboxHost,
    WorkerOptions,
    WorkerReport,
    run_worker,
    worker_once,
)

__all__ = [
    "BackoffPolicy",
    "Delivered",
    "Deliverer",
    "DelivererRegistry",
    "DeliveryResult",
    "EmbeddedWorker",
    "Exchange",
    "Failed",
    "ItemToDeliver",
    "OutboxHost",
    "RetryLater",
    "WorkerOptions",
    "WorkerReport",
    "parse_retry_after",
    "result_for_status",
    "run_worker",
    "worker_once",
]
