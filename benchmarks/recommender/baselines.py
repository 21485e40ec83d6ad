"""What Skillpath is compared with, on the worlds of `worlds.py`.

Learner models: pyBKT 1.4.3 (one row per lesson competency, its usual treatment of
multi-skill items; `num_fits=1`) and a running accuracy per learner and competency. Both get
the evidence as 0/1: the success flag when the statement has one, else the score rounded at
0.5.

Policies: a fixed course order; greedy on pyBKT's fitted parameters; greedy on the world's
true parameters. Greedy works on the earliest goal competency (prerequisites first) below 0.95
whose prerequisites are at 0.95, takes the teaching lesson with the largest expected gain, and
declares the goal done when every goal competency is at 0.95. Each greedy also runs a second
time going on past its own "done" (`goes_on`: it then practises the competency it believes
least, up to the cap), so that its proficiency within the cap measures how it teaches, not
only when it stops: a stop declared too early ends a learner's run unproficient.

- Greedy on pyBKT updates every competency of a lesson with the lesson's 0/1 outcome and
  pyBKT's per-competency parameters, as pyBKT models multi-skill items.
- Greedy on true parameters filters with what the world really is: the score measures the
  parts it measures, learning is weighted by what the lesson teaches and slowed while a
  prerequisite is not known (at its current belief), lesson difficulty moves success, a
  score without a success flag counts by its true likelihood ratio, and forgetting per lesson
  and per day is applied. It does not know the learner's ability.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .worlds import DIFFICULTY_EFFECT, LEARN_WITHOUT_PREREQS, Log, World

GREEDY_DONE = 0.95

_F = NDArray[np.float64]


@dataclass
class ModelEvaluation:
    """Held-out predictions of one learner model."""

    name: str
    next_pred: _F  # per test observation: P(pass)
    mastery_pred: _F  # per (test observation, lesson competency): P(mastered) before it
    fit_seconds: float | None


def binary_outcome(log: Log) -> NDArray[np.int64]:
    """The 0/1 outcome a binary model gets: the flag, or the score rounded at 0.5."""
    return np.where(log.flag >= 0, log.flag, (log.score >= 0.5).astype(np.int8)).astype(np.int64)


def lesson_parts(world: World) -> NDArray[np.bool_]:
    """[lessons, competencies]: the competencies the catalog lists for each lesson."""
    return (world.teach > 0) | (world.measure > 0)


def pairs(
    world: World, log: Log, mask: NDArray[np.bool_]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(observation index, competency) of every lesson competency of the masked observations."""
    idx = np.flatnonzero(mask)
    rows, comps = np.nonzero(lesson_parts(world)[log.lesson[idx]])
    return idx[rows], comps


def _pybkt_frame(world: World, log: Log, mask: NDArray[np.bool_]) -> Any:
    import pandas as pd

    obs_idx, comps = pairs(world, log, mask)
    return pd.DataFrame(
        {
            "order_id": np.arange(len(obs_idx)),
            "user_id": log.learner[obs_idx].astype(str),
            "skill_name": [world.comp_id(int(c)) for c in comps],
            "correct": binary_outcome(log)[obs_idx],
        }
    )


def fit_pybkt(world: World, log: Log, train: NDArray[np.bool_]) -> tuple[Any, float]:
    """A fitted pyBKT model and the seconds its fit took."""
    from pyBKT.models import Model

    frame = _pybkt_frame(world, log, train)
    model = Model(seed=42, num_fits=1)
    started = time.perf_counter()
    model.fit(data=frame)
    return model, time.perf_counter() - started


def pybkt_parameters(world: World, model: Any) -> dict[int, tuple[float, float, float, float]]:
    """(prior, learn, guess, slip) per competency index, as pyBKT fitted them."""
    values = model.params()["value"]
    out = {}
    for k in range(world.n_comp):
        skill = world.comp_id(k)
        try:
            out[k] = (
                float(values[(skill, "prior", "default")]),
                float(values[(skill, "learns", "default")]),
                float(values[(skill, "guesses", "default")]),
                float(values[(skill, "slips", "default")]),
            )
        except KeyError:  # a competency absent from the training log
            out[k] = (0.1, 0.1, 0.2, 0.1)
    return out


