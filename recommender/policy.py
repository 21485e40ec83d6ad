"""The path policy: which lesson a learner should take next in a pathway, and why.

Pure: imports only the standard library. Order of precedence: instructor overrides (pin,
then assignments), remediation after a low result, spaced review, then the lesson with the
largest expected gain per minute on the competencies still to learn (on the earliest
incomplete milestone). A lesson's expected gain is what it teaches of each competency the
learner may not master yet (P(not mastered) x learning rate x how much it teaches it), plus
a little for what its score would tell. Lessons whose `requires` are not mastered are never
recommended, and a competency is not worked on while one of its prerequisites is not
mastered (when that prerequisite is stuck behind coach flags, the policy goes back to what it
builds on, or tells the coach).

Learning comes first: a competency the learner probably masters already gains little from
another lesson, so it waits while there is something to learn. Goal checks come when nothing
is left to learn, are practice (lessons that teach, chosen for the competency the engine is
least sure of) and stop as soon as the goal counts as reached (see `goal`). A goal
competency whose latest word is not a direct pass (no direct evidence yet, or taught since by
a lesson it did not pass) gets the lesson mainly about it that best tells mastery from a
lucky success, the least sure such competency first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .catalog import Catalog, Lesson, Pathway, is_main
from .errors import require_aware
from .evidence import predict_success
from .explanations import Reason, sentence
from .goal import DecisionView, goal_reached, success_ratio
from .memory import SECONDS_PER_DAY, days_until_recall
from .overrides import active_overrides
from .params import ModelParams
from .scores import failed
from .state import LearnerState, LessonRecord

PREREQUISITE_HOPS = 3
# Going back to a prerequisite: when stuck (nothing usable left on a competency), any
# prerequisite not solidly known; after a low score, only one that is not mastered (a failure
# on a competency is explained by that competency, and re-teaching what the learner shows
# they know costs lessons without closing the gap).
SOLID = 0.95
SOLID_AFTER_LOW_SCORE = 0.0
# Weight of the information a scored attempt gives, beside the expected learning, in the
# value of a lesson: enough to break ties towards informative lessons, small enough that an
# assessment (which teaches nothing) does not beat a lesson that teaches.
INFORMATION_WEIGHT = 0.1
# A flagged competency is stuck (the policy goes back to its prerequisites that are not
# solidly known) when the model gave the run of failures on it less than this chance.
STUCK_CHANCE = 0.05

_Choice = tuple[Lesson, list[Reason], str]


@dataclass(frozen=True, slots=True)
class Preferences:
    """What the learner asked for: a preferred format and a time budget in minutes."""

    format: str | None = None
    minutes: float | None = None


@dataclass(frozen=True, slots=True)
class Recommendation:
    """The next lesson (None when the goal is reached or nothing fits) with its reasons."""

    lesson_id: str | None
    reasons: tuple[Reason, ...]
    sentence: str
    alternatives: tuple[str, ...] = ()
    goal_reached: bool = False
    competency_id: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return {
            "lesson_id": self.lesson_id,
            "reasons": [r.to_dict() for r in self.reasons],
            "sentence": self.sentence,
            "alternatives": list(self.alternatives),
            "goal_reached": self.goal_reached,
            "competency_id": self.competency_id,
            "detail": dict(self.detail),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Recommendation:
        """Rebuild from `to_dict` output."""
        return cls(
            data.get("lesson_id"),
            tuple(Reason.from_dict(r) for r in data["reasons"]),
            str(data["sentence"]),
            tuple(data.get("alternatives", ())),
            bool(data.get("goal_reached", False)),
            data.get("competency_id"),
            dict(data.get("detail") or {}),
        )


def _names(catalog: Catalog) -> dict[str, str]:
    return {c.id: c.name for c in catalog.competencies.values()}


def _finish(
    catalog: Catalog,
    lesson: Lesson | None,
    reasons: list[Reason],
    alternatives: tuple[str, ...] = (),
    goal_reached: bool = False,
    competency_id: str | None = None,
) -> Recommendation:
    return Recommendation(
        lesson.id if lesson else None,
        tuple(reasons),
        sentence(reasons, lesson.title if lesson else None, _names(catalog)),
        alternatives,
        goal_reached,
        competency_id,
    )


def milestone_complete(view: DecisionView, comps: tuple[str, ...]) -> bool:
    """All competencies of a milestone mastered."""
    return all(view.mastered(c) for c in comps)


def recommend(
    catalog: Catalog,
    state: LearnerState,
    params: ModelParams,
    now: datetime,
    pathway_id: str | None = None,
    preferences: Preferences | None = None,
) -> Recommendation:
    """The next lesson for this learner in the pathway, with machine-readable reasons.

    Instructor overrides always win. A time budget that no lesson fits falls back to the
    shortest suitable lesson with an `over_budget` reason.
    """
    return recommend_next(catalog, state, params, now, pathway_id, preferences)


def recommend_next(
    catalog: Catalog,
    state: LearnerState,
    params: ModelParams,
    now: datetime,
    pathway_id: str | None = None,
    preferences: Preferences | None = None,
    robust: bool = True,
) -> Recommendation:
    """`recommend`; with `robust` False the goal needs no joint confidence (see
    `goal.DecisionView`): the path preview, whose expected steps carry no evidence, assumes
    the remaining practice goes as expected."""
    require_aware(now)
    preferences = preferences or Preferences()
    pathway = catalog.pathway(pathway_id)
    skipped = {o.lesson_id for o in active_overrides(state, "skip")}
    pins = active_overrides(state, "pin")
    if pins:
        lesson = catalog.lessons.get(pins[-1].lesson_id or "")
        if lesson is not None:
            return _finish(
                catalog,
                lesson,
                [
                    Reason(
                        "pinned_by_instructor", lesson_id=lesson.id, detail={"note": pins[-1].note}
                    )
                ],
            )
    for assigned in active_overrides(state, "assign"):
        lesson = catalog.lessons.get(assigned.lesson_id or "")
        record = state.lessons.get(assigned.lesson_id or "")
        done = record is not None and record.last_at is not None and record.last_at > assigned.at
        if lesson is not None and not done:
            return _finish(
                catalog,
                lesson,
                [
                    Reason(
                        "assigned_by_instructor",
                        lesson_id=lesson.id,
                        detail={"note": assigned.note},
                    )
                ],
            )
    view = DecisionView(catalog, state, params, pathway, now, joint=robust)
    found = _choose(catalog, view, pathway, skipped, preferences.minutes, preferences.format)
    if found is None and preferences.minutes is not None:
        found = _choose(catalog, view, pathway, skipped, None, preferences.format)
        if found is not None:
            found[1].insert(
                0,
                Reason(
                    "over_budget", lesson_id=found[0].id, detail={"minutes": preferences.minutes}
                ),
            )
    if found is None:
        if goal_reached(view):
            return _finish(catalog, None, [Reason("goal_reached")], goal_reached=True)
        reasons = [Reason("nothing_available")]
        reasons += [Reason("coach_flagged", competency_id=c) for c in state.coach_flags]
        return _finish(catalog, None, reasons)
    lesson, reasons, comp = found
    alternatives = _alternatives(catalog, view, lesson, skipped, preferences)
    if preferences.format and lesson.format != preferences.format:
        better = next(
            (a for a in alternatives if catalog.lessons[a].format == preferences.format), None
        )
        if better is not None:
            alternatives = tuple(a for a in alternatives if a != better) + (lesson.id,)
            lesson = catalog.lessons[better]
    if preferences.format and lesson.format == preferences.format:
        reasons.append(
            Reason("format_preference", lesson_id=lesson.id, detail={"format": preferences.format})
        )
    return _finish(catalog, lesson, reasons, alternatives, competency_id=comp)


def _alternatives(
    catalog: Catalog,
    view: DecisionView,
    lesson: Lesson,
    skipped: set[str | None],
    preferences: Preferences,
) -> tuple[str, ...]:
    group = [a for a in lesson.alternatives if a in catalog.lessons]
    group += [
        other.id
        for part in lesson.competencies
        for other in catalog.lessons_for(part.id)
        if lesson.id in other.alternatives
    ]
    out: list[str] = []
    for lid in group:
        alt = catalog.lessons[lid]
        if lid == lesson.id or lid in skipped or lid in out:
            continue
        if all(view.mastered(r) for r in alt.requires):
            out.append(lid)
    return tuple(out)


def _review_due(view: DecisionView, comp: str) -> bool:
    """Was mastered when last seen, and predicted recall has fallen below the review level."""
    cs = view.state.competencies.get(comp)
    if cs is None or cs.updated is None:
        return False
    comp_def = view.catalog.competencies[comp]
    was_mastered = cs.mastered_by_override or (
        cs.p >= comp_def.mastery_threshold and (cs.assessed or not comp_def.critical)
    )
    if not was_mastered:
        return False
    # Cheap test first: recall falls below the review level after a known number of days.
    elapsed = (view.now - cs.updated).total_seconds() / SECONDS_PER_DAY
    if elapsed <= days_until_recall(cs.stability_days, view.params.review_recall):
        return False
    return view.est(comp).recall < view.params.review_recall


def _usable(
    view: DecisionView, lesson: Lesson, skipped: set[str | None], budget: float | None
) -> bool:
    if lesson.id in skipped:
        return False
    if budget is not None and lesson.duration_minutes > budget:
        return False
    return all(view.mastered(r) for r in lesson.requires)


def _stuck(view: DecisionView, comp: str) -> bool:
    """Flagged for a coach, and failing beyond what learning explains: the model gave the
    current run of failures on it less than a `STUCK_CHANCE` chance."""
    if comp not in view.state.coach_flags:
        return False
    cs = view.state.competencies.get(comp)
    return cs is not None and cs.run_chance < STUCK_CHANCE


def _choose(
    catalog: Catalog,
    view: DecisionView,
    pathway: Pathway,
    skipped: set[str | None],
    budget: float | None,
    fmt: str | None,
) -> _Choice | None:
    state = view.state
    comps = catalog.pathway_competencies(pathway)

    def ok(lesson: Lesson) -> bool:
        return _usable(view, lesson, skipped, budget)

    # 1. Remediation after a low result on the latest scored lesson, before moving on.
    latest = _latest_scored(state)
    if latest is not None and _low(view, pathway, latest[1]):
        last_lesson = catalog.lessons.get(latest[0])
        score = latest[1].last_score
        if last_lesson is not None and score is not None:
            comp = max(last_lesson.competencies, key=lambda part: part.weight).id
            if comp in comps and comp in state.competencies and not view.mastered(comp):
                if _stuck(view, comp):
                    back = _prerequisite_lesson(catalog, view, comp, ok, {"stuck": True})
                    if back is not None:
                        return back
                found = _remediate(catalog, view, comp, last_lesson, score, ok)
                if found is not None:
                    return found
    # 2. Spaced review of mastered competencies whose predicted recall fell too low.
    due = [(view.est(c).recall, c) for c in comps if _review_due(view, c)]
    for recall_now, comp in sorted(due):
        lessons = [x for x in catalog.lessons_for(comp) if ok(x) and x.kind != "lesson"] or [
            x for x in catalog.lessons_for(comp) if ok(x)
        ]
        if lessons:
            quick = min(lessons, key=lambda x: (x.duration_minutes, x.id))
            return (
                quick,
                [Reason("review_due", comp, quick.id, {"recall": round(recall_now, 3)})],
                comp,
            )
    # 3. Learning: the largest expected gain per minute among the competencies still to
    # learn (below their level) whose prerequisites are mastered; a critical competency at
    # its level still needs a passed assessment.
    targets = _targets(catalog, view, pathway)
    gaps = [c for c in targets if _gap(view, c)]
    ready = [c for c in gaps if view.ready(c)]
    found = _best(catalog, view, targets, ready, "gap", ok, fmt)
    if found is not None and _stuck(view, found[2]):
        # Stuck on it: first back to its prerequisites that are not solidly known.
        back = _prerequisite_lesson(catalog, view, found[2], ok, {"stuck": True})
        if back is not None:
            return back
    if found is not None:
        return found
    if gaps:
        return None  # nothing usable on what is left to learn: the coach is told
    # 4. Direct evidence for goal competencies at their level whose latest word is not a
    # direct pass, the least sure first.
    found = _final_check(catalog, view, targets, ok)
    if found is not None:
        return found
    # 5. Not yet sure enough of the whole goal: practise where the engine is least sure.
    if view.joint and not goal_reached(view):
        goal = [c for c in comps if c in view.goal and view.ready(c)]
        return _best(catalog, view, comps, goal, "check", ok, fmt)
    return None


def _low(view: DecisionView, pathway: Pathway, record: LessonRecord) -> bool:
    """A failed result (success flag), or a score below the pathway's remediation line."""
    if record.last_success is not None:
        return not record.last_success
    return record.last_score is not None and record.last_score < pathway.thresholds.remediate_below


