"""What the LRS hears about a learner after a launch: Skillpath's own statements, each queued in
the outbox in the transaction of the change that caused it.

A statement goes out when something changed since the last one (kept on the learner's record):
a new recommended lesson, a milestone newly reached, a competency newly mastered or no longer
mastered (with the mastery estimate), a new flag for a coach. A launch that changes nothing
sends nothing, so reloading the page does not flood the LRS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lti_tool.storage import LaunchRecord, LearnerRecord, Transaction
from lti_tool.usecases.statements import queue_statement
from recommender import Catalog, LearnerState, PathPreview, Recommendation
from xapi.statements import (
    StatementContext,
    competency_result,
    flagged_for_coach,
    milestone_reached,
    recommended,
)


@dataclass(frozen=True)
class Reported:
    """What the LRS was last told about one learner in one pathway."""

    milestones: frozenset[str] = frozenset()
    mastered: frozenset[str] = frozenset()
    coach_flags: frozenset[str] = frozenset()

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Reported:
        data = data or {}
        return cls(
            frozenset(data.get("milestones", ())),
            frozenset(data.get("mastered", ())),
            frozenset(data.get("coach_flags", ())),
        )

    def to_json(self) -> dict[str, list[str]]:
        return {
            "milestones": sorted(self.milestones),
            "mastered": sorted(self.mastered),
            "coach_flags": sorted(self.coach_flags),
        }


def report_changes(
    tx: Transaction,
    launch: LaunchRecord,
    record: LearnerRecord,
    context: StatementContext,
    catalog: Catalog,
    state: LearnerState,
    recommendation: Recommendation,
    preview: PathPreview,
    estimates: Mapping[str, Any],
    now: datetime,
) -> int:
    """Queue a statement for each change since the last report; returns how many."""
    before = Reported.from_json(record.reported)
    statements: list[dict[str, Any]] = []

    lesson = catalog.lessons.get(recommendation.lesson_id or "")
    if lesson is not None and record.last_recommended != lesson.id:
        codes = [reason["code"] for reason in recommendation.to_dict()["reasons"]]
        statements.append(recommended(context, lesson.id, lesson.title, codes, now=now))
        record.last_recommended = lesson.id

    reached = frozenset(m.milestone_id for m in preview.milestones if m.complete_now)
    for forecast in preview.milestones:
        if forecast.milestone_id in reached - before.milestones:
            statements.append(
                milestone_reached(context, forecast.milestone_id, forecast.title, now=now)
            )

    mastered = frozenset(c for c, e in estimates.items() if e.mastered)
    for competency_id in sorted(mastered ^ before.mastered):
        estimate = estimates.get(competency_id)
        if estimate is None:
            continue  # no longer in the pathway: nothing to say about it
        statements.append(
            competency_result(
                context,
                competency_id,
                catalog.competency(competency_id).name,
                min(1.0, max(0.0, float(estimate.probability))),
                mastered=bool(estimate.mastered),
                now=now,
            )
        )

    flags = frozenset(state.coach_flags)
    for competency_id in sorted(flags - before.coach_flags):
        if competency_id not in catalog.competencies:
            continue
        statements.append(
            flagged_for_coach(
                context,
                competency_id,
                catalog.competency(competency_id).name,
                ["repeated_failures"],
                now=now,
            )
        )

    for statement in statements:
        queue_statement(tx, launch, statement, now)
    after = Reported(reached | before.milestones, mastered, flags)
    if after != before:
        record.reported = {**(record.reported or {}), **after.to_json()}
    return len(statements)
