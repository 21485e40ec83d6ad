"""Time to proficiency in the simulator: four policies drive the same simulated learners.

Policies: a fixed course order, a score-range rule like Canvas Mastery Paths, greedy on
pyBKT's fitted parameters, and Skillpath's `recommend`. Each learner stops when the policy
declares the goal done or at the cap; "premature done" is a declaration while the hidden
truth says some goal competency is not mastered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

import recommender as rc

from .learner_models import T0
from .simulator import STEPS_PER_DAY, World, initial_state, learn_step, p_correct

CAP = 300


@dataclass
class PolicyResult:
    name: str
    proficient: list[bool]
    lessons: list[int]  # lessons until truly proficient (cap when never)
    minutes: list[float]
    premature: list[bool]


class _Learner:
    """One simulated learner: hidden mastery, ability and a clock."""

    def __init__(self, world: World, rng: np.random.Generator) -> None:
        self.world = world
        self.rng = rng
        self.mastered, self.ability = initial_state(world, 1, rng)
        self.step = 0

    def take(self, lesson: int) -> int:
        lessons = np.array([lesson])
        correct = int(
            self.rng.random() < p_correct(self.world, self.mastered, lessons, self.ability)[0]
        )
        self.mastered = learn_step(self.world, self.mastered, lessons, self.ability, self.rng)
        self.step += 1
        return correct

    def proficient(self, goal: list[int]) -> bool:
        return bool(self.mastered[0, goal].all())


def _run(
    name: str,
    world: World,
    goal: list[int],
    learners: int,
    seed: int,
    make_policy: Callable[[_Learner], Callable[[int | None], int | None]],
) -> PolicyResult:
    result = PolicyResult(name, [], [], [], [])
    for i in range(learners):
        learner = _Learner(world, np.random.default_rng([seed, i]))
        policy = make_policy(learner)
        minutes = 0.0
        reached_at: tuple[int, float] | None = None
        last_correct: int | None = None
        premature = False
        for n in range(CAP):
            if reached_at is None and learner.proficient(goal):
                reached_at = (n, minutes)
            lesson = policy(last_correct)
            if lesson is None:
                premature = not learner.proficient(goal)
                break
            last_correct = learner.take(lesson)
            minutes += float(world.duration[lesson])
        if reached_at is None and learner.proficient(goal):
            reached_at = (CAP, minutes)
        result.proficient.append(reached_at is not None)
        result.lessons.append(reached_at[0] if reached_at else CAP)
        result.minutes.append(reached_at[1] if reached_at else minutes)
        result.premature.append(premature)
    return result


def _closure(world: World, goal: list[int]) -> list[int]:
    wanted: set[int] = set()
    stack = list(goal)
    while stack:
        c = stack.pop()
        if c not in wanted:
            wanted.add(c)
            stack.extend(world.prereqs[c])
    return sorted(wanted)


def _lessons_of(world: World, comp: int) -> list[int]:
    rank = {"lesson": 0, "practice": 1, "assessment": 2}
    found = [i for i in range(world.n_lessons) if world.primary(i) == comp]
    return sorted(found, key=lambda i: (rank[world.kind[i]], i))


def fixed_order(world: World, goal: list[int], learners: int, seed: int) -> PolicyResult:
    course = [lesson for c in _closure(world, goal) for lesson in _lessons_of(world, c)]

    def make(_: _Learner) -> Callable[[int | None], int | None]:
        it = iter(course)
        return lambda _last: next(it, None)

    return _run("fixed course order", world, goal, learners, seed, make)


def score_range(world: World, goal: list[int], learners: int, seed: int) -> PolicyResult:
    """Canvas Mastery Paths style: >= 0.8 moves on, 0.4-0.8 more practice, < 0.4 easiest."""
    comps = _closure(world, goal)

    def make(_: _Learner) -> Callable[[int | None], int | None]:
        state = {"comp": 0, "turn": 0, "tries": 0}

        def choose(last: int | None) -> int | None:
            if last is not None:
                state["tries"] += 1
                recent = state["score"] if "score" in state else 0
                state["score"] = (recent + last) / 2 if state["tries"] > 1 else last
                if state["score"] >= 0.8 or state["tries"] >= 6:
                    state.update(comp=state["comp"] + 1, turn=0, tries=0, score=0)
                elif state["score"] < 0.4:
                    state["turn"] = 0
                else:
                    state["turn"] += 1
            if state["comp"] >= len(comps):
                return None
            options = _lessons_of(world, comps[state["comp"]])
            if "score" in state and state["score"] < 0.4 and state["tries"]:
                return min(options, key=lambda i: world.difficulty[i])
            return options[state["turn"] % len(options)]

        return choose

    return _run("score-range rule (Canvas-like)", world, goal, learners, seed, make)


def greedy_pybkt(
    world: World,
    goal: list[int],
    learners: int,
    seed: int,
    bkt: dict[int, tuple[float, float, float, float]],
) -> PolicyResult:
    """Greedy on pyBKT's parameters: the lesson with the most expected mastery gain on the
    earliest competency below 0.95 whose prerequisites are at 0.95; done at 0.95.

    Assessments teach nothing, and the catalog says which lessons are assessments, so their
    expected gain is zero: greedy chooses among the teaching lessons.
    """
    comps = _closure(world, goal)
    by_comp = {
        c: [i for i in _lessons_of(world, c) if world.kind[i] != "assessment"] for c in comps
    }

    def make(_: _Learner) -> Callable[[int | None], int | None]:
        belief = {c: bkt[c][0] for c in range(world.n_comp)}
        previous: list[int] = []

        def choose(last: int | None) -> int | None:
            if last is not None and previous:
                lesson = previous[-1]
                for c in np.flatnonzero(world.weights[lesson]):
                    prior, learn, guess, slip = bkt[int(c)]
                    p = belief[int(c)]
                    lm = (1 - slip) if last else slip
                    ln = guess if last else (1 - guess)
                    post = p * lm / (p * lm + (1 - p) * ln)
                    belief[int(c)] = post + (1 - post) * learn
            if all(belief[g] >= 0.95 for g in goal):
                return None
            for c in comps:
                if belief[c] >= 0.95 or not all(belief[p] >= 0.95 for p in world.prereqs[c]):
                    continue
                best = max(
                    by_comp[c],
                    key=lambda i: sum(
                        world.weights[i, k] * (1 - belief[int(k)]) * bkt[int(k)][1]
                        for k in np.flatnonzero(world.weights[i])
                    ),
                )
                previous.append(best)
                return best
            lowest = min(comps, key=lambda c: belief[c])
            previous.append(by_comp[lowest][0])
            return by_comp[lowest][0]

        return choose

    return _run("greedy on pyBKT", world, goal, learners, seed, make)


def skillpath(
    world: World,
    goal: list[int],
    learners: int,
    seed: int,
    catalog: rc.Catalog,
    params: rc.ModelParams,
) -> PolicyResult:
    def make(learner: _Learner) -> Callable[[int | None], int | None]:
        box: dict[str, object] = {"state": rc.new_learner("sim"), "lesson": None}

        def choose(last: int | None) -> int | None:
            now = T0 + timedelta(days=learner.step / STEPS_PER_DAY)
            state = box["state"]
            assert isinstance(state, rc.LearnerState)
            if last is not None and box["lesson"] is not None:
                state = rc.update(
                    state,
                    rc.Observation(
                        "sim", str(box["lesson"]), now, score=float(last), success=bool(last)
                    ),
                    catalog,
                    params,
                )
                box["state"] = state
            rec = rc.recommend(catalog, state, params, now, "goal")
            if rec.lesson_id is None and not rec.goal_reached and state.coach_flags:
                # The human coach steps in: assigns the easiest lesson on a flagged skill.
                comp = state.coach_flags[0]
                easiest = min(catalog.lessons_for(comp), key=lambda x: (x.difficulty, x.id))
                state = rc.apply_override(
                    state,
                    rc.Override("assign", now, "coach", lesson_id=easiest.id, note="coach session"),
                )
                box["state"] = state
                rec = rc.recommend(catalog, state, params, now, "goal")
            box["lesson"] = rec.lesson_id
            if rec.lesson_id is None:
                return None
            return int(rec.lesson_id.rsplit("/", 1)[1])

        return choose

    return _run("Skillpath policy", world, goal, learners, seed, make)
