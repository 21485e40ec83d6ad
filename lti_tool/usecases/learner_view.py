"""What the learner page shows, computed from the learner's state when it changes and stored
(`LearnerPageRecord.snapshot`), with the learner's row of the class view (`summary`).

The engine decides (`recommend`, `preview_path`, `mastery_of`, `at_risk`); this module puts
it in people's terms: the next lesson as one card with a reason in competency names and its
alternatives in other formats, the path as a map grouped by milestone (each lesson once, its
expected attempts folded in), mastery per competency ("not started" until there is evidence,
the goal level, the last change and when to review), recognitions and the instructor's notes.
Everything is JSON-safe; dates are ISO 8601 in UTC (the pages format them for the learner).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lti_tool.usecases.pre_assessment import pre_assessment_of
from recommender import (
    Catalog,
    LearnerState,
    MasteryEstimate,
    ModelParams,
    PathPreview,
    Pathway,
    Preferences,
    Recommendation,
    at_risk,
    mastery_of,
    preview_path,
    recall,
    recommend,
)

VIEW_VERSION = 1
# "I have N minutes" is about now: after this long it no longer shapes the recommendation.
MINUTES_VALID_FOR = timedelta(hours=12)
# A milestone whose probability of being missed is at least this is "at risk".
AT_RISK_FROM = 0.5
RECENT_DONE = 8


@dataclass(frozen=True)
class ComputedView:
    """A computed view and the engine's answers it came from (for statements and grades)."""

    snapshot: dict[str, Any]
    summary: dict[str, Any]
    recommendation: Recommendation
    preview: PathPreview
    estimates: dict[str, MasteryEstimate]


@dataclass(frozen=True)
class ViewInputs:
    """What a view is computed from besides the state."""

    preferences: Mapping[str, Any]
    pre_assessment: Mapping[str, Any] | None
    changes: Mapping[str, Any]
    recognitions: Sequence[Mapping[str, Any]]
    evidence: Mapping[str, Any]
    catalog_digest: str
    last_activity: datetime | None


def preferences_now(preferences: Mapping[str, Any], now: datetime) -> Preferences:
    """The engine's `Preferences` from what the learner chose (minutes expire)."""
    minutes = preferences.get("minutes")
    set_at = preferences.get("minutes_set_at")
    if minutes is not None and set_at:
        if now - datetime.fromisoformat(str(set_at)) > MINUTES_VALID_FOR:
            minutes = None
    fmt = preferences.get("format") or None
    return Preferences(fmt, float(minutes) if minutes else None)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _lesson(catalog: Catalog, lesson_id: str) -> dict[str, Any]:
    lesson = catalog.lessons[lesson_id]
    return {
        "lesson_id": lesson.id,
        "title": lesson.title,
        "format": lesson.format,
        "kind": lesson.kind,
        "minutes": lesson.duration_minutes,
        "opens": bool(lesson.url and lesson.url.lower().startswith(("https://", "http://"))),
    }


def _reasons(catalog: Catalog, rec: Recommendation) -> list[dict[str, Any]]:
    found = []
    for reason in rec.reasons:
        comp = catalog.competencies.get(reason.competency_id or "")
        lesson = catalog.lessons.get(reason.lesson_id or "")
        found.append(
            {
                "code": reason.code,
                "competency_id": reason.competency_id,
                "competency_name": comp.name if comp else None,
                "lesson_id": reason.lesson_id,
                "lesson_title": lesson.title if lesson else None,
                "detail": dict(reason.detail),
            }
        )
    return found


def _notes(catalog: Catalog, state: LearnerState) -> list[dict[str, Any]]:
    """The instructor's active decisions about this learner, with their notes."""
    notes = []
    for o in state.overrides:
        if not o.active:
            continue
        lesson = catalog.lessons.get(o.lesson_id or "")
        comp = catalog.competencies.get(o.competency_id or "")
        notes.append(
            {
                "kind": o.kind,
                "lesson_id": o.lesson_id,
                "lesson_title": lesson.title if lesson else o.lesson_id,
                "competency_id": o.competency_id,
                "competency_name": comp.name if comp else o.competency_id,
                "note": o.note,
                "by": o.by,
                "at": _iso(o.at),
            }
        )
    return sorted(notes, key=lambda n: str(n["at"]), reverse=True)


def review_date(updated: datetime | None, stability_days: float, target: float) -> datetime | None:
    """When predicted recall falls to `target` (the engine's curve, solved by bisection)."""
    if updated is None:
        return None
    low, high = 0.0, 36500.0
    for _ in range(40):
        middle = (low + high) / 2
        if recall(middle, stability_days) > target:
            low = middle
        else:
            high = middle
    return updated + timedelta(days=high)


