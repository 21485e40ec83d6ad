"""Evidence into belief: update a learner's state with one observation, read mastery back.

Pure: imports only the standard library. The update is a knowledge-tracing step per
competency of the lesson. Where the lesson's score measures a competency, a Bayesian
posterior on the result's evidence value (see `scores`: a success flag is the outcome, a score
alone counts through the fitted score model), tempered by how much the score measures that
competency so that a multi-competency lesson never blames one competency for all of a
failure; where the lesson teaches a competency, a learning transition weighted by how much it
teaches it. Forgetting between observations follows `memory.recall`. An exposure (no score,
no success) is not evidence: it only applies part of the learning transition.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from .catalog import Catalog, Lesson
from .errors import require_aware
from .memory import (
    FORGETTING_FACTOR,
    SECONDS_PER_DAY,
    days_between,
    next_stability,
    recall,
)
from .observation import Observation
from .overrides import with_overrides_applied
from .params import CompetencyParams, ModelParams
from .scores import evidence_value
from .scores import failed as failed_result
from .state import (
    CompetencyState,
    LearnerState,
    build_competency_state,
    build_learner_state,
    build_lesson_record,
)

COACH_AFTER_FAILURES = 3


@dataclass(frozen=True, slots=True)
class MasteryEstimate:
    """P(mastered) of one competency now, and whether the engine counts it as mastered."""

    competency_id: str
    probability: float
    mastered: bool
    recall: float
    threshold: float
    evidence: int


def _clip(p: float) -> float:
    return 0.0 if p < 0.0 else 1.0 if p > 1.0 else p


def competency_state(state: LearnerState, comp: str, params: ModelParams) -> CompetencyState:
    """The learner's state on a competency, or the prior when there is no evidence yet."""
    found = state.competencies.get(comp)
    if found is not None:
        return found
    cp = params.for_competency(comp)
    return build_competency_state(
        cp.prior, None, cp.stability_days, 0, 0, None, None, False, False, None, 1.0, state.taken
    )


def retention(
    state: LearnerState, cs: CompetencyState, now: datetime, params: ModelParams
) -> float:
    """Share of P(mastered) kept from `cs.updated` to `now`: the forgetting curve over time,
    and the forgetting per lesson taken since."""
    kept = recall(days_between(cs.updated, now), cs.stability_days)
    lessons = state.taken - cs.taken_at
    if lessons > 0 and params.forget_per_lesson:
        kept *= (1.0 - params.forget_per_lesson) ** lessons
    return kept


def current_probability(
    state: LearnerState, cs: CompetencyState, now: datetime, params: ModelParams
) -> float:
    """P(mastered) of a competency state at `now`, after forgetting."""
    return cs.p * retention(state, cs, now, params)


def _logit(p: float) -> float:
    """logit(p), p clipped to [1e-6, 1 - 1e-6]."""
    p = 1e-6 if p < 1e-6 else 1.0 - 1e-6 if p > 1.0 - 1e-6 else p
    return math.log(p / (1.0 - p))


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _shifted(p: float, shift: float) -> float:
    """sigmoid(logit(p) + shift), p clipped to [1e-6, 1 - 1e-6] for the logit."""
    return _sigmoid(_logit(p) + shift)


def lesson_shift(state: LearnerState, lesson: Lesson, params: ModelParams) -> float:
    """Logit shift of success for this learner on this lesson: ability and difficulty."""
    return state.ability + params.difficulty_effect * (0.5 - lesson.difficulty)


def emissions(guess: float, slip: float, shift: float) -> tuple[float, float]:
    """P(success | mastered) and P(success | not mastered), moved by the shift in logit space.

    An able learner also guesses better; a hard lesson trips up even those who master it.
    """
    if shift == 0.0:
        return 1.0 - slip, guess
    return _shifted(1.0 - slip, shift), _shifted(guess, shift)


def competency_emissions(cp: CompetencyParams, shift: float) -> tuple[float, float]:
    """`emissions` of a competency's parameters, from their logits computed once."""
    if shift == 0.0:
        return 1.0 - cp.slip, cp.guess
    return _sigmoid(cp.logit_known + shift), _sigmoid(cp.logit_guess + shift)


def predict_success(
    state: LearnerState, lesson: Lesson, params: ModelParams, now: datetime
) -> float:
    """P(success) of this learner on this lesson at `now`: weighted over the competencies its
    score measures (over all of them when it measures none)."""
    shift = lesson_shift(state, lesson, params)
    total = 0.0
    weights = 0.0
    measured = lesson.measured > 0.0
    for part in lesson.competencies:
        weight = part.measures if measured else part.weight
        if weight <= 0.0:
            continue
        cp = params.for_competency(part.id)
        known, unknown = competency_emissions(cp, shift)
        p = current_probability(state, competency_state(state, part.id, params), now, params)
        total += weight * (p * known + (1.0 - p) * unknown)
        weights += weight
    return total / weights


