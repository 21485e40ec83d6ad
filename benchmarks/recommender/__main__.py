"""Run the adaptive-engine benchmark: `python -m benchmarks.recommender [--quick] [--seed N]`.

Prints, from one run: every world of the family (`worlds.FAMILY`) with Skillpath beside
running accuracy, pyBKT, greedy on pyBKT, greedy on the true parameters and a fixed course
order; the speed on the issue's shape (100 competencies, 1,000 and 10,000 lessons, a fit of
1M observations beside pyBKT's); and the at-risk prediction. The seed is chosen at run time
unless given, and printed so that the run can be repeated with `--seed`.
"""

from __future__ import annotations

import argparse
import platform
import secrets
import time
import warnings

import numpy as np

import recommender as rc

from . import family, latency, risk_bench
from .learner_models import observations as risk_observations
from .metrics import auc, p99_us
from .simulator import generate_log as make_risk_log
from .simulator import make_world as make_risk_world

RISK_DUE_DAYS = 42
RISK_CHECK_DAY = 10
RISK_GOAL_LEVEL = 0.98


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer learners, 100k observations for the fit, no 10,000-lesson case",
    )
    parser.add_argument("--seed", type=int, default=None, help="repeat a run (default: random)")
    parser.add_argument("--worlds", default="", help="comma-separated world names (default: all)")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-risk", action="store_true")
    parser.add_argument(
        "--promise-draws",
        type=int,
        default=4,
        help="more draws of the worlds where done is declared, for the premature-done check",
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # pyBKT and pandas chatter
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    sizes = family.QUICK if args.quick else family.FULL
    print(
        f"# Skillpath recommender benchmark, seed {seed} ({'quick' if args.quick else 'full'}; "
        f"Python {platform.python_version()}, numpy {np.__version__})"
    )
    print(
        f"# re-run: python -m benchmarks.recommender --seed {seed}"
        f"{' --quick' if args.quick else ''}\n",
        flush=True,
    )

    only = [w for w in args.worlds.split(",") if w]
    results = family.run_family(seed, sizes, only, lambda m: print(f"  {m}", flush=True))
    print("\n## The family of worlds\n")
    print(family.family_tables(results))
    print("\n" + family.goal_summary(results), flush=True)
    print("\n### The greedy baselines going on past their own done\n")
    print(family.going_on_table(results))
    print("\n" + family.going_on_verdict(results), flush=True)
    if args.promise_draws > 0 and not only:
        print(
            "\n### Premature done on more draws of the worlds where done is declared "
            "(Skillpath alone)\n"
        )
        checks = family.promise_checks(seed, sizes, args.promise_draws)
        print(family.promise_table(checks), flush=True)

    if not args.skip_speed:
        speed(seed, args.quick)
    if not args.skip_risk:
        risk(seed, args.quick)


def speed(seed: int, quick: bool) -> None:
    """Item 6 of the issue: the fit of 1M observations beside pyBKT's, then update and
    recommend latency with the parameters that fit produced."""
    size = 100_000 if quick else 1_000_000
    times, params = latency.fit_times(size, seed)
    catalog, _ = latency.speed_world(100, seed)
    rows = []
    upd = latency.update_latency(catalog, params, 5_000 if quick else 20_000, seed)
    rows.append(
        [
            "update, one observation",
            f"{len(catalog.lessons):,}",
            f"{len(upd):,}",
            f"{np.median(upd) / 1000:.1f}",
            f"{p99_us(upd):.1f}",
            "20",
        ]
    )
    cases = [(100, 1_000)] if quick else [(100, 1_000), (1_000, 10_000)]
    for n_comp, goal_us in cases:
        cat, _ = latency.speed_world(n_comp, seed)
        samples = latency.recommend_latency(cat, params, 200 if quick else 1_000)
        rows.append(
            [
                f"recommend ({n_comp:,} competencies, goal all)",
                f"{len(cat.lessons):,}",
                f"{len(samples):,}",
                f"{np.median(samples) / 1000:.1f}",
                f"{p99_us(samples):.1f}",
                f"{goal_us:,}",
            ]
        )
    print("\n## Speed (the base world's properties, 10 lessons per competency)\n")
    print(
        f"fit of {int(times['observations']):,} observations (100 competencies, 1,000 "
        f"lessons; the same learners for both): Skillpath {times['Skillpath']:.2f} s, "
        f"pyBKT {times['pyBKT']:.2f} s\n"
    )
    print(
        table(["operation", "lessons", "calls", "median µs", "p99 µs", "goal p99 µs"], rows),
        flush=True,
    )


def risk(seed: int, quick: bool) -> None:
    """At-risk prediction on the issue-3 simulator (where its slope was calibrated)."""
    world = make_risk_world("realistic", np.random.default_rng([seed, 7]))
    goal = [world.n_comp - 1, world.n_comp - 2, world.n_comp - 3]
    catalog = rc.load_catalog(
        world.catalog_document(goal, level=RISK_GOAL_LEVEL, due_days=RISK_DUE_DAYS)
    )
    log = make_risk_log(world, 300, 100, np.random.default_rng([seed, 8]))
    params, _ = rc.fit_params(
        risk_observations(world, log, np.ones(len(log.learner), dtype=bool)), catalog
    )
    predicted, missed = risk_bench.risk_auc_data(
        world, catalog, params, 40 if quick else 200, seed, RISK_CHECK_DAY, RISK_DUE_DAYS
    )
    print(
        f"\n## At-risk prediction (milestone due day {RISK_DUE_DAYS}, predicted on day "
        f"{RISK_CHECK_DAY})\n"
    )
    print(
        table(
            ["learners", "missed the due date", "at-risk AUC", "mean predicted P(miss)"],
            [
                [
                    f"{len(missed)}",
                    f"{100 * np.mean(missed):.1f}%",
                    f"{auc(missed, predicted):.3f}",
                    f"{np.mean(predicted):.3f}",
                ]
            ],
        )
    )


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