def mastery_entries(
    catalog: Catalog,
    pathway: Pathway,
    state: LearnerState,
    params: ModelParams,
    now: datetime,
    changes: Mapping[str, Any],
) -> list[dict[str, Any]]:
    goals = {g.competency: g.level for g in pathway.goal}
    entries = []
    for comp_id in catalog.pathway_competencies(pathway):
        comp = catalog.competency(comp_id)
        cs = state.competencies.get(comp_id)
        est = mastery_of(state, comp_id, catalog, params, now)
        level = max(goals.get(comp_id, 0.0), comp.mastery_threshold)
        review_at = None
        review_due = False
        if cs is None:
            status = "not_started"
        else:
            held = cs.p >= comp.mastery_threshold or cs.mastered_by_override
            review_due = held and not cs.mastered_by_override and est.recall < params.review_recall
            if held and not cs.mastered_by_override:
                review_at = review_date(cs.updated, cs.stability_days, params.review_recall)
            status = "review_due" if review_due else "mastered" if est.mastered else "learning"
        change = dict(changes.get(comp_id) or {})
        if change.get("lesson_id") in catalog.lessons:
            change["lesson_title"] = catalog.lessons[change["lesson_id"]].title
        entries.append(
            {
                "competency_id": comp_id,
                "name": comp.name,
                "status": status,
                "probability": round(est.probability, 4),
                "mastered": est.mastered,
                "goal": round(level, 4),
                "is_goal": comp_id in goals,
                "threshold": comp.mastery_threshold,
                "recall": round(est.recall, 4),
                "review_due": review_due,
                "review_at": _iso(review_at),
                "evidence": est.evidence,
                "last_change": change or None,
            }
        )
    return entries