def _gap(view: DecisionView, comp: str) -> bool:
    """Still to learn: below its level, or critical and not yet shown on an assessment."""
    return not view.at_level(comp)


def _any_usable(catalog: Catalog, comps: list[str], ok: Callable[[Lesson], bool]) -> bool:
    return any(ok(x) for c in comps for x in catalog.lessons_for(c))


def _best(
    catalog: Catalog,
    view: DecisionView,
    targets: list[str],
    focus: list[str],
    code: str,
    ok: Callable[[Lesson], bool],
    fmt: str | None,
) -> _Choice | None:
    """Among the `focus` competencies, the one where a lesson can do the most (`_promise`),
    then the lesson for it that fits best (`_fit` of its expected gain, `_gain`): the
    competency is chosen by what a lesson can do for it, the lesson by what it costs."""
    if not focus:
        return None
    ranked = sorted((-_promise(catalog, view, c), i, c) for i, c in enumerate(focus))
    counted = _Counted(view, targets)
    for _, _, comp in ranked:
        est = view.est(comp)
        needs_assessment = _needs_assessment(catalog, view, comp)
        # A gap is closed by lessons that teach it (or, once at its level, by the passed
        # assessment a critical competency needs). Checks are practice too: a lesson that
        # teaches where there is one.
        lessons = _material(catalog, comp, ok, teaching=not needs_assessment)
        if not lessons and code == "check":
            lessons = _material(catalog, comp, ok)
        if needs_assessment:
            lessons = [x for x in lessons if x.kind == "assessment"] or lessons
        if not lessons:
            continue
        lesson = max(lessons, key=lambda x: _fit(view, x, _gain(view, x, counted), fmt))
        reason = "critical_assessment" if needs_assessment and lesson.kind == "assessment" else code
        reasons = [Reason(reason, comp, lesson.id, {"mastery": round(est.probability, 3)})]
        unlocked = _unlocks(catalog, view, comp, targets)
        if unlocked:
            reasons.append(Reason("unlocks", unlocked, lesson.id))
        return lesson, reasons, comp
    return None


