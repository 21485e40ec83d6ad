"""A deterministic synthetic-learner world with known ground truth.

Two scenarios. "clean": standard BKT generates the data, one competency per lesson, no
forgetting, no ability, no difficulty. "realistic": a prerequisite graph, lessons covering
1-3 competencies with weights, difficulty and duration, hidden mastery with learn, guess,
slip and forget rates, heterogeneous learner ability and some prior knowledge.

Everything is drawn from a seeded numpy Generator, so a run is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

STEPS_PER_DAY = 6.0


@dataclass
class World:
    """The hidden truth of one scenario plus the catalog document learners see."""

    scenario: str
    n_comp: int
    prior: NDArray[np.float64]
    learn: NDArray[np.float64]
    guess: NDArray[np.float64]
    slip: NDArray[np.float64]
    forget: NDArray[np.float64]  # per day, mastered -> not mastered
    prereqs: list[list[int]]
    weights: NDArray[np.float64]  # [lessons, competencies]
    difficulty: NDArray[np.float64]
    duration: NDArray[np.float64]
    kind: list[str]
    ability_sd: float
    difficulty_effect: float

    @property
    def n_lessons(self) -> int:
        return int(self.weights.shape[0])

    def comp_id(self, k: int) -> str:
        return f"c{k:03d}"

    def lesson_id(self, lesson: int) -> str:
        return f"https://sim.example.org/lesson/{lesson}"

    def primary(self, lesson: int) -> int:
        return int(np.argmax(self.weights[lesson]))

    def catalog_document(
        self, goal: list[int] | None = None, level: float = 0.8, due_days: int | None = None
    ) -> dict[str, Any]:
        goal = goal if goal is not None else [self.n_comp - 1]
        lessons = []
        for i in range(self.n_lessons):
            comps = [
                {"id": self.comp_id(k), "weight": round(float(self.weights[i, k]), 3)}
                for k in np.flatnonzero(self.weights[i])
            ]
            taught = set(np.flatnonzero(self.weights[i]).tolist())
            # Requirements point to lower indices than anything taught: no cycles.
            requires = sorted(
                {self.comp_id(p) for p in self.prereqs[self.primary(i)] if p < min(taught)}
            )
            lessons.append(
                {
                    "id": self.lesson_id(i),
                    "title": f"Lesson {i}",
                    "kind": self.kind[i],
                    "duration_minutes": float(self.duration[i]),
                    "difficulty": float(self.difficulty[i]),
                    "competencies": comps,
                    "requires": requires,
                }
            )
        return {
            "format": "skillpath-catalog/1",
            "competencies": [
                {"id": self.comp_id(k), "name": f"Competency {k}", "mastery_threshold": 0.8}
                for k in range(self.n_comp)
            ],
            "lessons": lessons,
            "pathways": [
                {
                    "id": "goal",
                    "title": "Goal",
                    "goal": [{"competency": self.comp_id(k), "level": level} for k in goal],
                    "milestones": []
                    if due_days is None
                    else [
                        {
                            "id": "goal",
                            "title": "Goal reached",
                            "competencies": [self.comp_id(k) for k in goal],
                            "due_days": due_days,
                        }
                    ],
                }
            ],
        }


def make_world(
    scenario: str, rng: np.random.Generator, n_comp: int = 20, lessons_per_comp: int = 3
) -> World:
    """A clean or realistic world with `n_comp` competencies."""
    k = n_comp
    n_lessons = k * lessons_per_comp
    weights = np.zeros((n_lessons, k))
    prereqs: list[list[int]] = [[] for _ in range(k)]
    if scenario == "clean":
        for i in range(n_lessons):
            weights[i, i % k] = 1.0
        return World(
            scenario,
            k,
            rng.uniform(0.05, 0.4, k),
            rng.uniform(0.05, 0.3, k),
            rng.uniform(0.1, 0.3, k),
            rng.uniform(0.05, 0.2, k),
            np.zeros(k),
            prereqs,
            weights,
            np.full(n_lessons, 0.5),
            rng.uniform(3, 12, n_lessons),
            ["practice"] * n_lessons,
            0.0,
            0.0,
        )
    for c in range(1, k):
        choices = list(range(max(0, c - 6), c))
        n_pre = int(rng.integers(0, min(2, len(choices)) + 1))
        prereqs[c] = sorted(int(x) for x in rng.choice(choices, n_pre, replace=False))
    kinds = []
    for i in range(n_lessons):
        c = i % k
        weights[i, c] = 1.0
        extra = int(rng.integers(0, 3))  # 1-3 competencies per lesson
        pool = prereqs[c] + [x for x in (c - 1, c + 1) if 0 <= x < k]
        for other in rng.permutation(pool)[:extra]:
            if other != c:
                weights[i, int(other)] = round(float(rng.uniform(0.3, 0.7)), 2)
        kinds.append(
            "assessment"
            if i % lessons_per_comp == lessons_per_comp - 1 and rng.random() < 0.5
            else ("practice" if rng.random() < 0.5 else "lesson")
        )
    depth = np.array([len(p) for p in prereqs])
    prior = np.clip(rng.uniform(0.05, 0.4, k) - 0.05 * depth, 0.02, 0.5)
    return World(
        scenario,
        k,
        prior,
        rng.uniform(0.08, 0.25, k),
        rng.uniform(0.1, 0.3, k),
        rng.uniform(0.05, 0.15, k),
        rng.uniform(0.002, 0.01, k),
        prereqs,
        weights,
        rng.uniform(0.1, 0.9, n_lessons),
        rng.uniform(3, 15, n_lessons),
        kinds,
        0.8,
        1.5,
    )


@dataclass
class Log:
    """Observations in time order per learner, with the hidden truth before each response."""

    learner: NDArray[np.int64]
    step: NDArray[np.int64]
    lesson: NDArray[np.int64]
    correct: NDArray[np.int64]
    truth: NDArray[np.bool_]  # [obs, competencies] mastery before the response
    ability: NDArray[np.float64]  # per learner


def p_correct(
    world: World,
    mastered: NDArray[np.bool_],
    lesson: NDArray[np.int64],
    ability: NDArray[np.float64],
) -> NDArray[np.float64]:
    """P(correct) of each learner (rows of `mastered`) on their lesson."""
    w = world.weights[lesson]
    per = np.where(mastered, 1.0 - world.slip, world.guess)
    base = (w * per).sum(1) / w.sum(1)
    if world.scenario == "clean":
        return base
    logit = (
        np.log(base / (1 - base))
        + ability
        - world.difficulty_effect * (world.difficulty[lesson] - 0.5)
    )
    return 1.0 / (1.0 + np.exp(-logit))


def learn_step(
    world: World,
    mastered: NDArray[np.bool_],
    lesson: NDArray[np.int64],
    ability: NDArray[np.float64],
    rng: np.random.Generator,
) -> NDArray[np.bool_]:
    """Hidden state after taking the lessons (learning, then a step of forgetting)."""
    w = world.weights[lesson]
    teaches = np.array([world.kind[i] != "assessment" for i in lesson])[:, None]
    rate = world.learn * w * teaches
    if world.scenario != "clean":
        ready = np.ones_like(mastered)
        for c, pre in enumerate(world.prereqs):
            if pre:
                ready[:, c] = mastered[:, pre].all(1)
        rate = rate * np.where(ready, 1.0, 0.35) * np.exp(0.3 * ability)[:, None]
    out = mastered | (rng.random(mastered.shape) < np.clip(rate, 0, 1))
    if world.forget.any():
        lost = rng.random(mastered.shape) < world.forget / STEPS_PER_DAY
        out = out & ~lost
    return out


def initial_state(
    world: World, n: int, rng: np.random.Generator
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Prior knowledge and ability of `n` learners."""
    ability = rng.normal(0.0, world.ability_sd, n) if world.ability_sd else np.zeros(n)
    return rng.random((n, world.n_comp)) < world.prior, ability