def _fold(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each lesson once, its expected attempts folded in (first position kept)."""
    folded: dict[str, dict[str, Any]] = {}
    for step in steps:
        found = folded.get(step["lesson_id"])
        if found is None:
            folded[step["lesson_id"]] = dict(step)
        else:
            found["times"] += 1
            found["minutes"] += step["minutes"]
            found["expected_date"] = step["expected_date"]
    return list(folded.values())


def path_map(
    catalog: Catalog,
    pathway: Pathway,
    preview: PathPreview,
    recognitions: Sequence[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """The preview grouped by milestone: done ones, the current one, those ahead, and the
    steps after the last milestone ("goal")."""
    reached = {r["milestone_id"]: r["reached_at"] for r in recognitions}
    forecasts = {m.milestone_id: m for m in preview.milestones}
    open_ids = [m.id for m in pathway.milestones if not forecasts[m.id].complete_now]
    sections: dict[str, list[dict[str, Any]]] = {mid: [] for mid in open_ids}
    sections["goal"] = []
    remaining = list(open_ids)
    for index, step in enumerate(preview.steps):
        section = remaining[0] if remaining else "goal"
        lesson = catalog.lessons.get(step.lesson_id)
        sections[section].append(
            {
                "lesson_id": step.lesson_id,
                "title": step.title,
                "format": lesson.format if lesson else None,
                "minutes": step.minutes,
                "times": 1,
                "expected_date": _iso(step.expected_date),
                "reason_codes": list(step.reason_codes),
                "status": "next" if index == 0 else "ahead",
            }
        )
        remaining = [m for m in remaining if m not in step.completes_milestones]
    groups = []
    current_seen = False
    for milestone in pathway.milestones:
        forecast = forecasts[milestone.id]
        done = forecast.complete_now
        if done:
            status = "done"
        elif not current_seen:
            status, current_seen = "current", True
        else:
            status = "ahead"
        groups.append(
            {
                "milestone_id": milestone.id,
                "title": milestone.title,
                "status": status,
                "competencies": [catalog.competency(c).name for c in milestone.competencies],
                "due_date": _iso(forecast.due_date),
                "expected_date": _iso(forecast.expected_date) if not done else None,
                "on_track": forecast.on_track,
                "reached_at": reached.get(milestone.id),
                "steps": _fold(sections.get(milestone.id, [])),
            }
        )
    if sections["goal"] or not pathway.milestones:
        groups.append(
            {
                "milestone_id": None,
                "title": pathway.title,
                "status": "ahead" if current_seen else "current",
                "competencies": [catalog.competency(g.competency).name for g in pathway.goal],
                "due_date": None,
                "expected_date": _iso(preview.expected_completion),
                "on_track": None,
                "reached_at": None,
                "steps": _fold(sections["goal"]),
            }
        )
    return groups


def _done(catalog: Catalog, pathway: Pathway, state: LearnerState) -> list[dict[str, Any]]:
    wanted = catalog.pathway_competency_set(pathway)
    done = [
        {
            "lesson_id": lesson_id,
            "title": catalog.lessons[lesson_id].title,
            "times": record.attempts,
            "last_at": _iso(record.last_at),
            "last_score": record.last_score,
        }
        for lesson_id, record in state.lessons.items()
        if lesson_id in catalog.lessons
        and record.attempts
        and any(p.id in wanted for p in catalog.lessons[lesson_id].competencies)
    ]
    return sorted(done, key=lambda d: str(d["last_at"]), reverse=True)


def _formats(catalog: Catalog, pathway: Pathway) -> list[str]:
    found = {
        lesson.format
        for comp in catalog.pathway_competencies(pathway)
        for lesson in catalog.lessons_for(comp)
    }
    return sorted(found)


def compute_view(
    catalog: Catalog,
    pathway: Pathway,
    state: LearnerState,
    params: ModelParams,
    now: datetime,
    inputs: ViewInputs,
) -> ComputedView:
    """The snapshot for the learner page and API and the summary for the class view."""
    preferences = preferences_now(inputs.preferences, now)
    rec = recommend(catalog, state, params, now, pathway.id, preferences=preferences)
    preview = preview_path(
        catalog, state, params, now, pathway.id, preferences=Preferences(preferences.format)
    )
    entries = mastery_entries(catalog, pathway, state, params, now, inputs.changes)
    by_id = {e["competency_id"]: e for e in entries}
    goals = [g.competency for g in pathway.goal]
    mastered_goals = sum(1 for c in goals if by_id[c]["mastered"])
    done = _done(catalog, pathway, state)
    lessons_done = sum(d["times"] for d in done)
    minutes_left = preview.total_minutes
    milestones = path_map(catalog, pathway, preview, inputs.recognitions)
    pre = pre_assessment_of(pathway)
    names = {c: catalog.competency(c).name for c in catalog.pathway_competencies(pathway)}
    stated = dict(inputs.pre_assessment or {})
    next_lesson = _lesson(catalog, rec.lesson_id) if rec.lesson_id in catalog.lessons else None
    snapshot: dict[str, Any] = {
        "version": VIEW_VERSION,
        "catalog": inputs.catalog_digest,
        "computed_at": now.isoformat(),
        "pathway": {"id": pathway.id, "title": pathway.title},
        "progress": {
            "share": round(mastered_goals / len(goals), 4) if goals else 0.0,
            "goals": len(goals),
            "goals_mastered": mastered_goals,
            "lessons_done": lessons_done,
            "lessons_ahead": len(preview.steps),
            "minutes_ahead": minutes_left,
            "expected_finish": _iso(preview.expected_completion),
        },
        "goal_reached": rec.goal_reached,
        "next": next_lesson,
        "recommendation": rec.to_dict(),
        "why": _reasons(catalog, rec),
        "alternatives": [_lesson(catalog, a) for a in rec.alternatives if a in catalog.lessons],
        "preferences": {
            "format": preferences.format,
            "minutes": preferences.minutes,
            "minutes_per_day": state.minutes_per_day or preview.minutes_per_day,
            "formats": _formats(catalog, pathway),
        },
        "milestones": milestones,
        "done": done[:RECENT_DONE],
        "mastery": entries,
        "notes": _notes(catalog, state),
        "recognitions": [dict(r) for r in inputs.recognitions],
        "pre_assessment": {
            "available": pre is not None,
            "status": stated.get("status"),
            "form": pre.public(names) if pre is not None and not stated.get("status") else None,
        },
        "evidence": dict(inputs.evidence),
    }
    risks: list[dict[str, Any]] = [
        {
            "milestone_id": r.milestone_id,
            "title": next(m.title for m in pathway.milestones if m.id == r.milestone_id),
            "due_date": r.due_date.isoformat(),
            "probability_of_missing": round(r.probability_of_missing, 3),
            "main_reason": r.main_reason,
        }
        for r in at_risk(catalog, state, params, now, pathway.id)
        if r.main_reason != "complete"
    ]
    summary: dict[str, Any] = {
        "version": VIEW_VERSION,
        "progress": snapshot["progress"]["share"],
        "goal_reached": rec.goal_reached,
        "next_lesson": next_lesson["title"] if next_lesson else None,
        "next_lesson_id": next_lesson["lesson_id"] if next_lesson else None,
        "stuck_on": [
            {"competency_id": c, "name": catalog.competency(c).name}
            for c in state.coach_flags
            if c in catalog.competencies
        ],
        "risks": risks,
        "at_risk": any(float(r["probability_of_missing"]) >= AT_RISK_FROM for r in risks),
        "mastery": {
            e["competency_id"]: {"p": e["probability"], "status": e["status"]} for e in entries
        },
        "active_overrides": sum(1 for o in state.overrides if o.active),
        "lessons_done": lessons_done,
        "last_activity": _iso(inputs.last_activity),
        "expected_finish": _iso(preview.expected_completion),
        "milestones_reached": {m.milestone_id: m.complete_now for m in preview.milestones},
        "recommendation": rec.to_dict(),
    }
    estimates = {
        c: mastery_of(state, c, catalog, params, now) for c in catalog.pathway_competencies(pathway)
    }
    return ComputedView(snapshot, summary, rec, preview, estimates)