def _needs_assessment(catalog: Catalog, view: DecisionView, comp: str) -> bool:
    """A critical competency at its level that still needs a passed assessment."""
    if not catalog.competencies[comp].critical:
        return False
    est = view.est(comp)
    return not est.mastered and est.probability >= est.threshold


def _promise(catalog: Catalog, view: DecisionView, comp: str) -> float:
    """What a lesson mainly about the competency can do for it: P(not mastered) x learning
    rate x the chance its prerequisites are known x how much such a lesson teaches it, plus
    a little for what its score tells; far more for the assessment a critical competency
    needs."""
    teaches, measures = catalog.reach(comp)
    p = view.probability(comp)
    learn = view.params.for_competency(comp).learn * view.readiness(comp)
    value = teaches * (1.0 - p) * learn + measures * INFORMATION_WEIGHT * p * (1.0 - p)
    return value + (10.0 if _needs_assessment(catalog, view, comp) else 0.0)


def _material(
    catalog: Catalog, comp: str, ok: Callable[[Lesson], bool], teaching: bool = False
) -> list[Lesson]:
    """The usable lessons to work on a competency with (with `teaching`, only those that
    teach it): those mainly about it. Where it is a minor part it is learned at that smaller
    weight and a success there says little about it, so lessons where it is a minor part are
    used only when none mainly about it is usable."""
    usable = [x for x in catalog.lessons_for(comp) if (not teaching or _teaches(x, comp)) and ok(x)]
    return [x for x in usable if comp in x.mains] or usable


