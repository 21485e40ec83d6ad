"""The path policy: which lesson a learner should take next in a pathway, and why.

Pure: imports only the standard library. Order of precedence: instructor overrides (pin,
then assignments), remediation after a low score, spaced review, a passed assessment for a
critical competency, then the largest expected gap closure per minute on the earliest
incomplete milestone, among the lessons mainly about the gap when there are usable ones.
Lessons whose `requires` are not mastered are never recommended, and a competency is not
worked on while one of its prerequisites is not mastered (when that prerequisite is stuck
behind coach flags, the policy goes back to what it builds on, or tells the coach).

The goal is reached when every goal competency is at its level robustly (still there after
two more failed attempts), has direct and fresh evidence (a pass on a lesson mainly about it,
on which success is at least twice as likely with the competency as without it given the
lesson's other competencies, with no failure since and the latest evidence under a day old),
and everything it builds on is mastered. A goal competency that only lacks that evidence gets
the lesson mainly about it that best tells mastery from a lucky success, once no other gap
is left. After a low score, remediation goes back only to prerequisites that are not
mastered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .catalog import Catalog, Lesson, Pathway, is_main
from .errors import require_aware
from .evidence import (
    MasteryEstimate,
    current_probability,
    emissions,
    lesson_shift,
    mastery_of,
    predict_success,
)
from .explanations import Reason, sentence
from .memory import SECONDS_PER_DAY, days_until_recall
from .overrides import active_overrides
from .params import ModelParams
from .scores import failed
from .state import CompetencyState, LearnerState

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
# The goal is declared on fresh, robust evidence: the last direct evidence on each goal
# competency is at most this old, and its estimate stays at the goal level even if this
# many further direct attempts failed.
FRESH_DAYS = 1.0
ROBUST_TO_FAILURES = 2
# A pass confirms a goal competency only on a lesson where success is at least this many
# times likelier if the learner masters it than if not, given what is known of the lesson's
# other competencies (a success on "c17 1.0, c16 0.7" is largely explained by a known c16).
# Several weak passes do not add up: for a learner who succeeds at nearly everything, they
# mostly measure the learner, not the competency.
CONFIRM_RATIO = 2.0


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


class _View:
    """Memoised mastery reads for one decision (a decision reads each competency once)."""

    def __init__(
        self,
        catalog: Catalog,
        state: LearnerState,
        params: ModelParams,
        pathway: Pathway,
        now: datetime,
        robust: bool = True,
    ) -> None:
        self.catalog, self.state, self.params, self.now = catalog, state, params, now
        self.robust = robust
        self.skip_at = pathway.thresholds.skip_at_or_above
        self.goal = {g.competency: g.level for g in pathway.goal}
        self.in_pathway = catalog.pathway_competency_set(pathway)
        self._cache: dict[str, MasteryEstimate] = {}
        self._goal_cache: dict[str, bool] = {}
        self._confirmed: dict[str, bool] = {}

    def est(self, comp: str) -> MasteryEstimate:
        found = self._cache.get(comp)
        if found is None:
            found = mastery_of(self.state, comp, self.catalog, self.params, self.now, self.skip_at)
            self._cache[comp] = found
        return found

    def mastered(self, comp: str) -> bool:
        return self.est(comp).mastered

    def level_met(self, comp: str) -> bool:
        """At the pathway's goal level (or mastered, for a competency that is not a goal).

        A goal level reached by the model's estimate must be robust: still met if the next
        `ROBUST_TO_FAILURES` direct attempts failed. An instructor's decision or a
        pre-assessment skip counts as it is.
        """
        level = self.goal.get(comp)
        if level is None:
            return self.mastered(comp)
        found = self._goal_cache.get(comp)
        if found is None:
            threshold = max(level, self.catalog.competencies[comp].mastery_threshold)
            est = mastery_of(
                self.state,
                comp,
                self.catalog,
                self.params,
                self.now,
                self.skip_at,
                threshold=threshold,
            )
            found = est.mastered
            if found and self.robust and est.probability >= threshold:
                found = self._robust(comp, est.probability, threshold)
            self._goal_cache[comp] = found
        return found

    def _robust(self, comp: str, p: float, level: float) -> bool:
        """P(mastered) after `ROBUST_TO_FAILURES` failed attempts (at this learner's ability,
        a lesson of middle difficulty) is still at `level`."""
        cp = self.params.for_competency(comp)
        known, unknown = emissions(cp.guess, cp.slip, self.state.ability)
        miss_m = p * (1.0 - known) ** ROBUST_TO_FAILURES
        miss_n = (1.0 - p) * (1.0 - unknown) ** ROBUST_TO_FAILURES
        return miss_m + miss_n <= 0.0 or miss_m / (miss_m + miss_n) >= level

    def goal_met(self, comp: str) -> bool:
        """A goal competency also needs direct, recent evidence (see `confirmed`)."""
        return self.level_met(comp) and (comp not in self.goal or self.confirmed(comp))

    def confirmed(self, comp: str) -> bool:
        """Direct, fresh evidence: a passed lesson mainly about the competency (or a passed
        pre-assessment) with no failure on it since, the latest evidence at most
        `FRESH_DAYS` old; or an instructor's decision.

        A success on a lesson that is mostly about something else may be explained by that
        other competency, so it does not confirm, and neither does a pass on a lesson whose
        other competencies explain success almost as well (see `CONFIRM_RATIO`); old
        evidence may have been forgotten.
        """
        found = self._confirmed.get(comp)
        if found is None:
            found = self._confirmed[comp] = self._confirm(comp)
        return found

    def _confirm(self, comp: str) -> bool:
        cs = self.state.competencies.get(comp)
        if cs is None:
            return False
        if cs.mastered_by_override:
            return True
        if cs.failures or cs.checked is None or cs.updated is None:
            return False
        if (self.now - cs.updated).total_seconds() > FRESH_DAYS * SECONDS_PER_DAY:
            return False
        passes = [
            self.catalog.lessons[lid]
            for lid, record in self.state.lessons.items()
            if record.last_at is not None
            and record.last_at >= cs.checked
            and record.last_score is not None
            and not failed(record.last_score, record.last_success, self.params.score_evidence)
            and lid in self.catalog.lessons
            and is_main(self.catalog.lessons[lid], comp)
        ]
        if not passes:
            return True  # no lesson since the check: it came from a passed pre-assessment
        return any(_success_ratio(self, x, comp) >= CONFIRM_RATIO for x in passes)

    def ready(self, comp: str) -> bool:
        """Every prerequisite of the competency is mastered."""
        return all(self.mastered(p) for p in self.catalog.prerequisites(comp))


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


def milestone_complete(view: _View, comps: tuple[str, ...]) -> bool:
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
    """`recommend`, with the robustness check of goal levels optional: the path preview,
    whose expected steps carry no evidence, assumes the remaining checks pass."""
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
    view = _View(catalog, state, params, pathway, now, robust)
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
        if _goal_reached(catalog, view, pathway):
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


def _goal_done(catalog: Catalog, view: _View, comp: str) -> bool:
    """A goal competency at its level with direct evidence, and everything it builds on
    mastered: a goal estimate that runs ahead of its own prerequisites is not trusted."""
    return view.goal_met(comp) and all(view.mastered(c) for c in catalog.closure(comp) if c != comp)


def _goal_reached(catalog: Catalog, view: _View, pathway: Pathway) -> bool:
    return all(_goal_done(catalog, view, g.competency) for g in pathway.goal)


def _alternatives(
    catalog: Catalog,
    view: _View,
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


def _review_due(view: _View, comp: str) -> bool:
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


def _usable(view: _View, lesson: Lesson, skipped: set[str | None], budget: float | None) -> bool:
    if lesson.id in skipped:
        return False
    if budget is not None and lesson.duration_minutes > budget:
        return False
    return all(view.mastered(r) for r in lesson.requires)


def _flag_blocked(view: _View, lesson: Lesson) -> bool:
    """After repeated failures, do not repeat a lesson the learner just failed on that skill."""
    record = view.state.lessons.get(lesson.id)
    if (
        record is None
        or record.last_score is None
        or not failed(record.last_score, record.last_success, view.params.score_evidence)
    ):
        return False
    return any(
        p.id in view.state.coach_flags and is_main(lesson, p.id) for p in lesson.competencies
    )


def _choose(
    catalog: Catalog,
    view: _View,
    pathway: Pathway,
    skipped: set[str | None],
    budget: float | None,
    fmt: str | None,
) -> tuple[Lesson, list[Reason], str] | None:
    state = view.state
    comps = catalog.pathway_competencies(pathway)
    low = pathway.thresholds.remediate_below

    def ok(lesson: Lesson) -> bool:
        return _usable(view, lesson, skipped, budget) and not _flag_blocked(view, lesson)

    # 1. Remediation after a low score on the latest scored lesson, before moving on.
    latest = _latest_scored(state)
    if latest is not None and latest[1] < low:
        last_lesson = catalog.lessons.get(latest[0])
        if last_lesson is not None:
            comp = max(last_lesson.competencies, key=lambda part: part.weight).id
            cs = state.competencies.get(comp)
            if cs is not None and comp in comps and not view.mastered(comp):
                found = _remediate(catalog, view, comp, cs, last_lesson, latest[1], ok)
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
    # 3. Gaps, milestone by milestone; a critical competency needs a passed assessment.
    targets = _targets(catalog, view, pathway)
    best_score = -1.0
    best: tuple[Lesson, list[Reason], str] | None = None
    # Gaps first; goal competencies that only lack direct evidence are checked when nothing
    # is left to learn (a check made earlier could go stale while the rest is learned, and a
    # competency whose checks keep failing must not hold up the others).
    unchecked = sorted(
        (c for c in targets if c in view.goal and view.level_met(c)),
        key=lambda c: _attempts(state, c),
    )
    for comp in [c for c in targets if c not in unchecked] + unchecked:
        est = view.est(comp)
        if view.goal_met(comp) or not view.ready(comp):
            continue  # met, or behind a prerequisite that is not (stuck: see the coach flags)
        confirming = view.level_met(comp)  # a goal competency that only lacks direct evidence
        critical = catalog.competencies[comp].critical
        usable = [x for x in catalog.lessons_for(comp) if ok(x)]
        # Work on a gap with material mainly about it when there is some: where it is a minor
        # part it is learned at that smaller weight, and a success there says little about it.
        mainly = [x for x in usable if is_main(x, comp)]
        for lesson in mainly if mainly or confirming else usable:
            # To confirm, the lesson that best tells mastery from a lucky success.
            value = (
                _diagnostic(view, lesson, comp)
                if confirming
                else _value(catalog, view, lesson, fmt)
            )
            record = state.lessons.get(lesson.id)
            if confirming and record is not None:
                # Rotate the checks: when none can tell (a learner who succeeds at nearly
                # everything), do not ask for the same lesson over and over.
                value *= 0.8**record.attempts
            if critical and est.probability >= est.threshold and lesson.kind == "assessment":
                value += 10.0
            if value > best_score:
                best_score = value
                code = (
                    "critical_assessment"
                    if critical and lesson.kind == "assessment" and est.probability >= est.threshold
                    else "check"
                    if confirming
                    else "gap"
                )
                reasons = [Reason(code, comp, lesson.id, {"mastery": round(est.probability, 3)})]
                unlocked = _unlocks(catalog, view, comp, targets)
                if unlocked:
                    reasons.append(Reason("unlocks", unlocked, lesson.id))
                best = (lesson, reasons, comp)
        if best is not None:
            # Competencies come prerequisites first: close the earliest gap before later ones.
            return best
        # Nothing usable left on it (material already failed after a coach flag): go back
        # to its prerequisites that are not solidly known before anything builds on it.
        back = _prerequisite_lesson(catalog, view, comp, ok, {"stuck": True})
        if back is not None:
            return back
    return None


def _attempts(state: LearnerState, comp: str) -> int:
    cs = state.competencies.get(comp)
    return 0 if cs is None else cs.attempts


def _latest_scored(state: LearnerState) -> tuple[str, float] | None:
    """The most recent scored lesson and its score."""
    best: tuple[datetime, str, float] | None = None
    for lesson_id, record in state.lessons.items():
        if record.last_at is None or record.last_score is None:
            continue
        if best is None or record.last_at > best[0]:
            best = (record.last_at, lesson_id, record.last_score)
    return None if best is None else (best[1], best[2])


def _remediate(
    catalog: Catalog,
    view: _View,
    comp: str,
    cs: CompetencyState,
    last: Lesson,
    score: float,
    ok: Any,
) -> tuple[Lesson, list[Reason], str] | None:
    """Easier or alternative lessons on the competency, then its prerequisites (3 hops)."""
    alternatives = set(last.alternatives) | {
        x.id for x in catalog.lessons_for(comp) if last.id in x.alternatives
    }
    options = [
        x
        for x in catalog.lessons_for(comp)
        if ok(x) and x.id != last.id and (x.id in alternatives or x.difficulty < last.difficulty)
    ]
    detail = {"score": score, "after_lesson": last.id}
    if options:
        # Alternatives first, then material that teaches (not a test) and is mainly about
        # the competency, then the easiest.
        pick = min(
            options,
            key=lambda x: (
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
    view: _View,
    comp: str,
    ok: Any,
    detail: Mapping[str, Any],
    solid: float = SOLID,
) -> tuple[Lesson, list[Reason], str] | None:
    """The easiest usable lesson on a prerequisite (3 hops) known below `solid` (or below
    its own mastery threshold, if that is higher)."""
    for pre in catalog.prerequisites_within(comp, PREREQUISITE_HOPS):
        est = view.est(pre)
        if est.probability >= max(solid, est.threshold):
            continue  # known well enough: going back there would not help
        lessons = [x for x in catalog.lessons_for(pre) if ok(x)]
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


def _targets(catalog: Catalog, view: _View, pathway: Pathway) -> list[str]:
    order = catalog.pathway_competencies(pathway)
    for milestone in pathway.milestones:
        if not milestone_complete(view, milestone.competencies):
            wanted: set[str] = set()
            for comp in milestone.competencies:
                wanted |= catalog.closure(comp)
            return [c for c in order if c in wanted]
    goal = [g.competency for g in pathway.goal if not _goal_done(catalog, view, g.competency)]
    wanted = set()
    for comp in goal:
        wanted |= catalog.closure(comp)
    return [c for c in order if c in wanted]


def _value(catalog: Catalog, view: _View, lesson: Lesson, fmt: str | None) -> float:
    """Expected gap closure per minute, lightly shaped by novelty, fit and format."""
    params, state, now = view.params, view.state, view.now
    gain = 0.0
    for part in lesson.competencies:
        if part.id not in view.in_pathway or view.goal_met(part.id):
            continue  # only gaps of this pathway count
        cp = params.for_competency(part.id)
        cs = state.competencies.get(part.id)
        p = current_probability(cs, now) if cs else cp.prior
        # Learning where the lesson teaches, plus the information its score gives where it
        # measures.
        gain += part.teaches * (1.0 - p) * cp.learn
        gain += part.measures * INFORMATION_WEIGHT * p * (1.0 - p)
    value = gain / lesson.duration_minutes
    record = state.lessons.get(lesson.id)
    if record is not None:
        value *= 0.8**record.attempts
    success = predict_success(state, lesson, params, now)
    if success < 0.3:
        value *= 0.7  # too hard for now: prefer something the learner can get through
    if fmt is not None and lesson.format == fmt:
        value *= 1.25
    return value


def _diagnostic(view: _View, lesson: Lesson, comp: str) -> float:
    """How strongly a success on this lesson tells mastery of `comp` from a lucky guess."""
    return _success_ratio(view, lesson, comp)


def _success_ratio(view: _View, lesson: Lesson, comp: str) -> float:
    """P(success | comp mastered) / P(success | not), for this learner on this lesson.

    Success on a lesson is weighted over its competencies (as in `predict_success`), so the
    lesson's other competencies, at their current estimates, explain part of a success.
    """
    shift = lesson_shift(view.state, lesson, view.params)
    weight = known = unknown = others = 0.0
    for part in lesson.competencies:
        cp = view.params.for_competency(part.id)
        k, u = emissions(cp.guess, cp.slip, shift)
        if part.id == comp:
            weight, known, unknown = part.measures, k, u
        else:
            cs = view.state.competencies.get(part.id)
            p = current_probability(cs, view.now) if cs else cp.prior
            others += part.measures * (p * k + (1.0 - p) * u)
    return (weight * known + others) / max(weight * unknown + others, 1e-9)


def _unlocks(catalog: Catalog, view: _View, comp: str, targets: list[str]) -> str | None:
    for other in targets:
        if other == comp or view.mastered(other):
            continue
        if comp in catalog.prerequisites(other):
            return other
    return None
