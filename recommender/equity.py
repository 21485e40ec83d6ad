"""Equity audit: does the engine treat groups of learners differently?

Pure: imports only the standard library. Given what was recommended to whom, an optional
group attribute per learner, and who reached which milestones, it reports per group the rate
of advanced and of remedial recommendations and the milestone attainment rate, with disparity
ratios (each group's rate over the highest group's rate; below 0.8 fails the common
four-fifths rule of thumb and is flagged for an admin to look at).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .catalog import Catalog
from .policy import Recommendation

ADVANCED_DIFFICULTY = 0.7
FOUR_FIFTHS = 0.8
UNKNOWN_GROUP = "(unknown)"


@dataclass(frozen=True, slots=True)
class GroupRates:
    """Rates of one group."""

    group: str
    learners: int
    recommendations: int
    advanced_rate: float | None
    remedial_rate: float | None
    milestone_rate: float | None


@dataclass(frozen=True, slots=True)
class EquityReport:
    """Per-group rates, disparity ratios per metric, and the metrics that fail four-fifths."""

    groups: dict[str, GroupRates] = field(default_factory=dict)
    disparity: dict[str, dict[str, float]] = field(default_factory=dict)
    flags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return {
            "groups": {
                g: {
                    "learners": r.learners,
                    "recommendations": r.recommendations,
                    "advanced_rate": r.advanced_rate,
                    "remedial_rate": r.remedial_rate,
                    "milestone_rate": r.milestone_rate,
                }
                for g, r in sorted(self.groups.items())
            },
            "disparity": self.disparity,
            "flags": list(self.flags),
        }


def equity_audit(
    catalog: Catalog,
    recommendations: Iterable[tuple[str, Recommendation]],
    groups: Mapping[str, str] | None = None,
    milestones_reached: Mapping[str, Mapping[str, bool]] | None = None,
    advanced_difficulty: float = ADVANCED_DIFFICULTY,
) -> EquityReport:
    """Audit `(learner_id, Recommendation)` pairs by group.

    Advanced: a recommended lesson at or above `advanced_difficulty`. Remedial: a
    recommendation whose reasons include `remediation`. Milestone rate: reached milestones
    over all listed milestones of the group's learners.
    """
    groups = groups or {}
    milestones_reached = milestones_reached or {}
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # recs, advanced, remedial
    members: dict[str, set[str]] = defaultdict(set)
    for learner_id, rec in recommendations:
        group = groups.get(learner_id, UNKNOWN_GROUP)
        members[group].add(learner_id)
        if rec.lesson_id is None:
            continue
        row = counts[group]
        row[0] += 1
        lesson = catalog.lessons.get(rec.lesson_id)
        row[1] += lesson is not None and lesson.difficulty >= advanced_difficulty
        row[2] += any(r.code == "remediation" for r in rec.reasons)
    reached: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for learner_id, outcome in milestones_reached.items():
        group = groups.get(learner_id, UNKNOWN_GROUP)
        members[group].add(learner_id)
        reached[group][0] += sum(bool(v) for v in outcome.values())
        reached[group][1] += len(outcome)
    rates = {}
    for group in sorted(members):
        recs, adv, rem = counts[group]
        hit, total = reached[group]
        rates[group] = GroupRates(
            group,
            len(members[group]),
            recs,
            adv / recs if recs else None,
            rem / recs if recs else None,
            hit / total if total else None,
        )
    disparity: dict[str, dict[str, float]] = {}
    flags = []
    for metric in ("advanced_rate", "remedial_rate", "milestone_rate"):
        values = {g: getattr(r, metric) for g, r in rates.items() if getattr(r, metric) is not None}
        top = max(values.values(), default=0.0)
        if len(values) < 2 or top == 0:
            continue
        disparity[metric] = {g: v / top for g, v in values.items()}
        if min(disparity[metric].values()) < FOUR_FIFTHS:
            flags.append(metric)
    return EquityReport(rates, disparity, tuple(flags))
