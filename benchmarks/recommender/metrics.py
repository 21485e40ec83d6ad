"""Metrics for the benchmark: AUC with tied ranks, RMSE, percentiles."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def auc(labels: ArrayLike, scores: ArrayLike) -> float:
    """Area under the ROC curve (Mann-Whitney U with average ranks for ties)."""
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=float)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    sorted_s = s[order]
    ranks = np.empty(len(s))
    _, first, counts = np.unique(sorted_s, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def rmse(labels: ArrayLike, scores: ArrayLike) -> float:
    """Root mean squared error of probabilities against 0/1 outcomes."""
    y = np.asarray(labels, dtype=float)
    s = np.asarray(scores, dtype=float)
    return float(np.sqrt(np.mean((y - s) ** 2)))


def p99_us(samples_ns: list[int]) -> float:
    """99th percentile of nanosecond samples, in microseconds."""
    return float(np.percentile(np.asarray(samples_ns), 99) / 1000.0)
