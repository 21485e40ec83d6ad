"""One piece of evidence about a learner and a lesson, as the engine consumes it.

Pure data: no I/O, no framework imports. The xAPI reader (`xapi/`) turns statements into
`Observation` values; the engine turns them into learner-state updates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Observation:
    """What one learner did with one lesson at one moment.

    `score` is the scaled score in [0, 1] when the statement had one (or derived from
    raw/min/max, or 1/0 from success); `None` means exposure without a score (a video
    watched), which is not evidence of mastery. `timestamp` must be timezone-aware.
    """

    learner_id: str
    lesson_id: str
    timestamp: datetime
    score: float | None = None
    success: bool | None = None
    duration_seconds: float | None = None
    voided: bool = False
    statement_id: str | None = None

    def __post_init__(self) -> None:
        if self.timestamp.tzinfo is None:
            raise ValueError("Observation.timestamp must be timezone-aware")
        if self.score is not None and not 0.0 <= self.score <= 1.0:
            raise ValueError(f"Observation.score must be in [0, 1], got {self.score}")

    @property
    def is_exposure(self) -> bool:
        """True when the observation carries no score and no success: exposure only."""
        return self.score is None and self.success is None