def _teaches(lesson: Lesson, comp: str) -> bool:
    return any(part.id == comp and part.teaches > 0.0 for part in lesson.competencies)


def _check(
    catalog: Catalog, view: DecisionView, comp: str, ok: Callable[[Lesson], bool]
) -> _Choice | None:
    """The usable lesson mainly about `comp` that best tells mastery from a lucky success;
    checks rotate (a lesson asked before counts less) for a learner no lesson can tell."""
    best_value = -1.0
    best: Lesson | None = None
    for lesson in catalog.lessons_for(comp):
        if not ok(lesson) or not is_main(lesson, comp):
            continue
        value = success_ratio(view, lesson, comp)
        record = view.state.lessons.get(lesson.id)
        if record is not None:
            value *= 0.8**record.attempts
        if lesson.kind != "assessment":
            value *= 1.05  # a check that teaches too, where it tells as well
        if value > best_value:
            best_value, best = value, lesson
    if best is None:
        return None
    est = view.est(comp)
    return best, [Reason("check", comp, best.id, {"mastery": round(est.probability, 3)})], comp


def _final_check(
    catalog: Catalog, view: DecisionView, targets: list[str], ok: Callable[[Lesson], bool]
) -> _Choice | None:
    """The check for the least sure goal competency at its level whose latest word is not
    a direct pass (`DecisionView.confirmed`)."""
    waiting = sorted(
        (view.probability(c), i, c)
        for i, c in enumerate(targets)
        if c in view.goal and not view.confirmed(c) and view.ready(c)
    )
    for _, _, comp in waiting:
        found = _check(catalog, view, comp, ok)
        if found is not None:
            return found
    return None


