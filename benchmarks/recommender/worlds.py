"""A family of simulated worlds, each varying one property of how learners and evidence behave.

Written from issue 13's description of the independent simulator and its list of properties,
before the engine's policy was changed, so that the engine is judged on worlds it was not
tuned on. The worlds are not adjusted to make the engine pass; a world where it fails is
reported as failing.

The base world follows the independent simulator's description:

- 20 competencies with a prerequisite graph between competencies (each competency has about
  one prerequisite among the six before it); while a prerequisite is not mastered, learning a
  competency is four times less likely.
- 3 lessons per competency, each on 1-3 competencies: the competency it is about (taught at
  full weight) and up to two others among its prerequisites and neighbours (taught at weight
  0.3-0.7). The lesson's score measures only the competency it is about. About one
  competency in two has an assessment among its lessons (which teaches nothing).
- Every statement carries `success` (the hidden pass/fail) and a noisy scaled score: a pass
  scores about 0.8 (sd 0.1), a fail about 0.3 (sd 0.12), clipped to [0, 1].
- Learners differ in ability (logit shift of success ~ N(0, 0.8); it also speeds or slows
  learning by exp(0.3 ability)); lesson difficulty moves success by 1.5 logits across its range.
- 30% of learners know some competencies already (each with probability 0.5 when they know its
  prerequisites, 0.1 otherwise); the others know none.
- With every lesson taken, each mastered competency is forgotten with probability 0.002.
- Learners work in sessions (10 minutes per lesson, a new session after an exponential break
  of about a day with probability 1/4 after each lesson).
- The goal is every competency, at level 0.95; the cap is 15 lessons per goal competency.

Each other world changes exactly one of these properties (`WorldSpec.varies` names it):
forgetting (none / per lesson x3 / per day instead of per lesson), score noise (success only,
score only = partial credit without a success flag, half of the statements flagged), lesson
structure (one competency per lesson, or a score that measures every part by its weight),
prerequisite density (none, dense), ability spread (none, wide), prior knowledge (none, most
learners), goal size (5, 50 and 100 competencies), lessons per competency (1, 8), and the
catalog encoding (the same world said with version-1 fields only, as the independent
simulator had to: one weight per lesson competency, `requires` on lessons).

Everything is drawn from numpy Generators seeded by the caller, so a run is reproducible from
its printed seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

T0 = datetime(2026, 1, 5, tzinfo=UTC)
MINUTES_BETWEEN_LESSONS = 10.0
NEW_SESSION_CHANCE = 0.25
MEAN_BREAK_DAYS = 1.0
PREREQ_WINDOW = 6
LEARN_WITHOUT_PREREQS = 0.25
ABILITY_ON_LEARNING = 0.3
DIFFICULTY_EFFECT = 1.5
LESSONS_PER_GOAL_COMPETENCY = 15
GOAL_LEVEL = 0.95

_F = NDArray[np.float64]
_I = NDArray[np.int64]
_B = NDArray[np.bool_]


@dataclass(frozen=True)
class WorldSpec:
    """The properties of one world; every field but `name` and `varies` is a property."""

    name: str
    varies: str = "base"
    n_comp: int = 20
    lessons_per_comp: int = 3
    max_extra_parts: int = 2  # competencies besides the main one: 0..max_extra_parts
    measures: str = "main"  # "main": the score measures the main competency; "all": every part
    prereq_density: float = 1.0  # mean prerequisites per competency
    ability_sd: float = 0.8
    know_share: float = 0.3  # share of learners who know some competencies already
    forget_per_lesson: float = 0.002
    forget_per_day: float = 0.0
    evidence: str = "flag+score"  # "binary", "flag+score", "score", "mixed"
    encoding: str = "full"  # "full": the catalog says the world; "v1": version-1 fields only


BASE = WorldSpec("base")

FAMILY: tuple[WorldSpec, ...] = (
    BASE,
    replace(BASE, name="no-forgetting", varies="forgetting", forget_per_lesson=0.0),
    replace(BASE, name="forget-per-lesson-x3", varies="forgetting", forget_per_lesson=0.006),
    replace(
        BASE, name="forget-per-day", varies="forgetting", forget_per_lesson=0.0, forget_per_day=0.02
    ),
    replace(BASE, name="success-only", varies="score noise", evidence="binary"),
    replace(BASE, name="score-only", varies="score noise", evidence="score"),
    replace(BASE, name="half-flagged", varies="score noise", evidence="mixed"),
    replace(BASE, name="one-competency-lessons", varies="lesson structure", max_extra_parts=0),
    replace(BASE, name="score-measures-all", varies="lesson structure", measures="all"),
    replace(BASE, name="no-prerequisites", varies="prerequisite density", prereq_density=0.0),
    replace(BASE, name="dense-prerequisites", varies="prerequisite density", prereq_density=2.5),
    replace(BASE, name="equal-ability", varies="ability spread", ability_sd=0.0),
    replace(BASE, name="wide-ability", varies="ability spread", ability_sd=1.6),
    replace(BASE, name="no-prior-knowledge", varies="prior knowledge", know_share=0.0),
    replace(BASE, name="most-know-some", varies="prior knowledge", know_share=0.8),
    replace(BASE, name="goal-5", varies="goal size", n_comp=5),
    replace(BASE, name="goal-50", varies="goal size", n_comp=50),
    replace(BASE, name="goal-100", varies="goal size", n_comp=100),
    replace(BASE, name="one-lesson-each", varies="lessons per competency", lessons_per_comp=1),
    replace(BASE, name="eight-lessons-each", varies="lessons per competency", lessons_per_comp=8),
    replace(BASE, name="v1-catalog", varies="catalog encoding", encoding="v1"),
)


@dataclass
class World:
    """The hidden truth of one world, and the catalog document learners see."""

    spec: WorldSpec
    prior_know: _F  # unused by the simulation itself: the population share knowing each one
    learn: _F
    guess: _F
    slip: _F
    prereqs: list[list[int]]
    teach: _F  # [lessons, competencies]: how much a lesson teaches each competency
    measure: _F  # [lessons, competencies]: how much its score depends on each competency
    main: _I  # per lesson: the competency it is about
    difficulty: _F
    duration: _F
    kind: list[str]
    teaches: _B = field(init=False)  # per lesson: not an assessment
    measured_parts: list[list[tuple[int, float]]] = field(init=False)
    taught_parts: list[list[tuple[int, float]]] = field(init=False)

    def __post_init__(self) -> None:
        self.teaches = np.array([k != "assessment" for k in self.kind])
        self.index_parts()

    def index_parts(self) -> None:
        """Per lesson, (competency, weight) of what it measures and of what it teaches."""
        self.measured_parts = [
            [(int(k), float(row[k])) for k in np.flatnonzero(row)] for row in self.measure
        ]
        self.taught_parts = [
            [(int(k), float(row[k])) for k in np.flatnonzero(row)] for row in self.teach
        ]

    @property
    def n_comp(self) -> int:
        return self.spec.n_comp

    @property
    def n_lessons(self) -> int:
        return int(self.teach.shape[0])

    @property
    def cap(self) -> int:
        return LESSONS_PER_GOAL_COMPETENCY * self.n_comp

    @staticmethod
    def comp_id(k: int) -> str:
        return f"c{k:03d}"

    @staticmethod
    def lesson_id(lesson: int) -> str:
        return f"https://sim.example.org/lesson/{lesson}"

    @staticmethod
    def lesson_index(lesson_id: str) -> int:
        return int(lesson_id.rsplit("/", 1)[1])

    def catalog_document(self, level: float = GOAL_LEVEL) -> dict[str, Any]:
        """The world as a `skillpath-catalog/1` document; the goal is every competency."""
        full = self.spec.encoding == "full"
        comps = []
        for k in range(self.n_comp):
            doc: dict[str, Any] = {"id": self.comp_id(k), "name": f"Competency {k}"}
            if full and self.prereqs[k]:
                doc["prerequisites"] = [self.comp_id(p) for p in self.prereqs[k]]
            comps.append(doc)
        lessons = []
        for i in range(self.n_lessons):
            parts = []
            for j in np.flatnonzero((self.teach[i] > 0) | (self.measure[i] > 0)).tolist():
                weight = float(max(self.teach[i, j], self.measure[i, j]))
                part: dict[str, Any] = {"id": self.comp_id(j), "weight": round(weight, 3)}
                if full:
                    part["teaches"] = round(float(self.teach[i, j]), 3)
                    part["measures"] = round(float(self.measure[i, j]), 3)
                parts.append(part)
            lesson: dict[str, Any] = {
                "id": self.lesson_id(i),
                "title": f"Lesson {i}",
                "kind": self.kind[i],
                "duration_minutes": float(self.duration[i]),
                "difficulty": float(self.difficulty[i]),
                "competencies": parts,
            }
            if not full and self.prereqs[int(self.main[i])]:
                lesson["requires"] = [self.comp_id(p) for p in self.prereqs[int(self.main[i])]]
            lessons.append(lesson)
        return {
            "format": "skillpath-catalog/1",
            "competencies": comps,
            "lessons": lessons,
            "pathways": [
                {
                    "id": "goal",
                    "title": "Every competency",
                    "goal": [
                        {"competency": self.comp_id(k), "level": level} for k in range(self.n_comp)
                    ],
                }
            ],
        }


def make_world(spec: WorldSpec, rng: np.random.Generator) -> World:
    """Draw a world with the properties of `spec`."""
    k = spec.n_comp
    prereqs: list[list[int]] = [[] for _ in range(k)]
    window = PREREQ_WINDOW if spec.prereq_density <= 1.0 else 3 * PREREQ_WINDOW
    for c in range(1, k):
        choices = list(range(max(0, c - window), c))
        n_pre = min(len(choices), int(rng.poisson(spec.prereq_density)))
        prereqs[c] = sorted(int(x) for x in rng.choice(choices, n_pre, replace=False))
    n_lessons = k * spec.lessons_per_comp
    teach = np.zeros((n_lessons, k))
    measure = np.zeros((n_lessons, k))
    main = np.zeros(n_lessons, dtype=np.int64)
    kinds: list[str] = []
    has_assessment = rng.random(k) < 0.5
    for i in range(n_lessons):
        c = i % k
        main[i] = c
        teach[i, c] = 1.0
        extra = int(rng.integers(0, spec.max_extra_parts + 1))
        pool = sorted(set(prereqs[c]) | {x for x in (c - 1, c + 1) if 0 <= x < k})
        for other in rng.permutation(np.array(pool, dtype=np.int64))[:extra]:
            teach[i, int(other)] = round(float(rng.uniform(0.3, 0.7)), 2)
        measure[i] = teach[i] if spec.measures == "all" else np.eye(k)[c]
        last_of_comp = i // k == spec.lessons_per_comp - 1
        if spec.lessons_per_comp > 1 and last_of_comp and has_assessment[c]:
            kinds.append("assessment")
        else:
            kinds.append("practice" if rng.random() < 0.5 else "lesson")
    world = World(
        spec,
        np.zeros(k),
        rng.uniform(0.08, 0.25, k),
        rng.uniform(0.1, 0.3, k),
        rng.uniform(0.05, 0.15, k),
        prereqs,
        teach,
        measure,
        main,
        rng.uniform(0.1, 0.9, n_lessons),
        rng.uniform(3, 15, n_lessons),
        kinds,
    )
    world.teach[~world.teaches] = 0.0
    world.index_parts()  # an assessment teaches nothing
    world.prior_know = initial_mastery(world, 20_000, np.random.default_rng(0)).mean(0)
    return world


def initial_mastery(world: World, n: int, rng: np.random.Generator) -> _B:
    """What `n` learners already know: a share of them know some competencies."""
    mastered = np.zeros((n, world.n_comp), dtype=bool)
    knower = rng.random(n) < world.spec.know_share
    for c in range(world.n_comp):
        ready = mastered[:, world.prereqs[c]].all(1) if world.prereqs[c] else np.ones(n, bool)
        chance = np.where(ready, 0.5, 0.1)
        mastered[:, c] = knower & (rng.random(n) < chance)
    return mastered


def draw_learners(world: World, n: int, rng: np.random.Generator) -> tuple[_B, _F]:
    """Prior knowledge and ability of `n` learners."""
    mastered = initial_mastery(world, n, rng)
    sd = world.spec.ability_sd
    ability = rng.normal(0.0, sd, n) if sd else np.zeros(n)
    return mastered, ability


def p_correct(world: World, mastered: _B, lesson: _I, ability: _F) -> _F:
    """P(pass) of each learner (rows of `mastered`) on their lesson."""
    m = world.measure[lesson]
    per = np.where(mastered, 1.0 - world.slip, world.guess)
    base = (m * per).sum(1) / m.sum(1)
    logit = (
        np.log(base / (1.0 - base)) + ability - DIFFICULTY_EFFECT * (world.difficulty[lesson] - 0.5)
    )
    return 1.0 / (1.0 + np.exp(-logit))


def evidence(world: World, correct: _B, rng: np.random.Generator) -> tuple[_F, NDArray[np.int8]]:
    """Scores and success flags (1 pass, 0 fail, -1 no flag) for hidden pass/fail outcomes."""
    n = len(correct)
    mode = world.spec.evidence
    if mode == "binary":
        return correct.astype(np.float64), correct.astype(np.int8)
    noisy = np.where(correct, rng.normal(0.8, 0.1, n), rng.normal(0.3, 0.12, n))
    score = np.round(np.clip(noisy, 0.0, 1.0), 2)
    flag = correct.astype(np.int8)
    if mode == "score":
        flag[:] = -1
    elif mode == "mixed":
        flag[rng.random(n) < 0.5] = -1
    return score, flag


def learn_step(world: World, mastered: _B, lesson: _I, ability: _F, rng: np.random.Generator) -> _B:
    """Hidden mastery after taking the lessons (before forgetting)."""
    rate = world.learn * world.teach[lesson]
    ready = np.ones_like(mastered)
    for c, pre in enumerate(world.prereqs):
        if pre:
            ready[:, c] = mastered[:, pre].all(1)
    rate = rate * np.where(ready, 1.0, LEARN_WITHOUT_PREREQS)
    rate = rate * np.exp(ABILITY_ON_LEARNING * ability)[:, None]
    return mastered | (rng.random(mastered.shape) < np.clip(rate, 0.0, 1.0))


def forget_step(world: World, mastered: _B, days: _F, rng: np.random.Generator) -> _B:
    """Forgetting after one more lesson taken, `days` after the previous one."""
    spec = world.spec
    lose = np.full(len(days), spec.forget_per_lesson)
    if spec.forget_per_day:
        lose = 1.0 - (1.0 - lose) * (1.0 - spec.forget_per_day) ** days
    if not lose.any():
        return mastered
    return mastered & ~(rng.random(mastered.shape) < lose[:, None])


def next_gap_days(n: int, rng: np.random.Generator) -> _F:
    """Days until each learner's next lesson: within the session, or after a break."""
    gap = np.full(n, MINUTES_BETWEEN_LESSONS / 1440.0)
    new = rng.random(n) < NEW_SESSION_CHANCE
    gap[new] += rng.exponential(MEAN_BREAK_DAYS, int(new.sum()))
    return gap


