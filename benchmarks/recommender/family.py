"""Run Skillpath and the baselines on every world of the family (`worlds.FAMILY`).

For each world: a history of learners following the course roughly in order (80% to fit
on, 20% held out) gives the learner-model figures; then the same simulated learners (same
prior knowledge and ability, drawn from the same seeds) are taught by each policy up to the
world's cap.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

import recommender as rc

from . import baselines as bl
from .metrics import auc
from .worlds import FAMILY, Log, SimLearner, World, WorldSpec, generate_log, make_world

TEST_SHARE = 0.2
STEPS_PER_COMPETENCY = 6
# The greedy baselines run a second time, going on past their own "done" to the cap.
GOING_ON = {"greedy pyBKT": "greedy pyBKT, going on", "greedy true": "greedy true, going on"}


@dataclass
class Sizes:
    """How many learners each part of a world's run uses."""

    history_learners: int
    policy_learners: Callable[[int], int]  # by number of goal competencies


FULL = Sizes(500, lambda n: 100 if n <= 20 else 50 if n <= 50 else 30)
QUICK = Sizes(200, lambda n: 40 if n <= 20 else 20 if n <= 50 else 10)


@dataclass
class PolicyResult:
    name: str
    proficient: list[bool] = field(default_factory=list)
    lessons: list[int] = field(default_factory=list)  # until truly proficient
    premature: list[bool] = field(default_factory=list)
    declared: list[bool] = field(default_factory=list)
    known_share: list[float] = field(default_factory=list)  # lessons on a known main competency
    known_at_end: list[float] = field(default_factory=list)  # share of the goal known at the end
    known_share_before: list[float] = field(default_factory=list)  # the same, until proficient
    seconds: float = 0.0

    def rate(self, values: list[bool] | list[float]) -> float:
        return 100.0 * float(np.mean(values)) if values else float("nan")

    @property
    def median_lessons(self) -> float:
        done = [n for n, ok in zip(self.lessons, self.proficient, strict=True) if ok]
        return float(np.median(done)) if done else float("nan")

    @property
    def median_all(self) -> float:
        """Median lessons to proficiency over every learner, a learner never proficient
        counting as beyond the cap (a censored median, not leaning on who was left out): the
        lessons by which half of the learners were proficient; inf when fewer than half
        ever were."""
        return censored_median(self.lessons, self.proficient)


