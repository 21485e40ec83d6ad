"""At-risk prediction on the simulator: predict early, then see who misses the due date.

Learners differ in ability and in pace (lessons per day, drawn per learner). Each follows
Skillpath's policy. On day `check_day` the engine's `at_risk` gives P(missing the milestone);
the learner then carries on until the due date, and "missed" means the engine had not seen
the milestone complete by then.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np

import recommender as rc

from .learner_models import T0
from .policies import _Learner
from .simulator import World


def risk_auc_data(
    world: World,
    catalog: rc.Catalog,
    params: rc.ModelParams,
    learners: int,
    seed: int,
    check_day: int,
    due_days: int,
) -> tuple[list[float], list[bool]]:
    """(predicted P(missing), missed) per learner."""
    predicted, missed = [], []
    for i in range(learners):
        rng = np.random.default_rng([seed, 77, i])
        learner = _Learner(world, rng)
        pace = float(rng.lognormal(np.log(6.0), 0.7))  # lessons per day
        state = rc.start_pathway(rc.new_learner("r"), "goal", T0)
        risk: float | None = None
        complete = False
        for day in range(due_days):
            if day == check_day:
                now = T0 + timedelta(days=day)
                risk = rc.at_risk(catalog, state, params, now, "goal")[0].probability_of_missing
            for j in range(int(rng.poisson(pace))):
                now = T0 + timedelta(days=day, minutes=20 * j + 1)
                rec = rc.recommend(catalog, state, params, now, "goal")
                if rec.lesson_id is None:
                    break
                correct = learner.take(int(rec.lesson_id.rsplit("/", 1)[1]))
                state = rc.update(
                    state,
                    rc.Observation(
                        "r", rec.lesson_id, now, score=float(correct), success=bool(correct)
                    ),
                    catalog,
                    params,
                )
            end = T0 + timedelta(days=day + 1)
            if all(
                rc.mastery_of(state, c, catalog, params, end).mastered
                for c in catalog.pathway("goal").milestones[0].competencies
            ):
                complete = True
                break
        if risk is None:  # done before the check: certainly not missed
            risk = 0.0
        predicted.append(risk)
        missed.append(not complete)
    return predicted, missed