@dataclass
class Log:
    """Observations in time order per learner, with the hidden truth before each response."""

    learner: _I
    lesson: _I
    days: _F  # since T0
    correct: _B  # the hidden pass/fail
    score: _F
    flag: NDArray[np.int8]  # 1 pass, 0 fail, -1 statement without success
    truth: _B  # [observations, competencies]: mastery before the response

    def timestamp(self, i: int) -> datetime:
        return T0 + timedelta(days=float(self.days[i]))

    @property
    def label(self) -> _B:
        """What next-response AUC predicts: the hidden pass/fail."""
        return self.correct


def generate_log(world: World, learners: int, steps: int, rng: np.random.Generator) -> Log:
    """Learners work through the curriculum roughly in order, with some wandering (how an
    organisation's history looks before Skillpath chooses anything)."""
    mastered, ability = draw_learners(world, learners, rng)
    k = world.n_comp
    per_comp = world.spec.lessons_per_comp
    days = np.zeros(learners)
    cols: dict[str, list[Any]] = {n: [] for n in ("l", "lesson", "d", "c", "s", "f", "t")}
    for t in range(steps):
        position = (t * k) // steps + rng.integers(-2, 3, learners)
        comp = np.where(
            rng.random(learners) < 0.25, rng.integers(0, k, learners), np.clip(position, 0, k - 1)
        )
        lesson = comp + k * rng.integers(0, per_comp, learners)
        correct = rng.random(learners) < p_correct(world, mastered, lesson, ability)
        score, flag = evidence(world, correct, rng)
        for key, value in (
            ("l", np.arange(learners)),
            ("lesson", lesson),
            ("d", days.copy()),
            ("c", correct),
            ("s", score),
            ("f", flag),
            ("t", mastered.copy()),
        ):
            cols[key].append(value)
        mastered = learn_step(world, mastered, lesson, ability, rng)
        gap = next_gap_days(learners, rng)
        mastered = forget_step(world, mastered, gap, rng)
        days = days + gap
    order = np.argsort(np.stack(cols["l"], 1).ravel(), kind="stable")

    def flat(key: str) -> Any:
        return np.stack(cols[key], 1).ravel()[order]

    truth = np.stack(cols["t"], 1).reshape(-1, k)[order]
    return Log(flat("l"), flat("lesson"), flat("d"), flat("c"), flat("s"), flat("f"), truth)


