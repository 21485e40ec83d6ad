"""The durable outbox: scores and statements written in the caller's transaction, delivered
by a worker with retries, backoff, leases and an audit log."""

from lti_tool.outbox.backoff import BackoffPolicy, parse_retry_after, result_for_status
from lti_tool.outbox.delivery import (
    Delivered,
    Deliverer,
    DeliveryResult,
    Exchange,
    Failed,
    ItemToDeliver,
    RetryLater,
)
from lti_tool.outbox.queue import claim, counts, enqueue, finish, list_items, retry
from lti_tool.outbox.registry import register_deliverer, registered_kinds, unregister_deliverer
from lti_tool.outbox.worker import (
    EmbeddedWorker,
    WorkerOptions,
    WorkerReport,
    run_worker,
    start_embedded_worker,
    worker_once,
)

__all__ = [
    "BackoffPolicy",
    "Delivered",
    "Deliverer",
    "DeliveryResult",
    "EmbeddedWorker",
    "Exchange",
    "Failed",
    "ItemToDeliver",
    "RetryLater",
    "WorkerOptions",
    "WorkerReport",
    "claim",
    "counts",
    "enqueue",
    "finish",
    "list_items",
    "parse_retry_after",
    "register_deliverer",
    "registered_kinds",
    "result_for_status",
    "retry",
    "run_worker",
    "start_embedded_worker",
    "unregister_deliverer",
    "worker_once",
]
