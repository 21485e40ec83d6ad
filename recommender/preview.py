"""Path preview: the whole expected path to a pathway's goal, with milestones and dates.

Pure: imports only the standard library. The preview runs the policy forward on a copy of
the learner's state, assuming each lesson goes as the model expects (the expected posterior
of a knowledge-tracing step is the prior, so only the learning transition moves it), and
converts minutes to dates at the learner's pace. It is
recomputed whenever evidence arrives, so it is an expectation, never a promise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from .catalog import Catalog, Lesson, is_main
from .errors import require_aware
from .evidence import competency_state, current_probability, mastery_of
from .params import ModelParams
from .policy import Preferences, recommend_next
from .state import CompetencyState, LearnerState, LessonRecord

DEFAULT_MINUTES_PER_DAY = 30.0
MAX_STEPS = 200


@dataclass(frozen=True, slots=True)
class PreviewStep:
    """One expected lesson on the way to the goal."""

    lesson_id: str
    title: str
    minutes: float
    cumulative_minutes: float
    expected_date: datetime
    reason_codes: tuple[str, ...]
    completes_milestones: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MilestoneForecast:
    """When a milestone is expected to complete, and whether that is before its due date."""

    milestone_id: str
    title: str
    expected_minutes: float | None
    expected_date: datetime | None
    due_date: datetime | None
    on_track: bool | None
    complete_now: bool


@dataclass(frozen=True, slots=True)
class PathPreview:
    """The expected path: steps, milestone forecasts, total minutes and the finish date."""

    pathway_id: str
    steps: tuple[PreviewStep, ...]
    milestones: tuple[MilestoneForecast, ...]
    total_minutes: float
    expected_completion: datetime | None
    reaches_goal: bool
    minutes_per_day: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""

        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "pathway_id": self.pathway_id,
            "steps": [
                {
                    "lesson_id": s.lesson_id,
                    "title": s.title,
                    "minutes": s.minutes,
                    "cumulative_minutes": s.cumulative_minutes,
                    "expected_date": iso(s.expected_date),
                    "reason_codes": list(s.reason_codes),
                    "completes_milestones": list(s.completes_milestones),
                }
                for s in self.steps
            ],
            "milestones": [
                {
                    "milestone_id": m.milestone_id,
                    "title": m.title,
                    "expected_minutes": m.expected_minutes,
                    "expected_date": iso(m.expected_date),
                    "due_date": iso(m.due_date),
                    "on_track": m.on_track,
                    "complete_now": m.complete_now,
                }
                for m in self.milestones
            ],
            "total_minutes": self.total_minutes,
            "expected_completion": iso(self.expected_completion),
            "reaches_goal": self.reaches_goal,
            "minutes_per_day": self.minutes_per_day,
        }


def preview_path(
    catalog: Catalog,
    state: LearnerState,
    params: ModelParams,
    now: datetime,
    pathway_id: str | None = None,
    preferences: Preferences | None = None,
    minutes_per_day: float | None = None,
    max_steps: int = MAX_STEPS,
) -> PathPreview:
    """The expected path from here to the pathway's goal at the learner's pace."""
    require_aware(now)
    pathway = catalog.pathway(pathway_id)
    pace = minutes_per_day or state.minutes_per_day or DEFAULT_MINUTES_PER_DAY
    skip_at = pathway.thresholds.skip_at_or_above

    def complete(s: LearnerState, comps: tuple[str, ...], at: datetime) -> bool:
        return all(mastery_of(s, c, catalog, params, at, skip_at).mastered for c in comps)

    done_at: dict[str, tuple[float, datetime]] = {}
    complete_now = {m.id for m in pathway.milestones if complete(state, m.competencies, now)}
    sim = state
    steps: list[PreviewStep] = []
    total = 0.0
    reached = False
    moment = now
    for _ in range(max_steps):
        rec = recommend_next(catalog, sim, params, moment, pathway.id, preferences, robust=False)
        if rec.lesson_id is None:
            reached = rec.goal_reached
            break
        lesson = catalog.lessons[rec.lesson_id]
        total += lesson.duration_minutes
        moment = now + timedelta(days=total / pace)
        sim = _expected_step(sim, lesson, catalog, params, moment)
        # A pin or an assignment is taken once on the way; the preview then moves on.
        sim = replace(
            sim,
            overrides=tuple(
                replace(o, active=False)
                if o.kind in ("pin", "assign") and o.lesson_id == lesson.id
                else o
                for o in sim.overrides
            ),
        )
        newly = tuple(
            m.id
            for m in pathway.milestones
            if m.id not in done_at
            and m.id not in complete_now
            and complete(sim, m.competencies, moment)
        )
        for mid in newly:
            done_at[mid] = (total, moment)
        steps.append(
            PreviewStep(
                lesson.id,
                lesson.title,
                lesson.duration_minutes,
                total,
                moment,
                tuple(r.code for r in rec.reasons),
                newly,
            )
        )
    started = state.started.get(pathway.id, now)
    forecasts = []
    for m in pathway.milestones:
        due = started + timedelta(days=m.due_days) if m.due_days is not None else None
        if m.id in complete_now:
            forecasts.append(MilestoneForecast(m.id, m.title, 0.0, now, due, True, True))
            continue
        minutes, when = done_at.get(m.id, (None, None))
        on_track = None if due is None else (when is not None and when <= due)
        forecasts.append(MilestoneForecast(m.id, m.title, minutes, when, due, on_track, False))
    return PathPreview(
        pathway.id,
        tuple(steps),
        tuple(forecasts),
        total,
        moment if reached else None,
        reached,
        pace,
    )


def _expected_step(
    state: LearnerState, lesson: Lesson, catalog: Catalog, params: ModelParams, at: datetime
) -> LearnerState:
    """The state after a lesson that goes as expected: learning happens, nothing is failed."""
    comps = dict(state.competencies)
    for part in lesson.competencies:
        cs = competency_state(state, part.id, params)
        p = current_probability(state, cs, at, params)
        if part.teaches > 0.0:
            p = p + (1.0 - p) * params.for_competency(part.id).learn * part.teaches
        passed = (
            lesson.kind == "assessment" and p >= catalog.competencies[part.id].mastery_threshold
        )
        comps[part.id] = CompetencyState(
            p,
            at,
            cs.stability_days,
            cs.attempts + 1,
            0,
            None,
            lesson.id,
            cs.assessed or passed,
            cs.mastered_by_override,
            at if is_main(lesson, part.id) else cs.checked,
            1.0,
            state.taken,
        )
    lessons = dict(state.lessons)
    record = lessons.get(lesson.id)
    lessons[lesson.id] = LessonRecord((record.attempts if record else 0) + 1, at, None)
    return replace(state, competencies=comps, lessons=lessons, taken=state.taken + 1)
