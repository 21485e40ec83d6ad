"""Benchmark of the adaptive engine: `python -m benchmarks.recommender [--quick] [--seed N]`.

`worlds` (the family of simulated worlds), `baselines` (pyBKT, running accuracy, fixed order,
greedy on pyBKT, greedy on true parameters), `family` (runs them all beside Skillpath),
`latency` (speed on the 100-competency shape), `risk_bench` (at-risk prediction on the
issue-3 simulator, `simulator`), `ceiling` (mastery-AUC ceiling on that simulator).
"""
