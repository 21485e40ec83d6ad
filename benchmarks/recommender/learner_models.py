"""Learner models under test: ours (through the public API), pyBKT, running accuracy, and
BKT with the true parameters. Each fits on training learners and predicts held-out ones."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from numpy.typing import NDArray

import recommender as rc

from .simulator import STEPS_PER_DAY, Log, World

T0 = datetime(2026, 1, 5, tzinfo=UTC)


@dataclass
class Evaluation:
    """Held-out predictions of one model."""

    name: str
    next_pred: NDArray[np.float64]  # per test observation
    mastery_pred: NDArray[np.float64]  # per (test observation, lesson competency)
    fit_seconds: float | None


def split(log: Log, test_share: float = 0.2) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Boolean masks of training and test observations, split by learner."""
    learners = int(log.learner.max()) + 1
    test = log.learner >= int(learners * (1 - test_share))
    return ~test, test


def pairs(world: World, log: Log, mask: NDArray[np.bool_]) -> tuple[NDArray, NDArray]:
    """(observation index, competency) of every lesson competency of the masked observations."""
    idx = np.flatnonzero(mask)
    w = world.weights[log.lesson[idx]] > 0
    rows, comps = np.nonzero(w)
    return idx[rows], comps


def observations(world: World, log: Log, mask: NDArray[np.bool_]) -> list[rc.Observation]:
    """The masked log as engine observations."""
    out = []
    for i in np.flatnonzero(mask):
        out.append(
            rc.Observation(
                str(int(log.learner[i])),
                world.lesson_id(int(log.lesson[i])),
                T0 + timedelta(days=float(log.step[i]) / STEPS_PER_DAY),
                score=float(log.correct[i]),
                success=bool(log.correct[i]),
            )
        )
    return out


def evaluate_ours(
    world: World, log: Log, catalog: rc.Catalog, train: NDArray[np.bool_], test: NDArray[np.bool_]
) -> tuple[Evaluation, rc.ModelParams]:
    history = observations(world, log, train)
    started = time.perf_counter()
    params, _ = rc.fit_params(history, catalog)
    fit_seconds = time.perf_counter() - started
    next_pred, mastery_pred = [], []
    states: dict[str, rc.LearnerState] = {}
    for obs in observations(world, log, test):
        state = states.get(obs.learner_id) or rc.new_learner(obs.learner_id)
        lesson = catalog.lessons[obs.lesson_id]
        next_pred.append(rc.predict_success(state, lesson, params, obs.timestamp))
        for part in sorted(lesson.competencies, key=lambda p: p.id):
            mastery_pred.append(
                rc.mastery_of(state, part.id, catalog, params, obs.timestamp).probability
            )
        states[obs.learner_id] = rc.update(state, obs, catalog, params)
    return Evaluation("Skillpath", np.array(next_pred), np.array(mastery_pred), fit_seconds), params


def evaluate_pybkt(
    world: World, log: Log, train: NDArray[np.bool_], test: NDArray[np.bool_]
) -> Evaluation:
    """pyBKT 1.4.3 with one row per (observation, competency), as multi-skill data is fed to it."""
    import pandas as pd
    from pyBKT.models import Model

    def frame(mask: NDArray[np.bool_]) -> pd.DataFrame:
        obs_idx, comps = pairs(world, log, mask)
        return pd.DataFrame(
            {
                "order_id": np.arange(len(obs_idx)),
                "user_id": log.learner[obs_idx].astype(str),
                "skill_name": [world.comp_id(int(c)) for c in comps],
                "correct": log.correct[obs_idx],
            }
        )

    train_df = frame(train)
    model = Model(seed=42, num_fits=1)
    started = time.perf_counter()
    model.fit(data=train_df)
    fit_seconds = time.perf_counter() - started
    test_df = frame(test)
    predicted = model.predict(data=test_df)
    obs_idx, comps = pairs(world, log, test)
    per_pair = predicted["correct_predictions"].to_numpy()
    weights = world.weights[log.lesson[obs_idx], comps]
    test_idx = np.flatnonzero(test)
    position = np.searchsorted(test_idx, obs_idx)
    num = np.bincount(position, weights * per_pair, len(test_idx))
    den = np.bincount(position, weights, len(test_idx))
    return Evaluation(
        "pyBKT 1.4.3", num / den, predicted["state_predictions"].to_numpy(), fit_seconds
    )


def evaluate_running_accuracy(
    world: World, log: Log, train: NDArray[np.bool_], test: NDArray[np.bool_]
) -> Evaluation:
    """Per learner and competency, the running share of correct answers (smoothed)."""
    t_idx, t_comp = pairs(world, log, train)
    base = (np.bincount(t_comp, log.correct[t_idx], world.n_comp) + 1) / (
        np.bincount(t_comp, minlength=world.n_comp) + 2
    )
    hits: dict[tuple[int, int], list[float]] = {}
    next_pred, mastery_pred = [], []
    for i in np.flatnonzero(test):
        comps = np.flatnonzero(world.weights[log.lesson[i]])
        preds = []
        for c in comps:
            h, n = hits.get((int(log.learner[i]), int(c)), [0.0, 0.0])
            preds.append((h + 2 * base[c]) / (n + 2))
        w = world.weights[log.lesson[i], comps]
        next_pred.append(float(np.dot(w, preds) / w.sum()))
        mastery_pred.extend(preds)
        for c in comps:
            entry = hits.setdefault((int(log.learner[i]), int(c)), [0.0, 0.0])
            entry[0] += float(log.correct[i])
            entry[1] += 1.0
    return Evaluation("running accuracy", np.array(next_pred), np.array(mastery_pred), 0.0)


def evaluate_true_bkt(world: World, log: Log, test: NDArray[np.bool_]) -> Evaluation:
    """Standard BKT filtering with the simulator's true per-competency parameters."""
    belief: dict[tuple[int, int], float] = {}
    next_pred, mastery_pred = [], []
    teach = np.array([k != "assessment" for k in world.kind])
    for i in np.flatnonzero(test):
        lesson = int(log.lesson[i])
        comps = np.flatnonzero(world.weights[lesson])
        w = world.weights[lesson, comps]
        ps = [belief.get((int(log.learner[i]), int(c)), float(world.prior[c])) for c in comps]
        per = [
            p * (1 - world.slip[c]) + (1 - p) * world.guess[c]
            for p, c in zip(ps, comps, strict=True)
        ]
        next_pred.append(float(np.dot(w, per) / w.sum()))
        mastery_pred.extend(ps)
        y = log.correct[i]
        for p, c in zip(ps, comps, strict=True):
            lm = (1 - world.slip[c]) if y else world.slip[c]
            ln = world.guess[c] if y else (1 - world.guess[c])
            post = p * lm / (p * lm + (1 - p) * ln)
            if teach[lesson]:
                post = post + (1 - post) * world.learn[c]
            belief[(int(log.learner[i]), int(c))] = float(post)
    return Evaluation("BKT, true params", np.array(next_pred), np.array(mastery_pred), None)