def _latest_scored(state: LearnerState) -> tuple[str, LessonRecord] | None:
    """The most recent scored lesson and its record."""
    best: tuple[datetime, str, LessonRecord] | None = None
    for lesson_id, record in state.lessons.items():
        if record.last_at is None or record.last_score is None:
            continue
        if best is None or record.last_at > best[0]:
            best = (record.last_at, lesson_id, record)
    return None if best is None else (best[1], best[2])


def _remediate(
    catalog: Catalog,
    view: DecisionView,
    comp: str,
    last: Lesson,
    score: float,
    ok: Callable[[Lesson], bool],
) -> _Choice | None:
    """Easier or alternative lessons on the competency, then its prerequisites (3 hops)."""
    alternatives = set(last.alternatives) | {
        x.id for x in catalog.lessons_for(comp) if last.id in x.alternatives
    }
    options = [
        x
        for x in _material(catalog, comp, ok, teaching=True)
        if x.id != last.id and (x.id in alternatives or x.difficulty < last.difficulty)
    ]
    detail = {"score": score, "after_lesson": last.id}
    if options:
        # Not one just failed, then alternatives, then material that teaches (not a test) and
        # is mainly about the competency, then the easiest.
        table = view.params.score_evidence

        def just_failed(x: Lesson) -> bool:
            record = view.state.lessons.get(x.id)
            return record is not None and failed(record.last_score, record.last_success, table)

        pick = min(
            options,
            key=lambda x: (
                just_failed(x),
                x.id not in alternatives,
                x.kind == "assessment",
                not is_main(x, comp),
                x.difficulty,
                view.state.lessons.get(x.id) is not None,
                x.id,
            ),
        )
        return pick, [Reason("remediation", comp, pick.id, detail)], comp
    return _prerequisite_lesson(catalog, view, comp, ok, detail, SOLID_AFTER_LOW_SCORE)


