"""The benchmark's median lessons to proficiency over all learners (a censored median)."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("numpy")

from benchmarks.recommender.family import censored_median, median_label  # noqa: E402


def test_a_learner_never_proficient_counts_as_beyond_the_cap() -> None:
    # Three of four proficient: the second fastest of four is the median (the lessons by
    # which half of them were proficient); the one never proficient does not drop out.
    assert censored_median([100, 300, 50, 200], [True, False, True, True]) == 100
    # Half of them proficient: still the second fastest (100), where the median over the
    # proficient only would be the fast pair's midpoint (75).
    assert censored_median([100, 300, 50, 300], [True, False, True, False]) == 100


def test_fewer_than_half_proficient_is_beyond_the_cap() -> None:
    value = censored_median([40, 300, 300], [True, False, False])
    assert math.isinf(value) and median_label(value) == "> cap"
    assert math.isnan(censored_median([], []))
    assert median_label(120.0) == "120"
