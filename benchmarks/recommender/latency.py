"""Speed on the issue's shape: 100 competencies and 1,000 lessons (10,000 lessons for the
larger `recommend` case), and the fit of 1M observations beside pyBKT's on the same data.

Latency is per call, in microseconds, measured with `time.perf_counter_ns` around the call
only. Learners for `recommend` are at 20 points of progress (the first 0%, 5%, ... 95% of
the competencies pre-assessed as known).
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

import numpy as np

import recommender as rc

from . import baselines as bl
from .family import observations
from .worlds import T0, World, WorldSpec, generate_log, make_world

SPEED = WorldSpec("speed", varies="speed shape", n_comp=100, lessons_per_comp=10)


def speed_world(n_comp: int, seed: int) -> tuple[rc.Catalog, World]:
    """The base world's properties with `n_comp` competencies and 10 lessons on each."""
    world = make_world(replace(SPEED, n_comp=n_comp), np.random.default_rng([seed, 90, n_comp]))
    return rc.load_catalog(world.catalog_document()), world


def update_latency(
    catalog: rc.Catalog, params: rc.ModelParams, samples: int, seed: int
) -> list[int]:
    """Nanoseconds per `update` call, results as they arrive (a success flag and a noisy
    score) on random lessons, learners restarted every 200 observations."""
    rng = np.random.default_rng([seed, 91])
    lessons = list(catalog.lessons)
    state = rc.new_learner("bench")
    out = []
    for i in range(samples):
        passed = bool(rng.random() < 0.6)
        obs = rc.Observation(
            "bench",
            lessons[int(rng.integers(len(lessons)))],
            T0 + timedelta(minutes=10 * i),
            score=round(float(np.clip(rng.normal(0.8 if passed else 0.3, 0.1), 0.0, 1.0)), 2),
            success=passed,
        )
        started = time.perf_counter_ns()
        state = rc.update(state, obs, catalog, params)
        out.append(time.perf_counter_ns() - started)
        if i % 200 == 199:
            state = rc.new_learner("bench")
    return out


def recommend_latency(catalog: rc.Catalog, params: rc.ModelParams, samples: int) -> list[int]:
    """Nanoseconds per `recommend` call (after a first call builds the per-pathway caches)."""
    comps = list(catalog.competencies)
    states = []
    for j in range(20):
        known = int(len(comps) * j / 20)
        states.append(
            rc.pre_assess(
                rc.new_learner(f"u{j}"), dict.fromkeys(comps[:known], 1.0), catalog, params, T0
            )
        )
    rc.recommend(catalog, states[0], params, T0, "goal")
    out = []
    for i in range(samples):
        now = T0 + timedelta(hours=i)
        started = time.perf_counter_ns()
        rc.recommend(catalog, states[i % len(states)], params, now, "goal")
        out.append(time.perf_counter_ns() - started)
    return out


def fit_times(size: int, seed: int) -> tuple[dict[str, float], rc.ModelParams]:
    """Seconds to fit `size` observations (the 100-competency shape, flagged noisy scores),
    ours from `Observation` objects, pyBKT from its data frame, same learners; and our
    fitted parameters (the latency runs use them)."""
    catalog, world = speed_world(SPEED.n_comp, seed)
    steps = 6 * SPEED.n_comp
    log = generate_log(world, size // steps, steps, np.random.default_rng([seed, 92]))
    everyone = np.ones(len(log.learner), dtype=bool)
    history = observations(world, log, everyone)
    size = len(history)
    started = time.perf_counter()
    params, _ = rc.fit_params(history, catalog)
    ours = time.perf_counter() - started
    del history
    _, theirs = bl.fit_pybkt(world, log, everyone)
    return {"observations": float(size), "Skillpath": ours, "pyBKT": theirs}, params
