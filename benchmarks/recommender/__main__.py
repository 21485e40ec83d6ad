"""Run the adaptive-engine benchmark: `python -m benchmarks.recommender [--quick]`.

Prints one table per part, ours beside pyBKT and the baselines, all from the same run.
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings

import numpy as np

import recommender as rc

from . import latency, policies, risk_bench
from .learner_models import (
    evaluate_ours,
    evaluate_pybkt,
    evaluate_running_accuracy,
    evaluate_true_bkt,
    pairs,
    split,
)
from .metrics import auc, p99_us, rmse
from .simulator import generate_log, make_world

STEPS = 100
GOAL_LEVEL = 0.98
RISK_DUE_DAYS = 42
RISK_CHECK_DAY = 10


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # pyBKT and pandas chatter
    sizes = (
        {"clean": [30_000], "realistic": [30_000]}
        if args.quick
        else {"clean": [30_000, 300_000], "realistic": [30_000, 300_000, 1_000_000]}
    )
    print(
        f"# Skillpath recommender benchmark (seed {args.seed}, "
        f"{'quick' if args.quick else 'full'}; Python {platform.python_version()}, "
        f"numpy {np.__version__})\n"
    )
    rows = []
    fitted: dict[str, object] = {}
    for scenario, scenario_sizes in sizes.items():
        for size in scenario_sizes:
            rng = np.random.default_rng([args.seed, size, len(scenario)])
            world = make_world(scenario, np.random.default_rng([args.seed, len(scenario)]))
            log = generate_log(world, size // STEPS, STEPS, rng)
            catalog = rc.load_catalog(world.catalog_document())
            train, test = split(log)
            y = log.correct[test]
            obs_idx, comps = pairs(world, log, test)
            truth = log.truth[obs_idx, comps]
            ours, params = evaluate_ours(world, log, catalog, train, test)
            bkt = evaluate_pybkt(world, log, train, test)
            evals = [
                ours,
                bkt,
                evaluate_running_accuracy(world, log, train, test),
                evaluate_true_bkt(world, log, test),
            ]
            for ev in evals:
                rows.append(
                    [
                        scenario,
                        f"{len(log.correct):,}",
                        ev.name,
                        f"{auc(y, ev.next_pred):.4f}",
                        f"{rmse(y, ev.next_pred):.4f}",
                        f"{auc(truth, ev.mastery_pred):.4f}",
                        "-" if ev.fit_seconds is None else f"{ev.fit_seconds:.2f}",
                    ]
                )
            print(f"  done {scenario} {size:,}", flush=True)
            if scenario == "realistic" and size == min(
                scenario_sizes, key=lambda s: abs(s - 300_000)
            ):
                fitted = {"world": world, "params": params, "log": log, "train": train}
    print("\n## Learner model (held-out learners: 20%)\n")
    print(
        table(
            [
                "scenario",
                "observations",
                "model",
                "next-response AUC",
                "RMSE",
                "mastery AUC vs truth",
                "fit s",
            ],
            rows,
        )
    )

    world = fitted["world"]
    params = fitted["params"]
    assert isinstance(params, rc.ModelParams)
    cat = rc.load_catalog(world.catalog_document())  # type: ignore[attr-defined]
    n = 2_000 if args.quick else 20_000
    upd = latency.update_latency(cat, params, n, args.seed)
    lat_rows = [
        [
            "update, one observation",
            f"{len(upd):,}",
            f"{np.median(upd) / 1000:.1f}",
            f"{p99_us(upd):.1f}",
        ]
    ]
    for size in (1_000, 10_000):
        samples, real = latency.recommend_latency(size, 200 if args.quick else 1_000, args.seed)
        lat_rows.append(
            [
                f"recommend, {real:,}-lesson catalog",
                f"{len(samples):,}",
                f"{np.median(samples) / 1000:.1f}",
                f"{p99_us(samples):.1f}",
            ]
        )
    print("\n## Latency (µs per call)\n")
    print(table(["operation", "calls", "median µs", "p99 µs"], lat_rows))

    print(f"\n## Time to proficiency (realistic world, cap {policies.CAP} lessons)\n", flush=True)
    learners = 40 if args.quick else 300
    goal = [world.n_comp - 1, world.n_comp - 2, world.n_comp - 3]  # type: ignore[attr-defined]
    policy_catalog = rc.load_catalog(world.catalog_document(goal, level=GOAL_LEVEL))  # type: ignore
    pybkt_params = _pybkt_params(fitted)
    results = [
        policies.fixed_order(world, goal, learners, args.seed),  # type: ignore[arg-type]
        policies.score_range(world, goal, learners, args.seed),  # type: ignore[arg-type]
        policies.greedy_pybkt(world, goal, learners, args.seed, pybkt_params),  # type: ignore
        policies.skillpath(world, goal, learners, args.seed, policy_catalog, params),  # type: ignore
    ]
    prow = []
    for r in results:
        done = [m for m, ok in zip(r.lessons, r.proficient, strict=True) if ok]
        mins = [m for m, ok in zip(r.minutes, r.proficient, strict=True) if ok]
        prow.append(
            [
                r.name,
                f"{100 * np.mean(r.proficient):.1f}%",
                f"{np.median(done):.0f}" if done else "-",
                f"{np.median(mins):.0f}" if mins else "-",
                f"{100 * np.mean(r.premature):.1f}%",
            ]
        )
    print(
        table(
            [
                "policy",
                "proficient within cap",
                "median lessons",
                "median minutes",
                "premature done",
            ],
            prow,
        )
    )

    risk_catalog = rc.load_catalog(
        world.catalog_document(  # type: ignore[attr-defined]
            goal, level=GOAL_LEVEL, due_days=RISK_DUE_DAYS
        )
    )
    predicted, missed = risk_bench.risk_auc_data(
        world,
        risk_catalog,
        params,
        40 if args.quick else 200,
        args.seed,  # type: ignore
        RISK_CHECK_DAY,
        RISK_DUE_DAYS,
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


def _pybkt_params(fitted: dict[str, object]) -> dict[int, tuple[float, float, float, float]]:
    """Fit pyBKT on the same training log and read its per-competency parameters."""
    import pandas as pd
    from pyBKT.models import Model

    world, log, train = fitted["world"], fitted["log"], fitted["train"]
    obs_idx, comps = pairs(world, log, train)  # type: ignore[arg-type]
    df = pd.DataFrame(
        {
            "order_id": np.arange(len(obs_idx)),
            "user_id": log.learner[obs_idx].astype(str),  # type: ignore
            "skill_name": [world.comp_id(int(c)) for c in comps],  # type: ignore
            "correct": log.correct[obs_idx],
        }
    )  # type: ignore[attr-defined]
    model = Model(seed=42, num_fits=1)
    model.fit(data=df)
    values = model.params()["value"]
    out = {}
    for k in range(world.n_comp):  # type: ignore[attr-defined]
        skill = world.comp_id(k)  # type: ignore[attr-defined]
        out[k] = (
            float(values[(skill, "prior", "default")]),
            float(values[(skill, "learns", "default")]),
            float(values[(skill, "guesses", "default")]),
            float(values[(skill, "slips", "default")]),
        )
    return out


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
