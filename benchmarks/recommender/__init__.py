"""Benchmark of the adaptive engine against pyBKT: `python -m benchmarks.recommender`."""