def update(
    state: LearnerState, obs: Observation, catalog: Catalog, params: ModelParams
) -> LearnerState:
    """A new state with one observation applied; voided or unknown-lesson ones change nothing.

    Each competency the lesson's score measures gets the evidence (the result's evidence
    value, see `scores`, tempered by how much the score measures it); each competency the
    lesson teaches then gets the learning transition, weighted by how much it teaches it.
    """
    lesson = catalog.lessons.get(obs.lesson_id)
    if lesson is None or obs.voided:
        return state
    now = obs.timestamp
    table = params.score_evidence
    score = evidence_value(obs.score, obs.success, table)
    before = state.competencies
    comps = dict(before)
    shift = lesson_shift(state, lesson, params)
    failed = score is not None and failed_result(obs.score, obs.success, table)
    success = not failed
    flags = tuple(state.coach_flags)  # rebuilt only when a flag changes
    # P(success) before this observation, accumulated in the same pass (for the ability
    # residual): one pass over the lesson's competencies keeps the update in microseconds.
    # The new states are built with the `build_*` constructors: the frozen classes' own
    # `__init__` was most of the cost of an update.
    expected = 0.0
    weights = 0.0
    top = lesson.main_weight
    taken = state.taken
    lesson_keep = 1.0 - params.forget_per_lesson
    lessons_forget = params.forget_per_lesson > 0.0
    grows = params.memory_growth > 0.0
    unready = params.unready_learning
    for part in lesson.competencies:
        comp = part.id
        cp = params.for_competency(comp)
        cs = before.get(comp)
        if cs is None:
            cs = competency_state(state, comp, params)
        updated = cs.updated
        if updated is None or updated >= now:
            kept = 1.0
        else:
            days = (now - updated).total_seconds() / SECONDS_PER_DAY
            kept = 1.0 / math.sqrt(1.0 + FORGETTING_FACTOR * days / cs.stability_days)
        lost = (
            lesson_keep ** (taken - cs.taken_at) if lessons_forget and taken > cs.taken_at else 1.0
        )
        p = cs.p * kept * lost
        teach = part.teaches
        if unready is not None and teach > 0.0:
            # Parameters fitted for when the prerequisites are known (`unready_learning`): a
            # lesson teaches r + (1 - r) unready_learning of the rate, r = P(every
            # prerequisite mastered) as the latest evidence on each left it (without the
            # forgetting since, as the fit reads it), taken as independent.
            ready = 1.0
            for pre in catalog.prerequisites(comp):
                found = before.get(pre)
                ready *= params.for_competency(pre).prior if found is None else found.p
            teach *= ready + (1.0 - ready) * unready
        if score is None:
            gain = cp.learn * params.exposure_learning * teach
            comps[comp] = build_competency_state(
                p + (1.0 - p) * gain,
                now,
                cs.stability_days,
                cs.attempts,
                cs.failures,
                cs.last_score,
                lesson.id,
                cs.assessed,
                cs.mastered_by_override,
                cs.checked,
                cs.run_chance,
                taken,
            )
            continue
        weight = part.measures
        post = p
        if weight > 0.0:
            known, unknown = competency_emissions(cp, shift)
            p_success = p * known + (1.0 - p) * unknown
            expected += weight * p_success
            weights += weight
            like_m = score * known + (1.0 - score) * (1.0 - known)
            like_n = score * unknown + (1.0 - score) * (1.0 - unknown)
            denom = p * like_m + (1.0 - p) * like_n
            post = p * like_m / denom if denom > 0.0 else p
            post = p + weight * (post - p)
        if teach > 0.0:
            post = post + (1.0 - post) * cp.learn * teach
        if weight <= 0.0:
            # Taught but not measured: learning only, no attempt on it.
            comps[comp] = build_competency_state(
                _clip(post),
                now,
                cs.stability_days,
                cs.attempts,
                cs.failures,
                cs.last_score,
                lesson.id,
                cs.assessed,
                cs.mastered_by_override,
                cs.checked,
                cs.run_chance,
                taken,
            )
            continue
        stability = (
            next_stability(cs.stability_days, kept, success)
            if grows and post >= 0.5
            else cs.stability_days
        )
        passed_assessment = lesson.kind == "assessment" and (
            obs.success is True
            or (
                obs.success is None
                and obs.score is not None
                and obs.score >= catalog.competencies[comp].mastery_threshold
            )
        )
        # An attempt on a competency is a lesson mainly about it: failing a lesson where it
        # is a minor part does not count towards the coach flag.
        main = part.weight >= top
        failures = 0 if not failed else cs.failures + 1 if main else cs.failures
        run_chance = (
            1.0 if not failed else cs.run_chance * (1.0 - p_success) if main else (cs.run_chance)
        )
        if failures >= COACH_AFTER_FAILURES and comp not in flags:
            flags += (comp,)
        if not failed and comp in flags:
            rest = list(flags)
            rest.remove(comp)
            flags = tuple(rest)
        # Direct evidence: the start of the current run of passes, begun on a lesson mainly
        # about this competency; a failure on it ends the run.
        checked = None if failed else cs.checked
        if checked is None and not failed and main:
            checked = now
        comps[comp] = build_competency_state(
            _clip(post),
            now,
            stability,
            cs.attempts + 1,
            failures,
            obs.score if obs.score is not None else score,
            lesson.id,
            cs.assessed or passed_assessment,
            cs.mastered_by_override,
            checked,
            run_chance,
            taken,
        )
    ability = state.ability
    if score is not None and params.ability_rate and weights > 0.0:
        residual = score - expected / weights
        ability = max(-3.0, min(3.0, ability + params.ability_rate * residual))
    record = state.lessons.get(lesson.id)
    lessons = dict(state.lessons)
    raw = obs.score if obs.score is not None else score
    lessons[lesson.id] = build_lesson_record(
        (record.attempts if record else 0) + 1,
        now,
        raw if raw is not None else (record.last_score if record else None),
        obs.success if score is not None else (record.last_success if record else None),
    )
    return build_learner_state(
        state.learner_id,
        comps,
        lessons,
        ability,
        state.overrides,
        flags,
        state.started,
        state.minutes_per_day,
        taken + 1,
    )


