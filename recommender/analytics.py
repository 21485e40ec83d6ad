"""Cohort analytics: which lessons work, and how long competencies take to reach.

Pure: imports only the standard library. Replays each learner's history through the learner
model. Per lesson: the struggle rate (share of scored attempts below the failure line) and the
learning gain (P(mastered) after the learner's next scored attempt on the competency minus
P(mastered) before the lesson, so the next attempt checks what the lesson left behind).
Lessons with enough attempts and a high struggle rate or no gain are flagged for review.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .catalog import Catalog
from .evidence import mastery_of, update
from .observation import Observation
from .params import ModelParams
from .scores import failed
from .state import new_learner

MIN_ATTEMPTS_TO_FLAG = 20
STRUGGLE_FLAG = 0.7
GAIN_FLAG = 0.01


@dataclass(frozen=True, slots=True)
class LessonStats:
    """How one lesson performs across the cohort."""

    lesson_id: str
    attempts: int
    learners: int
    struggle_rate: float | None
    learning_gain: float | None
    flagged: bool
    flag_reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CompetencyStats:
    """How long a competency takes to reach, among learners who worked on it."""

    competency_id: str
    learners: int
    proficient: int
    median_minutes_to_proficiency: float | None
    median_days_to_proficiency: float | None


@dataclass(frozen=True, slots=True)
class CohortReport:
    """Per-lesson and per-competency analytics of a cohort."""

    lessons: dict[str, LessonStats] = field(default_factory=dict)
    competencies: dict[str, CompetencyStats] = field(default_factory=dict)

    @property
    def flagged_lessons(self) -> list[str]:
        """Lessons that do not work, for content review."""
        return sorted(k for k, v in self.lessons.items() if v.flagged)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return {
            "lessons": {
                k: {
                    "attempts": v.attempts,
                    "learners": v.learners,
                    "struggle_rate": v.struggle_rate,
                    "learning_gain": v.learning_gain,
                    "flagged": v.flagged,
                    "flag_reasons": list(v.flag_reasons),
                }
                for k, v in sorted(self.lessons.items())
            },
            "competencies": {
                k: {
                    "learners": v.learners,
                    "proficient": v.proficient,
                    "median_minutes_to_proficiency": v.median_minutes_to_proficiency,
                    "median_days_to_proficiency": v.median_days_to_proficiency,
                }
                for k, v in sorted(self.competencies.items())
            },
        }


def cohort_analytics(
    catalog: Catalog,
    history: Iterable[Observation],
    params: ModelParams,
    min_attempts: int = MIN_ATTEMPTS_TO_FLAG,
) -> CohortReport:
    """Lesson struggle and gain, competency time-to-proficiency, lessons to review."""
    by_learner: dict[str, list[Observation]] = defaultdict(list)
    for obs in history:
        if not obs.voided and obs.lesson_id in catalog.lessons:
            by_learner[obs.learner_id].append(obs)
    attempts: dict[str, int] = defaultdict(int)
    scored: dict[str, int] = defaultdict(int)
    struggled: dict[str, int] = defaultdict(int)
    learners: dict[str, set[str]] = defaultdict(set)
    gains: dict[str, list[float]] = defaultdict(list)
    minutes_to: dict[str, list[float]] = defaultdict(list)
    days_to: dict[str, list[float]] = defaultdict(list)
    started_on: dict[str, set[str]] = defaultdict(set)
    for learner_id, observations in by_learner.items():
        state = new_learner(learner_id)
        pending: dict[str, tuple[str, float]] = {}
        first_seen: dict[str, tuple[Any, float]] = {}
        done: set[str] = set()
        for obs in sorted(observations, key=lambda o: o.timestamp):
            lesson = catalog.lessons[obs.lesson_id]
            minutes = (
                obs.duration_seconds / 60.0 if obs.duration_seconds else lesson.duration_minutes
            )
            before = {
                p.id: mastery_of(state, p.id, catalog, params, obs.timestamp).probability
                for p in lesson.competencies
            }
            state = update(state, obs, catalog, params)
            attempts[lesson.id] += 1
            learners[lesson.id].add(learner_id)
            is_scored = not obs.is_exposure
            if is_scored:
                scored[lesson.id] += 1
                struggled[lesson.id] += failed(obs.score, obs.success, params.score_evidence)
            for part in lesson.competencies:
                comp = part.id
                est = mastery_of(state, comp, catalog, params, obs.timestamp)
                if comp not in first_seen:
                    first_seen[comp] = (obs.timestamp, 0.0)
                    started_on[comp].add(learner_id)
                at, spent = first_seen[comp]
                first_seen[comp] = (at, spent + minutes)
                if est.mastered and comp not in done:
                    done.add(comp)
                    minutes_to[comp].append(spent + minutes)
                    days_to[comp].append((obs.timestamp - at).total_seconds() / 86400.0)
                if is_scored and comp in pending:
                    earlier_lesson, p_before = pending.pop(comp)
                    gains[earlier_lesson].append(est.probability - p_before)
                if lesson.kind != "assessment":
                    pending[comp] = (lesson.id, before[comp])
    lessons = {}
    for lid in catalog.lessons:
        n_scored = scored.get(lid, 0)
        struggle = struggled[lid] / n_scored if n_scored else None
        gain = statistics.fmean(gains[lid]) if gains.get(lid) else None
        reasons = []
        if attempts.get(lid, 0) >= min_attempts:
            if struggle is not None and struggle >= STRUGGLE_FLAG:
                reasons.append("high_struggle")
            if gain is not None and gain < GAIN_FLAG:
                reasons.append("no_learning_gain")
        lessons[lid] = LessonStats(
            lid,
            attempts.get(lid, 0),
            len(learners.get(lid, ())),
            struggle,
            gain,
            bool(reasons),
            tuple(reasons),
        )
    comps = {}
    for cid in catalog.competencies:
        mins = minutes_to.get(cid, [])
        comps[cid] = CompetencyStats(
            cid,
            len(started_on.get(cid, ())),
            len(mins),
            statistics.median(mins) if mins else None,
            statistics.median(days_to[cid]) if mins else None,
        )
    return CohortReport(lessons, comps)
