"""When a pathway's goal counts as reached, and what one decision knows about the learner.

Pure: imports only the standard library. The goal is declared reached only when the engine is
`DONE_CONFIDENCE` sure that every goal competency is mastered *at the same time*: the product
of their P(mastered) now, after forgetting, is at least 0.98. The promise is that at most one
declaration in twenty is early; the three points between 0.95 and 0.98 are a margin for the
model's own error (it is fitted on the organisation's data, but never exactly right: on the
benchmark's five-competency world a 0.95 target gave 6% early declarations in one run, and
0.97 gave 7% and 5% on two of six seeds where the fit found half the world's forgetting).
Besides, each goal competency must be at its level (P(mastered) at or above the pathway's
level and the competency's threshold; for a critical one, a passed assessment), have direct
evidence whose latest word is the learner's own (a pass on a lesson mainly about it that
tells mastery from a lucky success, no failure on it since, and nothing that taught it since
without being passed: a lesson where it is only a minor part moves the belief on the model's
credit, not on anything the learner showed), and everything it builds on must be mastered. An
instructor's `mark_mastered` or a pre-assessment score at or above the pathway's skip
threshold counts as certain.

With many goal competencies and forgetting, the joint confidence can stay below it for a
long time: the engine then keeps recommending practice on the least certain competency rather
than declaring a goal it is not sure of.
"""

from __future__ import annotations

from datetime import datetime

from .catalog import Catalog, Lesson, Pathway
from .evidence import MasteryEstimate, current_probability, emissions, lesson_shift, mastery_of
from .params import ModelParams
from .scores import failed
from .state import LearnerState

# P(every goal competency mastered now) at which the goal is declared reached: at most 5%
# early declarations, with a margin for the model's error (0.97 left too thin a one: see the
# module docstring).
DONE_CONFIDENCE = 0.98
# A pass confirms a goal competency only on a lesson where success is at least this many
# times likelier if the learner masters it than if not, given what is known of the lesson's
# other competencies (a success on "c17 1.0, c16 0.7" is largely explained by a known c16).
# Several weak passes do not add up: for a learner who succeeds at nearly everything, they
# mostly measure the learner, not the competency.
CONFIRM_RATIO = 2.0
# A competency is worked on once each of its prerequisites is more likely mastered than not;
# what a lesson teaches it counts in proportion to the chance they all are.
READY = 0.5