def replay(
    state: LearnerState, observations: Iterable[Observation], catalog: Catalog, params: ModelParams
) -> LearnerState:
    """Apply observations in time order (voided ones skipped); use it to rebuild after a void.
    Instructor overrides in `state` keep their effect on the rebuilt state."""
    for obs in sorted(observations, key=lambda o: o.timestamp):
        state = update(state, obs, catalog, params)
    return with_overrides_applied(state)


def pre_assess(
    state: LearnerState,
    results: Mapping[str, float],
    catalog: Catalog,
    params: ModelParams,
    now: datetime,
) -> LearnerState:
    """Set the starting point from pre-assessment scores per competency (scaled, in [0, 1]).

    A pre-assessment is an assessment: a score at or above a competency's threshold also
    counts as a passed assessment for a `critical` competency.
    """
    require_aware(now)
    comps = dict(state.competencies)
    for comp_id, score in results.items():
        comp = catalog.competency(comp_id)
        if not 0.0 <= score <= 1.0:
            raise ValueError(f"pre-assessment score for {comp_id} must be in [0, 1]")
        cp = params.for_competency(comp_id)
        cs = competency_state(state, comp_id, params)
        like_m = score * (1.0 - cp.slip) + (1.0 - score) * cp.slip
        like_n = score * cp.guess + (1.0 - score) * (1.0 - cp.guess)
        prior = max(cp.prior, 0.5)  # a pre-assessment is usually taken by people who know some
        post = prior * like_m / (prior * like_m + (1.0 - prior) * like_n)
        passed = score >= comp.mastery_threshold
        comps[comp_id] = CompetencyState(
            _clip(post),
            now,
            cs.stability_days,
            cs.attempts + 1,
            cs.failures,
            score,
            None,
            cs.assessed or passed,
            cs.mastered_by_override,
            now if passed else None,
            1.0,
            state.taken,
        )
    return LearnerState(
        state.learner_id,
        comps,
        state.lessons,
        state.ability,
        state.overrides,
        state.coach_flags,
        state.started,
        state.minutes_per_day,
        state.taken,
    )


def mastery_of(
    state: LearnerState,
    competency_id: str,
    catalog: Catalog,
    params: ModelParams,
    now: datetime,
    skip_at_or_above: float | None = None,
    threshold: float | None = None,
) -> MasteryEstimate:
    """The mastery estimate of one competency at `now`.

    Mastered means: marked by an instructor, or P(mastered) at or above the competency's
    threshold (or a pre-assessment score at or above `skip_at_or_above`: the learner
    "already shows" it) and, for a `critical` competency, a passed assessment. `threshold` replaces the
    competency's own threshold (a pathway goal level).
    """
    comp = catalog.competency(competency_id)
    level = comp.mastery_threshold if threshold is None else threshold
    cs = competency_state(state, competency_id, params)
    if cs.updated is None or cs.updated >= now:
        r = 1.0
    else:  # recall(), inlined: this runs for every competency of every recommendation
        days = (now - cs.updated).total_seconds() / SECONDS_PER_DAY
        r = 1.0 / math.sqrt(1.0 + FORGETTING_FACTOR * days / cs.stability_days)
    if state.taken > cs.taken_at and params.forget_per_lesson:
        r *= (1.0 - params.forget_per_lesson) ** (state.taken - cs.taken_at)
    prob = cs.p * r
    # Only a pre-assessment result (no lesson) skips by score alone: a single pass/fail
    # item in a lesson can be a lucky guess, so it goes through the model instead.
    shows = prob >= level or (
        skip_at_or_above is not None
        and cs.last_score is not None
        and cs.last_lesson is None
        and cs.last_score >= skip_at_or_above
        and r >= params.review_recall
    )
    mastered = cs.mastered_by_override or (shows and (cs.assessed or not comp.critical))
    return MasteryEstimate(competency_id, prob, mastered, r, level, cs.attempts)


def mastery(
    state: LearnerState, catalog: Catalog, params: ModelParams, now: datetime
) -> dict[str, MasteryEstimate]:
    """Mastery estimates of every catalog competency at `now`."""
    require_aware(now)
    return {c: mastery_of(state, c, catalog, params, now) for c in catalog.competencies}