def _prerequisite_lesson(
    catalog: Catalog,
    view: DecisionView,
    comp: str,
    ok: Callable[[Lesson], bool],
    detail: Mapping[str, Any],
    solid: float = SOLID,
) -> _Choice | None:
    """The easiest usable lesson on a prerequisite (3 hops) known below `solid` (or below
    its own mastery threshold, if that is higher)."""
    for pre in catalog.prerequisites_within(comp, PREREQUISITE_HOPS):
        est = view.est(pre)
        if est.probability >= max(solid, est.threshold):
            continue  # known well enough: going back there would not help
        lessons = _material(catalog, pre, ok, teaching=True)
        if lessons:
            pick = min(lessons, key=lambda x: (x.difficulty, x.duration_minutes, x.id))
            return (
                pick,
                [
                    Reason("remediation", comp, pick.id, dict(detail)),
                    Reason("prerequisite", pre, pick.id),
                ],
                pre,
            )
    return None


def _targets(catalog: Catalog, view: DecisionView, pathway: Pathway) -> list[str]:
    """What to work on: the earliest incomplete milestone's competencies and what they build
    on, or else the whole pathway (a goal competency already done has nothing left below
    its level in what it builds on, so it needs no filtering out)."""
    order = catalog.pathway_competencies(pathway)
    for milestone in pathway.milestones:
        if not milestone_complete(view, milestone.competencies):
            wanted: set[str] = set()
            for comp in milestone.competencies:
                wanted |= catalog.closure(comp)
            return [c for c in order if c in wanted]
    return order


class _Counted:
    """The competencies whose gains count (the targets whose prerequisites are more likely
    known than not), asked lazily: a decision looks at a few lessons' parts only."""

    def __init__(self, view: DecisionView, targets: list[str]) -> None:
        self.view = view
        self.targets = set(targets)

    def __contains__(self, comp: object) -> bool:
        return comp in self.targets and isinstance(comp, str) and self.view.ready(comp)


def _gain(view: DecisionView, lesson: Lesson, counted: _Counted) -> float:
    """Expected gain of one lesson on the `counted` competencies (the ones to learn or
    confirm whose prerequisites are mastered): what it teaches of each (P(not mastered) x
    learning rate x how much it teaches it), plus a little for what its score tells."""
    params = view.params
    gain = 0.0
    for part in lesson.competencies:
        if part.id not in counted:
            continue
        p = view.probability(part.id)
        learn = params.for_competency(part.id).learn * view.readiness(part.id)
        gain += part.teaches * (1.0 - p) * learn
        gain += part.measures * INFORMATION_WEIGHT * p * (1.0 - p)
    return gain


def _fit(view: DecisionView, lesson: Lesson, gain: float, fmt: str | None) -> float:
    """How well a lesson fits, among the lessons on one competency: gain per minute, less
    for a lesson taken before (they rotate), less for one too hard for now, more in the
    learner's preferred format."""
    value = gain / lesson.duration_minutes
    record = view.state.lessons.get(lesson.id)
    if record is not None:
        value *= 0.8**record.attempts
    if value > 0.0 and predict_success(view.state, lesson, view.params, view.now) < 0.3:
        value *= 0.7  # too hard for now: prefer something the learner can get through
    if fmt is not None and lesson.format == fmt:
        value *= 1.25
    return value


def _unlocks(catalog: Catalog, view: DecisionView, comp: str, targets: list[str]) -> str | None:
    for other in targets:
        if other == comp or view.mastered(other):
            continue
        if comp in catalog.prerequisites(other):
            return other
    return None