def evaluate_pybkt(
    world: World, log: Log, model: Any, fit_seconds: float, test: NDArray[np.bool_]
) -> ModelEvaluation:
    predicted = model.predict(data=_pybkt_frame(world, log, test))
    obs_idx, comps = pairs(world, log, test)
    per_pair = predicted["correct_predictions"].to_numpy()
    weights = np.maximum(world.measure, world.teach)[log.lesson[obs_idx], comps]
    test_idx = np.flatnonzero(test)
    position = np.searchsorted(test_idx, obs_idx)
    num = np.bincount(position, weights * per_pair, len(test_idx))
    den = np.bincount(position, weights, len(test_idx))
    return ModelEvaluation(
        "pyBKT", num / den, predicted["state_predictions"].to_numpy(), fit_seconds
    )


def evaluate_running_accuracy(
    world: World, log: Log, train: NDArray[np.bool_], test: NDArray[np.bool_]
) -> ModelEvaluation:
    """Per learner and competency, the smoothed running share of passes."""
    outcome = binary_outcome(log)
    t_idx, t_comp = pairs(world, log, train)
    base = (np.bincount(t_comp, outcome[t_idx], world.n_comp) + 1) / (
        np.bincount(t_comp, minlength=world.n_comp) + 2
    )
    parts = lesson_parts(world)
    weight = np.maximum(world.measure, world.teach)
    hits: dict[tuple[int, int], list[float]] = {}
    next_pred, mastery_pred = [], []
    for i in np.flatnonzero(test):
        lesson = int(log.lesson[i])
        comps = np.flatnonzero(parts[lesson])
        preds = []
        for c in comps:
            h, n = hits.get((int(log.learner[i]), int(c)), [0.0, 0.0])
            preds.append((h + 2 * base[c]) / (n + 2))
        w = weight[lesson, comps]
        next_pred.append(float(np.dot(w, preds) / w.sum()))
        mastery_pred.extend(preds)
        for c in comps:
            entry = hits.setdefault((int(log.learner[i]), int(c)), [0.0, 0.0])
            entry[0] += float(outcome[i])
            entry[1] += 1.0
    return ModelEvaluation("running accuracy", np.array(next_pred), np.array(mastery_pred), 0.0)


# ---- policies -----------------------------------------------------------------------------


class Policy:
    """One learner's policy: `next` gives a lesson index (None: the policy stops, having
    declared the goal done when `declared` is true), `observe` takes the evidence of the
    lesson just taken."""

    declared = True

    def next(self, now: datetime) -> int | None:
        raise NotImplementedError

    def observe(self, lesson: int, score: float, success: bool | None, at: datetime) -> None:
        raise NotImplementedError


def course_order(world: World) -> list[int]:
    """Every lesson, competency by competency (prerequisites first), teaching before testing."""
    rank = {"lesson": 0, "practice": 1, "assessment": 2}
    order = []
    for c in range(world.n_comp):  # prerequisites always have lower indices
        mine = [i for i in range(world.n_lessons) if world.main[i] == c]
        order += sorted(mine, key=lambda i: (rank[world.kind[i]], i))
    return order


class FixedOrder(Policy):
    def __init__(self, world: World) -> None:
        self.course = iter(course_order(world))

    def next(self, now: datetime) -> int | None:
        return next(self.course, None)

    def observe(self, lesson: int, score: float, success: bool | None, at: datetime) -> None:
        pass


def _normal_ratio(score: float) -> float:
    """Likelihood ratio pass : fail of a noisy score (the worlds' score distributions)."""

    def density(x: float, mean: float, sd: float) -> float:
        return math.exp(-0.5 * ((x - mean) / sd) ** 2) / sd

    return density(score, 0.8, 0.1) / max(density(score, 0.3, 0.12), 1e-300)


