"""Latency of one incremental update and of one recommendation, per call, in microseconds."""

from __future__ import annotations

import time
from datetime import timedelta

import numpy as np

import recommender as rc

from .learner_models import T0
from .simulator import make_world


def update_latency(
    catalog: rc.Catalog, params: rc.ModelParams, samples: int, seed: int
) -> list[int]:
    """Nanoseconds per `update` call on a learner with growing history."""
    rng = np.random.default_rng(seed)
    lessons = list(catalog.lessons)
    state = rc.new_learner("bench")
    out = []
    for i in range(samples):
        obs = rc.Observation(
            "bench",
            lessons[int(rng.integers(len(lessons)))],
            T0 + timedelta(minutes=10 * i),
            score=float(rng.random() < 0.6),
        )
        started = time.perf_counter_ns()
        state = rc.update(state, obs, catalog, params)
        out.append(time.perf_counter_ns() - started)
        if i % 200 == 199:
            state = rc.new_learner("bench")
    return out


def recommend_latency(n_lessons: int, samples: int, seed: int) -> tuple[list[int], int]:
    """Nanoseconds per `recommend` on a catalog of about `n_lessons` lessons, with learners
    at various points of their path; returns the samples and the real lesson count."""
    rng = np.random.default_rng(seed)
    world = make_world("realistic", rng, n_comp=n_lessons // 3, lessons_per_comp=3)
    goal = [world.n_comp - 1 - i for i in range(0, world.n_comp, max(1, world.n_comp // 10))]
    catalog = rc.load_catalog(world.catalog_document(goal))
    params = rc.ModelParams.defaults()
    comps = list(catalog.competencies)
    out = []
    states = []
    for j in range(20):
        known = int(len(comps) * j / 20)
        state = rc.pre_assess(
            rc.new_learner(f"u{j}"), dict.fromkeys(comps[:known], 1.0), catalog, params, T0
        )
        states.append(state)
    rc.recommend(catalog, states[0], params, T0, "goal")  # builds the per-pathway caches
    for i in range(samples):
        state = states[i % len(states)]
        now = T0 + timedelta(hours=i)
        started = time.perf_counter_ns()
        rc.recommend(catalog, state, params, now, "goal")
        out.append(time.perf_counter_ns() - started)
    return out, len(catalog.lessons)