def censored_median(lessons: list[int], proficient: list[bool]) -> float:
    """The lessons by which half of the learners were proficient (the lower median when
    their number is even), a learner never proficient counting as beyond any cap; inf when
    fewer than half were; nan without learners."""
    if not lessons:
        return float("nan")
    times = sorted(n if ok else float("inf") for n, ok in zip(lessons, proficient, strict=True))
    return float(times[(len(times) + 1) // 2 - 1])


def median_label(value: float) -> str:
    """A censored median for a table: "> cap" when fewer than half were proficient."""
    if np.isnan(value):
        return "nan"
    return "> cap" if np.isinf(value) else f"{value:.0f}"


@dataclass
class WorldResult:
    spec: WorldSpec
    seed: list[int]
    models: dict[str, tuple[float, float, float | None]]  # name -> (AUC, mastery AUC, fit s)
    policies: dict[str, PolicyResult]
    observations: int
    seconds: float
    rejected: str | None = None  # the catalog error, when Skillpath could not load the world


def split(log: Log, share: float = TEST_SHARE) -> tuple[np.ndarray, np.ndarray]:
    learners = int(log.learner.max()) + 1
    test = log.learner >= int(learners * (1 - share))
    return ~test, test


def observations(world: World, log: Log, mask: np.ndarray) -> list[rc.Observation]:
    out = []
    for i in np.flatnonzero(mask):
        flag = int(log.flag[i])
        out.append(
            rc.Observation(
                str(int(log.learner[i])),
                world.lesson_id(int(log.lesson[i])),
                log.timestamp(int(i)),
                score=float(log.score[i]),
                success=None if flag < 0 else bool(flag),
            )
        )
    return out


def evaluate_ours(
    world: World, log: Log, catalog: rc.Catalog, train: np.ndarray, test: np.ndarray
) -> tuple[bl.ModelEvaluation, rc.ModelParams]:
    history = observations(world, log, train)
    started = time.perf_counter()
    params, _ = rc.fit_params(history, catalog)
    fit_seconds = time.perf_counter() - started
    parts = bl.lesson_parts(world)
    next_pred, mastery_pred = [], []
    states: dict[str, rc.LearnerState] = {}
    for obs in observations(world, log, test):
        state = states.get(obs.learner_id) or rc.new_learner(obs.learner_id)
        lesson = catalog.lessons[obs.lesson_id]
        next_pred.append(rc.predict_success(state, lesson, params, obs.timestamp))
        for c in np.flatnonzero(parts[world.lesson_index(obs.lesson_id)]):
            mastery_pred.append(
                rc.mastery_of(
                    state, world.comp_id(int(c)), catalog, params, obs.timestamp
                ).probability
            )
        states[obs.learner_id] = rc.update(state, obs, catalog, params)
    return bl.ModelEvaluation(
        "Skillpath", np.array(next_pred), np.array(mastery_pred), fit_seconds
    ), params


class SkillpathPolicy(bl.Policy):
    """Skillpath's `recommend` and `update`, through the public API; when nothing is left
    because of coach flags, the coach assigns the easiest lesson on a flagged competency."""

    def __init__(self, world: World, catalog: rc.Catalog, params: rc.ModelParams) -> None:
        self.world, self.catalog, self.params = world, catalog, params
        self.state = rc.new_learner("sim")

    def next(self, now: datetime) -> int | None:
        rec = rc.recommend(self.catalog, self.state, self.params, now, "goal")
        if rec.lesson_id is None and not rec.goal_reached and self.state.coach_flags:
            # The coach sits with the learner on the first flagged competency: the easiest
            # lesson mainly about it that teaches it.
            comp = self.state.coach_flags[0]
            lessons = [
                x
                for x in self.catalog.lessons_for(comp)
                if x.kind != "assessment"
                and max(p.weight for p in x.competencies)
                == next(p.weight for p in x.competencies if p.id == comp)
            ] or list(self.catalog.lessons_for(comp))
            easiest = min(lessons, key=lambda x: (x.difficulty, x.id))
            self.state = rc.apply_override(
                self.state,
                rc.Override("assign", now, "coach", lesson_id=easiest.id, note="coach session"),
            )
            rec = rc.recommend(self.catalog, self.state, self.params, now, "goal")
        self.declared = rec.goal_reached
        return None if rec.lesson_id is None else self.world.lesson_index(rec.lesson_id)

    def observe(self, lesson: int, score: float, success: bool | None, at: datetime) -> None:
        obs = rc.Observation("sim", self.world.lesson_id(lesson), at, score=score, success=success)
        self.state = rc.update(self.state, obs, self.catalog, self.params)


def run_policy(
    name: str, world: World, make: Callable[[], bl.Policy], learners: int, seed: list[int]
) -> PolicyResult:
    """Teach `learners` simulated learners with fresh policies; learner i starts the same
    (prior knowledge, ability) under every policy."""
    result = PolicyResult(name)
    goal = np.arange(world.n_comp)
    started = time.perf_counter()
    for i in range(learners):
        learner = SimLearner(
            world, np.random.default_rng([*seed, i, 0]), np.random.default_rng([*seed, i, 1])
        )
        policy = make()
        reached: int | None = None
        premature = declared = False
        on_known = taken = 0
        on_known_before = taken_before = 0  # until first truly proficient
        for n in range(world.cap):
            if reached is None and learner.knows(goal):
                reached = n
            lesson = policy.next(learner.now)
            if lesson is None:
                declared = policy.declared
                premature = declared and not learner.knows(goal)
                break
            known_main = int(learner.mastered[0, world.main[lesson]])
            on_known += known_main
            if reached is None:
                on_known_before += known_main
                taken_before += 1
            at = learner.now
            score, success, _ = learner.take(lesson)
            policy.observe(lesson, score, success, at)
            taken += 1
        if reached is None and learner.knows(goal):
            reached = world.cap
        result.proficient.append(reached is not None)
        result.lessons.append(world.cap if reached is None else reached)
        result.premature.append(premature)
        result.declared.append(declared)
        result.known_share.append(on_known / taken if taken else 0.0)
        result.known_share_before.append(on_known_before / taken_before if taken_before else 0.0)
        result.known_at_end.append(float(learner.mastered[0, goal].mean()))
    result.seconds = time.perf_counter() - started
    return result


def draw_world(spec: WorldSpec, world_seed: list[int], sizes: Sizes) -> tuple[World, Log]:
    """A world with the properties of `spec` and the history its organisation has (learners
    following the course roughly in order), from seeds derived from `world_seed`."""
    world = make_world(spec, np.random.default_rng([*world_seed, 1]))
    log = generate_log(
        world,
        sizes.history_learners,
        STEPS_PER_COMPETENCY * world.n_comp,
        np.random.default_rng([*world_seed, 2]),
    )
    return world, log


def run_world(
    index: int,
    spec: WorldSpec,
    seed: int,
    sizes: Sizes,
    log_progress: Callable[[str], None],
    with_policies: bool = True,
) -> WorldResult:
    started = time.perf_counter()
    world_seed = [seed, index]
    world, log = draw_world(spec, world_seed, sizes)
    try:
        catalog: rc.Catalog | None = rc.load_catalog(world.catalog_document())
    except rc.CatalogError as exc:
        catalog, rejected = None, str(exc)
    train, test = split(log)
    y = log.label[test]
    obs_idx, comps = bl.pairs(world, log, test)
    truth = log.truth[obs_idx, comps]
    model, bkt_seconds = bl.fit_pybkt(world, log, train)
    evaluations = [
        bl.evaluate_pybkt(world, log, model, bkt_seconds, test),
        bl.evaluate_running_accuracy(world, log, train, test),
    ]
    models = {
        e.name: (auc(y, e.next_pred), auc(truth, e.mastery_pred), e.fit_seconds)
        for e in evaluations
    }
    if catalog is not None:
        ours, params = evaluate_ours(world, log, catalog, train, test)
        models[ours.name] = (
            auc(y, ours.next_pred),
            auc(truth, ours.mastery_pred),
            ours.fit_seconds,
        )
    log_progress(f"{spec.name}: models done ({time.perf_counter() - started:.0f} s)")
    learners = sizes.policy_learners(world.n_comp)
    bkt = bl.pybkt_parameters(world, model)
    true = bl.true_parameters(world)
    policy_seed = [*world_seed, 3]
    makers: dict[str, Callable[[], bl.Policy]] = {
        "fixed order": lambda: bl.FixedOrder(world),
        "greedy pyBKT": lambda: bl.Greedy(world, bkt, truth=False),
        "greedy true": lambda: bl.Greedy(world, true, truth=True),
        GOING_ON["greedy pyBKT"]: lambda: bl.Greedy(world, bkt, truth=False, goes_on=True),
        GOING_ON["greedy true"]: lambda: bl.Greedy(world, true, truth=True, goes_on=True),
    }
    if catalog is not None:
        ready = catalog
        makers["Skillpath"] = lambda: SkillpathPolicy(world, ready, params)
    policies = {}
    for name, make in makers.items() if with_policies else ():
        policies[name] = run_policy(name, world, make, learners, policy_seed)
        log_progress(f"{spec.name}: {name} done ({policies[name].seconds:.0f} s)")
    return WorldResult(
        spec,
        world_seed,
        models,
        policies,
        len(log.learner),
        time.perf_counter() - started,
        None if catalog else rejected,
    )


# The worlds where Skillpath declares "done" at all (on earlier runs): the premature-"done"
# promise is checked there on more worlds than the run's one, drawn from more seeds.
PROMISE_WORLDS = ("goal-5", "no-forgetting")


@dataclass
class PromiseCheck:
    world: str
    seed: list[int]
    forget_per_lesson: float
    learners: int
    declared: float  # % of learners
    premature: float  # % of learners


def promise_checks(
    seed: int, sizes: Sizes, extra: int, worlds: tuple[str, ...] = PROMISE_WORLDS
) -> list[PromiseCheck]:
    """Skillpath alone on `extra` more draws of each of `worlds` (world, history and learners
    from seeds derived from the run's): how often it declares "done", how often too early."""
    names = [spec.name for spec in FAMILY]
    out = []
    for k in range(extra):
        for name in worlds:
            index = names.index(name)
            world_seed = [seed, 1000 + k, index]
            world, log = draw_world(FAMILY[index], world_seed, sizes)
            catalog = rc.load_catalog(world.catalog_document())
            train, _ = split(log)
            params, _ = rc.fit_params(observations(world, log, train), catalog)
            learners = sizes.policy_learners(world.n_comp)
            result = run_policy(
                "Skillpath",
                world,
                lambda w=world, c=catalog, p=params: SkillpathPolicy(w, c, p),
                learners,
                [*world_seed, 3],
            )
            out.append(
                PromiseCheck(
                    name,
                    world_seed,
                    params.forget_per_lesson,
                    learners,
                    result.rate(result.declared),
                    result.rate(result.premature),
                )
            )
    return out


def promise_table(checks: list[PromiseCheck]) -> str:
    rows = [
        [
            c.world,
            str(c.seed),
            f"{c.forget_per_lesson:.4f}",
            str(c.learners),
            f"{c.declared:.0f}%",
            f"{c.premature:.1f}%",
        ]
        for c in checks
    ]
    head = ["world", "seed", "fitted forgetting per lesson", "learners", "done declared",
            "premature"]  # fmt: skip
    over = [c for c in checks if c.premature > 5.0]
    verdict = (
        f"Premature done above 5% in {len(over)} of {len(checks)} draws"
        + (": " + ", ".join(f"{c.world} {c.seed}" for c in over) if over else "")
        + "."
    )
    return _table(head, rows) + "\n\n" + verdict


def paired_medians(result: WorldResult, other: str) -> tuple[float, float, int]:
    """Median lessons to proficiency of Skillpath and `other` over the learners both made
    proficient (the same learners, so neither median leans on who it left out)."""
    sp, ot = result.policies.get("Skillpath"), result.policies[other]
    if sp is None:
        return float("nan"), float("nan"), 0
    both = [i for i, (a, b) in enumerate(zip(sp.proficient, ot.proficient, strict=True)) if a and b]
    if not both:
        return float("nan"), float("nan"), 0
    return (
        float(np.median([sp.lessons[i] for i in both])),
        float(np.median([ot.lessons[i] for i in both])),
        len(both),
    )


def goal_summary(results: list[WorldResult]) -> str:
    """Which goals each world misses, and how many worlds meet them all: with the median
    lessons to proficiency read over the proficient learners only (as the issue's goal was
    first judged), then over all learners (the censored median)."""
    lines = []
    for censored, title in (
        (False, "median lessons over the proficient learners only (survivorship-biased)"),
        (True, "median lessons over all learners, never proficient = beyond the cap"),
    ):
        met = [r for r in results if not goals(r, censored)]
        lines.append(
            f"Goals met in {len(met)} of {len(results)} worlds, {title} (counted: AUCs, "
            "proficiency, premature done, median; not the share of lessons on known "
            "competencies, which is in the table)."
        )
        for r in results:
            missed = goals(r, censored)
            if missed:
                lines.append(f"- {r.spec.name}: misses {', '.join(missed)}")
        lines.append("")
    lines.append(
        "The median goal, judged both ways: "
        + median_verdict(results, False)
        + "; "
        + median_verdict(results, True)
        + "."
    )
    return "\n".join(lines)


def median_verdict(results: list[WorldResult], censored: bool) -> str:
    """Whether "median lessons to proficiency at most greedy on pyBKT's" passes in every
    world under one reading, and where it fails."""
    failing = [
        r.spec.name for r in results if not r.rejected and _median_missed(r, censored) is not None
    ]
    reading = "over all learners (censored)" if censored else "over the proficient only"
    if censored:
        blind = [
            r.spec.name
            for r in results
            if not r.rejected
            and np.isinf(r.policies["Skillpath"].median_all)
            and np.isinf(r.policies["greedy pyBKT"].median_all)
        ]
    else:
        blind = [
            r.spec.name
            for r in results
            if not r.rejected and np.isnan(r.policies["greedy pyBKT"].median_lessons)
        ]
    why = "both beyond the cap" if censored else "greedy on pyBKT made nobody proficient"
    undecided = f" (undecided, {why}: {', '.join(blind)})" if blind else ""
    if not failing:
        return f"{reading} it PASSES in all {len(results)} worlds{undecided}"
    return (
        f"{reading} it FAILS in {len(failing)} of {len(results)} ({', '.join(failing)}){undecided}"
    )


def _median_missed(result: WorldResult, censored: bool) -> str | None:
    """The median goal's miss under one reading, or None when met (or not decidable: no
    greedy-on-pyBKT median over the proficient, or both censored medians beyond the cap)."""
    sp, gp = result.policies["Skillpath"], result.policies["greedy pyBKT"]
    if censored:
        ours, theirs = sp.median_all, gp.median_all
        if ours > theirs:
            return "median lessons (all learners) > greedy pyBKT"
        return None
    if not sp.median_lessons <= gp.median_lessons and not np.isnan(gp.median_lessons):
        return "median lessons > greedy pyBKT"
    return None


def goals(result: WorldResult, censored: bool = False) -> list[str]:
    """The issue's goals this world's run misses (empty: all met); `censored` reads the
    median goal over all learners (`PolicyResult.median_all`) instead of over the proficient
    only."""
    if result.rejected:
        return ["catalog rejected"]
    missed = []
    ours, bkt = result.models["Skillpath"], result.models["pyBKT"]
    if ours[0] < bkt[0]:
        missed.append("AUC")
    if ours[1] < bkt[1]:
        missed.append("mastery AUC")
    sp, gp, gt = (result.policies[n] for n in ("Skillpath", "greedy pyBKT", "greedy true"))
    prof = sp.rate(sp.proficient)
    if prof < gp.rate(gp.proficient):
        missed.append("proficient < greedy pyBKT")
    if gt.rate(gt.proficient) >= 90.0 and prof < 90.0:
        missed.append("proficient < 90%")
    median_miss = _median_missed(result, censored)
    if median_miss is not None:
        missed.append(median_miss)
    if sp.rate(sp.premature) > 5.0:
        missed.append("premature > 5%")
    return missed


def family_tables(results: list[WorldResult]) -> str:
    """The learner-model table and the policy table, one row per world."""
    head1 = [
        "world",
        "varies",
        "obs",
        "AUC ours",
        "AUC pyBKT",
        "AUC run.acc",
        "mastery AUC ours",
        "mastery AUC pyBKT",
        "mastery AUC run.acc",
        "fit s ours",
        "fit s pyBKT",
    ]
    rows1 = []
    for r in results:
        o = r.models.get("Skillpath", (float("nan"), float("nan"), float("nan")))
        b, a = r.models["pyBKT"], r.models["running accuracy"]
        rows1.append(
            [
                r.spec.name,
                r.spec.varies,
                f"{r.observations:,}",
                f"{o[0]:.3f}",
                f"{b[0]:.3f}",
                f"{a[0]:.3f}",
                f"{o[1]:.3f}",
                f"{b[1]:.3f}",
                f"{a[1]:.3f}",
                f"{o[2]:.2f}",
                f"{b[2]:.2f}",
            ]
        )
    head2 = [
        "world",
        "learners",
        "cap",
        "proficient: ours / greedy pyBKT / greedy true / fixed",
        "median lessons: ours / g.pyBKT / g.true",
        "paired median: ours / g.pyBKT (n); ours / g.true (n)",
        "median lessons, all learners (never proficient = beyond the cap): ours / g.pyBKT / g.true",
        "premature: ours / g.pyBKT / g.true",
        "goal known at the end: ours / g.pyBKT / g.true",
        "lessons on known, all / until proficient: ours; g.pyBKT; g.true",
        "ours: done declared",
        "goals missed",
        "goals missed, median over all learners",
    ]
    rows2 = []
    for r in results:
        p = r.policies
        sp = p.get("Skillpath", PolicyResult("Skillpath"))
        gp, gt, fx = p["greedy pyBKT"], p["greedy true"], p["fixed order"]
        n = len(gp.proficient)
        cap = r.spec.n_comp * 15
        rows2.append(
            [
                r.spec.name,
                str(n),
                str(cap),
                " / ".join(f"{x.rate(x.proficient):.1f}%" for x in (sp, gp, gt, fx)),
                " / ".join(f"{x.median_lessons:.0f}" for x in (sp, gp, gt)),
                "; ".join(
                    "{:.0f} / {:.0f} ({})".format(*paired_medians(r, other))
                    for other in ("greedy pyBKT", "greedy true")
                ),
                " / ".join(median_label(x.median_all) for x in (sp, gp, gt)),
                " / ".join(f"{x.rate(x.premature):.1f}%" for x in (sp, gp, gt)),
                " / ".join(f"{x.rate(x.known_at_end):.0f}%" for x in (sp, gp, gt)),
                "; ".join(
                    f"{x.rate(x.known_share):.0f}% / {x.rate(x.known_share_before):.0f}%"
                    for x in (sp, gp, gt)
                ),
                f"{sp.rate(sp.declared):.0f}%",
                ", ".join(goals(r)) or "none",
                ", ".join(goals(r, censored=True)) or "none",
            ]
        )
    return "\n\n".join([_table(head1, rows1), _table(head2, rows2)])


def going_on_table(results: list[WorldResult]) -> str:
    """Skillpath beside the greedy baselines run again going on past their own "done" to
    the cap: how they teach, apart from when they stop."""
    head = [
        "world",
        "proficient: ours / g.pyBKT going on / g.true going on",
        "median lessons, all learners: ours / g.pyBKT going on / g.true going on",
        "median lessons, proficient only: ours / g.pyBKT going on / g.true going on",
        "lessons on known until proficient: ours / g.pyBKT going on / g.true going on",
        "proficient >= greedy pyBKT going on",
    ]
    rows = []
    for r in results:
        if r.rejected or "Skillpath" not in r.policies:
            continue
        trio = [r.policies[n] for n in ("Skillpath", *GOING_ON.values())]
        rows.append(
            [
                r.spec.name,
                " / ".join(f"{x.rate(x.proficient):.1f}%" for x in trio),
                " / ".join(median_label(x.median_all) for x in trio),
                " / ".join(f"{x.median_lessons:.0f}" for x in trio),
                " / ".join(f"{x.rate(x.known_share_before):.0f}%" for x in trio),
                "yes" if not _behind_going_on(r) else "**no**",
            ]
        )
    return _table(head, rows)


def _behind_going_on(result: WorldResult) -> bool:
    """Skillpath made fewer learners proficient than greedy on pyBKT going on past its done."""
    sp, go = result.policies["Skillpath"], result.policies[GOING_ON["greedy pyBKT"]]
    return sp.rate(sp.proficient) < go.rate(go.proficient)


def going_on_verdict(results: list[WorldResult]) -> str:
    """The proficiency goal read against greedy on pyBKT going on past its own done."""
    judged = [r for r in results if not r.rejected and "Skillpath" in r.policies]
    behind = [r.spec.name for r in judged if _behind_going_on(r)]
    if not behind:
        return (
            "Proficient within the cap at least greedy on pyBKT's when greedy goes on past its "
            f"own done: PASSES in all {len(judged)} worlds."
        )
    return (
        "Proficient within the cap at least greedy on pyBKT's when greedy goes on past its "
        f"own done: FAILS in {len(behind)} of {len(judged)} ({', '.join(behind)})."
    )


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def run_family(
    seed: int,
    sizes: Sizes,
    only: list[str] | None = None,
    log_progress: Callable[[str], None] = print,
    with_policies: bool = True,
) -> list[WorldResult]:
    results = []
    for index, spec in enumerate(FAMILY):
        if only and spec.name not in only:
            continue
        results.append(run_world(index, spec, seed, sizes, log_progress, with_policies))
    return results
