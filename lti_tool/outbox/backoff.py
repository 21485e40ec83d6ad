"""When to try again: exponential backoff with full jitter, and the reading of an HTTP answer
as Delivered / RetryLater / Failed. Pure functions; the random generator is a parameter."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from lti_tool.outbox.delivery import Delivered, DeliveryResult, Exchange, Failed, RetryLater
from xapi.http import RETRYABLE_STATUSES

# Beside the statuses any safe request may retry on, a queued delivery also waits out 408
# (timeout), 409 (conflict while the receiver updates), 423 (locked) and 425 (too early);
# every other 4xx says the request itself is wrong, and every 5xx may heal.
RETRYABLE_4XX = frozenset({408, 409, 423, 425} | {s for s in RETRYABLE_STATUSES if s < 500})


@dataclass(frozen=True)
class BackoffPolicy:
    """Delay before attempt n+1 after n failed attempts: uniform in
    [base/2, min(cap, base * 2**(n-1))] ("full jitter" above a floor), so a crowd of
    workers spreads out instead of retrying in lockstep."""

    base_seconds: float = 2.0
    cap_seconds: float = 600.0
    # A Retry-After longer than this is clamped: a receiver saying "come back in a day" is
    # retried sooner and may ask again.
    max_retry_after_seconds: float = 3600.0

    # A failing destination is probed with one item at a time: the first probe this long
    # after it was found failing, doubling up to the cap. The cap bounds how long waiting
    # items can sit after the receiver is back (one probe interval, then all are due).
    probe_base_seconds: float = 1.0
    probe_cap_seconds: float = 10.0

    def probe_delay(
        self, failures: int, rng: random.Random, retry_after: float | None = None
    ) -> float:
        """Seconds to the next probe of a destination after `failures` failures in a row:
        jittered in [half, whole] of an exponential step, never under the receiver's own
        Retry-After (clamped to the cap's double)."""
        step = min(self.probe_cap_seconds, self.probe_base_seconds * 2 ** max(failures - 1, 0))
        delay = rng.uniform(step / 2, step)
        if retry_after is not None:
            delay = max(delay, min(retry_after, 2 * self.probe_cap_seconds))
        return delay

    def delay(self, attempts: int, rng: random.Random, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after_seconds)
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** max(attempts - 1, 0))
        floor = min(self.base_seconds / 2, ceiling)
        return rng.uniform(floor, ceiling)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date. None if absent or
    unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def result_for_status(
    status: int, body: str, headers: Mapping[str, str], exchange: Exchange
) -> DeliveryResult:
    """Classify a receiver's HTTP answer."""
    if 200 <= status < 300:
        return Delivered(exchange)
    reason = f"HTTP {status}: {body.strip()[:300]}" if body.strip() else f"HTTP {status}"
    if status >= 500 or status in RETRYABLE_4XX:
        after = parse_retry_after(headers.get("Retry-After") or headers.get("retry-after"))
        # 500/502/504 may come after the receiver applied the request.
        uncertain = status in (500, 502, 504)
        return RetryLater(reason, after=after, uncertain=uncertain, exchange=exchange)
    return Failed(reason, exchange)