class DecisionView:
    """Memoised reads of one learner's state for one decision at `now` in one pathway.

    `joint` False (the path preview, whose expected steps carry no evidence) leaves the joint
    confidence out of the goal: the preview assumes the remaining practice goes as expected.
    """

    def __init__(
        self,
        catalog: Catalog,
        state: LearnerState,
        params: ModelParams,
        pathway: Pathway,
        now: datetime,
        joint: bool = True,
    ) -> None:
        self.catalog, self.state, self.params, self.now = catalog, state, params, now
        self.pathway = pathway
        self.joint = joint
        self.skip_at = pathway.thresholds.skip_at_or_above
        self.goal = {g.competency: g.level for g in pathway.goal}
        self.in_pathway = catalog.pathway_competency_set(pathway)
        self._cache: dict[str, MasteryEstimate] = {}
        self._confirmed: dict[str, bool] = {}
        self._readiness: dict[str, float] = {}
        self._ready: dict[str, bool] = {}

    def est(self, comp: str) -> MasteryEstimate:
        found = self._cache.get(comp)
        if found is None:
            if comp in self.state.competencies:
                found = mastery_of(
                    self.state, comp, self.catalog, self.params, self.now, self.skip_at
                )
            else:  # no evidence yet: the prior, as `mastery_of` would read it, built directly
                definition = self.catalog.competencies[comp]
                prior = self.params.for_competency(comp).prior
                threshold = definition.mastery_threshold
                found = MasteryEstimate(
                    comp, prior, prior >= threshold and not definition.critical, 1.0, threshold, 0
                )
            self._cache[comp] = found
        return found

    def probability(self, comp: str) -> float:
        """P(mastered) now, after forgetting."""
        return self.est(comp).probability

    def mastered(self, comp: str) -> bool:
        return self.est(comp).mastered

    def chance_mastered(self, comp: str) -> float:
        """P(mastered) now; 1 when it counts as mastered (an instructor's decision, a
        pre-assessment skip, or at its threshold)."""
        est = self.est(comp)
        return 1.0 if est.mastered else est.probability

    def readiness(self, comp: str) -> float:
        """P(every prerequisite of the competency mastered), taken as independent."""
        found = self._readiness.get(comp)
        if found is None:
            found = 1.0
            for pre in self.catalog.prerequisites(comp):
                found *= self.chance_mastered(pre)
            self._readiness[comp] = found
        return found

    def ready(self, comp: str) -> bool:
        """Every prerequisite of the competency is more likely mastered than not."""
        found = self._ready.get(comp)
        if found is None:
            found = self._ready[comp] = all(
                self.chance_mastered(p) >= READY for p in self.catalog.prerequisites(comp)
            )
        return found

    def at_level(self, comp: str) -> bool:
        """At the pathway's goal level (or mastered, for a competency that is not a goal)."""
        est = self.est(comp)
        level = self.goal.get(comp)
        if level is None or est.probability >= level:
            return est.mastered  # at or above its own threshold, which is <= the goal level
        if est.probability >= est.threshold:
            return False  # mastered, but below the goal level
        return est.mastered  # an instructor's decision or a pre-assessment skip

    def certain(self, comp: str) -> bool:
        """Mastered by an instructor's decision, or shown on a pre-assessment score at or
        above the pathway's skip threshold (and not forgotten since)."""
        cs = self.state.competencies.get(comp)
        if cs is None:
            return False
        if cs.mastered_by_override:
            return True
        return (
            cs.last_lesson is None
            and cs.last_score is not None
            and cs.last_score >= self.skip_at
            and self.est(comp).recall >= self.params.review_recall
        )

    def goal_met(self, comp: str) -> bool:
        """A goal competency at its level with direct evidence; another one mastered."""
        return self.at_level(comp) and (comp not in self.goal or self.confirmed(comp))

    def confirmed(self, comp: str) -> bool:
        """Direct evidence: a passed lesson mainly about the competency, on which success tells
        mastery from a lucky one (`CONFIRM_RATIO`), or a passed pre-assessment, with no
        failure on it since and nothing since that taught it without being passed (`_fresh`);
        or an instructor's decision."""
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
        if cs.failures or cs.checked is None:
            return False
        table = self.params.score_evidence
        passes = []
        for lesson in self.catalog.lessons_for(comp):
            record = self.state.lessons.get(lesson.id)
            if (
                record is not None
                and record.last_at is not None
                and record.last_at >= cs.checked
                and record.last_score is not None
                and comp in lesson.mains
                and not failed(record.last_score, record.last_success, table)
            ):
                passes.append(lesson)
        if not passes:
            return True  # no lesson since the check: it came from a passed pre-assessment
        if not self._fresh(comp, passes):
            return False
        return any(success_ratio(self, x, comp) >= CONFIRM_RATIO for x in passes)

    def _fresh(self, comp: str, passes: list[Lesson]) -> bool:
        """Nothing has taught the competency since its latest direct pass (`passes`) but
        lessons the learner passed. A lesson where it is a minor part, failed or without a
        result, moves the belief on the model's learning credit, not on the learner's own
        word: after it, the goal waits for another direct pass. A passed one keeps the
        confirmation, so two competencies whose lessons teach each other do not take turns
        losing it (the final checks end)."""
        last = max(
            (r.last_at for x in passes if (r := self.state.lessons.get(x.id)) and r.last_at),
            default=None,
        )
        if last is None:
            return True
        table = self.params.score_evidence
        for lesson in self.catalog.lessons_for(comp):
            record = self.state.lessons.get(lesson.id)
            if record is None or record.last_at is None or record.last_at <= last:
                continue
            if record.last_score is None or failed(record.last_score, record.last_success, table):
                return False
        return True

    def joint_confidence(self) -> float:
        """P(every goal competency mastered now), competencies taken as independent."""
        total = 1.0
        for comp in self.goal:
            if not self.certain(comp):
                total *= self.probability(comp)
        return total


def goal_done(view: DecisionView, comp: str) -> bool:
    """A goal competency at its level with direct evidence, and everything it builds on
    mastered: a goal estimate that runs ahead of its own prerequisites is not trusted."""
    return view.goal_met(comp) and all(
        view.mastered(c) for c in view.catalog.closure(comp) if c != comp
    )


def goal_reached(view: DecisionView) -> bool:
    """Every goal competency done, and (unless previewing) jointly certain enough."""
    if not all(goal_done(view, g.competency) for g in view.pathway.goal):
        return False
    return not view.joint or view.joint_confidence() >= DONE_CONFIDENCE


def success_ratio(view: DecisionView, lesson: Lesson, comp: str) -> float:
    """P(success | comp mastered) / P(success | not), for this learner on this lesson.

    Success on a lesson is weighted over what its score measures (as in `predict_success`),
    so the lesson's other measured competencies, at their current estimates, explain part of
    a success.
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
            p = current_probability(view.state, cs, view.now, view.params) if cs else cp.prior
            others += part.measures * (p * k + (1.0 - p) * u)
    return (weight * known + others) / max(weight * unknown + others, 1e-9)
