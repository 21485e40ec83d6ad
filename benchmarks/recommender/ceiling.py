"""How good can a mastery estimate be on the simulator's data? A particle filter that knows
the generating model exactly (every parameter, the prerequisite gating, forgetting and the
ability distribution) gives a near Bayes-optimal P(mastered) before each response; its AUC
against the hidden truth is a ceiling for any learner model fed the same responses.

Run: `python -m benchmarks.recommender.ceiling [--particles N]` (about 20 s at 4,000). It uses
the same world, log and held-out learners as the 30,000-observation rows of the main run.
On "clean" the exact answer is known (BKT with the true parameters, independent
competencies), which shows how far the finite particle filter falls short of exact.
"""

from __future__ import annotations

import argparse

import numpy as np

from .learner_models import pairs, split
from .metrics import auc
from .simulator import generate_log, learn_step, make_world, p_correct

STEPS = 100


def filtered_mastery(scenario: str, size: int, seed: int, particles: int) -> float:
    """Mastery AUC vs truth of the particle filter on held-out learners."""
    rng = np.random.default_rng([seed, size, len(scenario)])
    world = make_world(scenario, np.random.default_rng([seed, len(scenario)]))
    log = generate_log(world, size // STEPS, STEPS, rng)
    _, test = split(log)
    obs_idx, comps = pairs(world, log, test)
    truth = log.truth[obs_idx, comps]
    prng = np.random.default_rng([seed, 99])
    preds: list[float] = []
    test_idx = np.flatnonzero(test)
    for learner in np.unique(log.learner[test_idx]):
        rows = test_idx[log.learner[test_idx] == learner]
        mastered = prng.random((particles, world.n_comp)) < world.prior
        ability = (
            prng.normal(0.0, world.ability_sd, particles)
            if world.ability_sd
            else np.zeros(particles)
        )
        weight = np.full(particles, 1.0 / particles)
        for i in rows:
            lesson = np.full(particles, int(log.lesson[i]))
            for c in np.flatnonzero(world.weights[int(log.lesson[i])]):  # order as `pairs`
                preds.append(float(np.dot(weight, mastered[:, c])))
            p = p_correct(world, mastered, lesson, ability)
            weight = weight * (p if log.correct[i] else 1.0 - p)
            weight /= weight.sum()
            if 1.0 / np.sum(weight**2) < particles / 2:  # resample when degenerate
                pick = prng.choice(particles, particles, p=weight)
                mastered, ability = mastered[pick], ability[pick]
                weight = np.full(particles, 1.0 / particles)
            mastered = learn_step(world, mastered, lesson, ability, prng)
    return auc(truth, np.array(preds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--particles", type=int, default=4_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    for scenario in ("clean", "realistic"):
        value = filtered_mastery(scenario, 30_000, args.seed, args.particles)
        print(
            f"{scenario} 30,000: particle filter with the true model ({args.particles:,} "
            f"particles), mastery AUC vs truth {value:.4f}"
        )


if __name__ == "__main__":
    main()