class SimLearner:
    """One simulated learner taking lessons one at a time: hidden mastery, ability, a clock."""

    def __init__(self, world: World, start: np.random.Generator, rng: np.random.Generator) -> None:
        self.world = world
        self.rng = rng
        self.mastered, self.ability = draw_learners(world, 1, start)
        self.days = 0.0

    @property
    def now(self) -> datetime:
        return T0 + timedelta(days=self.days)

    def take(self, lesson: int) -> tuple[float, bool | None, bool]:
        """Take a lesson: (score, success flag or None, hidden pass). The same model as the
        vectorised functions above, written for one learner (a policy run takes hundreds of
        thousands of these)."""
        world, rng = self.world, self.rng
        known = self.mastered[0]
        ability = float(self.ability[0])
        total = weights = 0.0
        for k, m in world.measured_parts[lesson]:
            total += m * ((1.0 - world.slip[k]) if known[k] else world.guess[k])
            weights += m
        base = total / weights
        logit = (
            math.log(base / (1.0 - base))
            + ability
            - DIFFICULTY_EFFECT * (world.difficulty[lesson] - 0.5)
        )
        correct = rng.random() < 1.0 / (1.0 + math.exp(-logit))
        score, flag = evidence(world, np.array([correct]), rng)
        speed = math.exp(ABILITY_ON_LEARNING * ability)
        for k, t in world.taught_parts[lesson]:
            if known[k]:
                continue
            ready = all(known[p] for p in world.prereqs[k])
            rate = world.learn[k] * t * (1.0 if ready else LEARN_WITHOUT_PREREQS) * speed
            if rng.random() < rate:
                known[k] = True
        gap = next_gap_days(1, rng)
        self.mastered = forget_step(world, self.mastered, gap, rng)
        self.days += float(gap[0])
        success = None if flag[0] < 0 else bool(flag[0])
        return float(score[0]), success, bool(correct)

    def knows(self, comps: list[int] | NDArray[np.int64]) -> bool:
        return bool(self.mastered[0, comps].all())