def generate_log(world: World, learners: int, steps: int, rng: np.random.Generator) -> Log:
    """Learners work through the curriculum roughly in order, with some wandering."""
    mastered, ability = initial_state(world, learners, rng)
    rows_l, rows_s, rows_lesson, rows_c, rows_t = [], [], [], [], []
    k = world.n_comp
    per_comp = world.n_lessons // k
    for t in range(steps):
        position = np.minimum(k - 1, (t * k) // steps + rng.integers(-2, 3, learners))
        comp = np.where(
            rng.random(learners) < 0.25, rng.integers(0, k, learners), np.clip(position, 0, k - 1)
        )
        lesson = comp + k * rng.integers(0, per_comp, learners)
        prob = p_correct(world, mastered, lesson, ability)
        rows_l.append(np.arange(learners))
        rows_s.append(np.full(learners, t))
        rows_lesson.append(lesson)
        rows_c.append((rng.random(learners) < prob).astype(np.int64))
        rows_t.append(mastered.copy())
        mastered = learn_step(world, mastered, lesson, ability, rng)
    learner = np.stack(rows_l, 1).ravel()
    order = np.argsort(learner, kind="stable")
    return Log(
        learner[order],
        np.stack(rows_s, 1).ravel()[order],
        np.stack(rows_lesson, 1).ravel()[order],
        np.stack(rows_c, 1).ravel()[order],
        np.stack(rows_t, 1).reshape(-1, k)[order],
        ability,
    )
