"""The forgetting curve: predicted recall after a delay, and how stability grows.

Pure: imports only the standard library. The curve is the power law used by FSRS
(R = 0.9 when the delay equals the stability), which fits human forgetting better than an
exponential; stability grows after successful retrieval, more so when recall was low.
"""

from __future__ import annotations

from datetime import datetime

FORGETTING_FACTOR = 19.0 / 81.0
_FACTOR = FORGETTING_FACTOR
_DECAY = -0.5
SECONDS_PER_DAY = 86400.0


def recall(elapsed_days: float, stability_days: float) -> float:
    """Predicted probability of recall after `elapsed_days` at this stability."""
    if elapsed_days <= 0.0:
        return 1.0
    return float((1.0 + _FACTOR * elapsed_days / stability_days) ** _DECAY)


def days_between(earlier: datetime | None, later: datetime) -> float:
    """Days from `earlier` to `later`, 0 when `earlier` is None or later than `later`."""
    if earlier is None:
        return 0.0
    return max(0.0, (later - earlier).total_seconds() / SECONDS_PER_DAY)


def next_stability(stability_days: float, recalled: float, success: bool) -> float:
    """Stability after a retrieval attempt with predicted recall `recalled`."""
    if success:
        return min(36500.0, stability_days * (1.2 + 3.0 * (1.0 - recalled)))
    # A failure already lowers P(mastered) through the evidence; shrinking the memory as
    # well would count the same lapse twice.
    return stability_days


def days_until_recall(stability_days: float, target: float) -> float:
    """Days until predicted recall falls to `target` (inverse of `recall`)."""
    return stability_days * (float(target ** (1.0 / _DECAY)) - 1.0) / _FACTOR