class Greedy(Policy):
    """Greedy on per-competency BKT beliefs (see the module docstring for the two filters)."""

    def __init__(
        self,
        world: World,
        params: dict[int, tuple[float, float, float, float]],
        truth: bool,
        goes_on: bool = False,
    ) -> None:
        self.world = world
        self.params = params
        self.truth = truth
        self.goes_on = goes_on
        self.belief = np.array([params[k][0] for k in range(world.n_comp)])
        self.learn = np.array([params[k][1] for k in range(world.n_comp)])
        self.last_at: datetime | None = None
        teaching = [i for i in range(world.n_lessons) if world.teaches[i]]
        self.by_comp = {c: [i for i in teaching if world.main[i] == c] for c in range(world.n_comp)}
        parts = lesson_parts(world)
        self.weight = np.where(parts, np.maximum(world.teach, world.measure), 0.0)

    def next(self, now: datetime) -> int | None:
        self._decay_to(now)
        b, world = self.belief, self.world
        if (b >= GREEDY_DONE).all():
            if not self.goes_on:
                return None
            # Going on past its own done (`goes_on`): no competency is below the bar, so the
            # loop below finds none and it practises the one it believes least.
        for c in range(world.n_comp):
            if b[c] >= GREEDY_DONE or any(b[p] < GREEDY_DONE for p in world.prereqs[c]):
                continue
            options = self.by_comp[c] or [
                i for i in range(world.n_lessons) if world.teaches[i] and world.teach[i, c] > 0
            ]
            if options:
                return max(options, key=self._gain)
        lowest = int(np.argmin(b))
        return (
            self.by_comp[lowest][0]
            if self.by_comp[lowest]
            else int(np.flatnonzero(world.main == lowest)[0])
        )

    def _gain(self, lesson: int) -> float:
        w = self.world.teach[lesson] if self.truth else self.weight[lesson]
        return float(np.sum(w * (1.0 - self.belief) * self.learn))

    def _decay_to(self, now: datetime) -> None:
        if not self.truth or self.last_at is None:
            return
        days = max(0.0, (now - self.last_at).total_seconds() / 86400.0)
        per_day = self.world.spec.forget_per_day
        if per_day and days:
            self.belief = self.belief * (1.0 - per_day) ** days
        self.last_at = now

    def observe(self, lesson: int, score: float, success: bool | None, at: datetime) -> None:
        self._decay_to(at)
        if self.truth:
            self._observe_true(lesson, score, success)
        else:
            outcome = success if success is not None else score >= 0.5
            for c in np.flatnonzero(self.weight[lesson] > 0):
                prior, learn, guess, slip = self.params[int(c)]
                p = self.belief[c]
                lm = (1 - slip) if outcome else slip
                ln = guess if outcome else (1 - guess)
                post = p * lm / (p * lm + (1 - p) * ln)
                self.belief[c] = post + (1 - post) * learn
        self.last_at = at

    def _observe_true(self, lesson: int, score: float, success: bool | None) -> None:
        world, b = self.world, self.belief
        if success is not None:
            ratio_pass = math.inf if success else 0.0
        else:
            ratio_pass = _normal_ratio(score)
        m = world.measure[lesson]
        measured = np.flatnonzero(m > 0)
        shift = -DIFFICULTY_EFFECT * (world.difficulty[lesson] - 0.5)
        per = b * (1.0 - world.slip) + (1.0 - b) * world.guess
        total = float(m.sum())
        post = b.copy()
        for c in measured:
            others = float(np.dot(m, per) - m[c] * per[c])
            known = _shift((m[c] * (1.0 - world.slip[c]) + others) / total, shift)
            unknown = _shift((m[c] * world.guess[c] + others) / total, shift)
            if math.isinf(ratio_pass):
                lk, lu = known, unknown
            elif ratio_pass == 0.0:
                lk, lu = 1.0 - known, 1.0 - unknown
            else:
                lk = known * ratio_pass + (1.0 - known)
                lu = unknown * ratio_pass + (1.0 - unknown)
            post[c] = b[c] * lk / (b[c] * lk + (1.0 - b[c]) * lu)
        for k, taught in world.taught_parts[lesson]:
            pre = world.prereqs[k]
            ready = float(np.prod(b[pre])) if pre else 1.0
            rate = world.learn[k] * taught * (ready + (1.0 - ready) * LEARN_WITHOUT_PREREQS)
            post[k] = post[k] + (1.0 - post[k]) * min(rate, 1.0)
        self.belief = post * (1.0 - world.spec.forget_per_lesson)


def _shift(p: float, shift: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return 1.0 / (1.0 + math.exp(-(math.log(p / (1 - p)) + shift)))


def true_parameters(world: World) -> dict[int, tuple[float, float, float, float]]:
    """(prior, learn, guess, slip) per competency as the world generates them; the prior is
    the share of the population that knows it."""
    return {
        k: (
            float(world.prior_know[k]),
            float(world.learn[k]),
            float(world.guess[k]),
            float(world.slip[k]),
        )
        for k in range(world.n_comp)
    }
