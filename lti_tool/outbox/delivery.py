"""What a deliverer is and what it answers: the contract between the outbox worker and the
code that knows how to send one kind of item (AGS scores, xAPI statements).

A deliverer is registered per kind (the container builds the registry once); the worker looks
it up by the item's `kind`. Must not import Flask or the worker.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol

from lti_tool.storage import ItemToDeliver
from lti_tool.storage.outbox import truncate

__all__ = [
    "Delivered",
    "Deliverer",
    "DelivererRegistry",
    "DeliveryResult",
    "Exchange",
    "Failed",
    "ItemToDeliver",
    "RetryLater",
    "truncate",
]


@dataclass(frozen=True)
class Exchange:
    """What went over the wire in one attempt, for the audit log."""

    request_summary: str = ""
    response_status: int | None = None
    response_body: str = ""


@dataclass(frozen=True)
class Delivered:
    """The receiver accepted the item."""

    exchange: Exchange = field(default_factory=Exchange)


@dataclass(frozen=True)
class RetryLater:
    """A failure that may heal (network, 429, 5xx). `after` (seconds) is the receiver's own
    wish (Retry-After); None lets the worker's backoff decide. `uncertain` says the request
    may have reached the receiver."""

    reason: str
    after: float | None = None
    uncertain: bool = False
    exchange: Exchange = field(default_factory=Exchange)
    # True when the trouble is this item's alone (no deliverer here, nothing configured for
    # it): it says nothing about the receiver's health.
    item_only: bool = False

    @property
    def receiver_unwell(self) -> bool:
        """Whether this failure counts against the destination's health: no answer at all,
        a 5xx, 408 or 429 (the receiver, not this item, is the trouble)."""
        if self.item_only:
            return False
        status = self.exchange.response_status
        return status is None or status >= 500 or status in (408, 429)


@dataclass(frozen=True)
class Failed:
    """A failure that will not heal (unknown user, user not gradable): not retried."""

    reason: str
    exchange: Exchange = field(default_factory=Exchange)


DeliveryResult = Delivered | RetryLater | Failed


class Deliverer(Protocol):
    """Sends one item. Must not raise for receiver or network trouble: answer RetryLater or
    Failed. An exception is treated as RetryLater by the worker (and logged)."""

    def deliver(self, item: ItemToDeliver) -> DeliveryResult: ...


class DelivererRegistry:
    """Deliverers by item kind. Thread-safe; the container builds one per process."""

    def __init__(self) -> None:
        self._by_kind: dict[str, Deliverer] = {}
        self._lock = threading.Lock()

    def register(self, kind: str, deliverer: Deliverer) -> None:
        with self._lock:
            self._by_kind[kind] = deliverer

    def unregister(self, kind: str) -> None:
        with self._lock:
            self._by_kind.pop(kind, None)

    def get(self, kind: str) -> Deliverer | None:
        return self._by_kind.get(kind)

    def kinds(self) -> list[str]:
        return sorted(self._by_kind)
