"""The benchmark's greedy baseline, stopping at its own "done" or going on past it."""

from __future__ import annotations

from dataclasses import replace

import pytest

np = pytest.importorskip("numpy")

from benchmarks.recommender.baselines import Greedy, true_parameters  # noqa: E402
from benchmarks.recommender.worlds import BASE, T0, make_world  # noqa: E402


def _world():  # type: ignore[no-untyped-def]
    return make_world(replace(BASE, n_comp=5), np.random.default_rng([7, 1]))


def test_greedy_stops_at_its_own_done_unless_it_goes_on() -> None:
    world = _world()
    stopping = Greedy(world, true_parameters(world), truth=True)
    going_on = Greedy(world, true_parameters(world), truth=True, goes_on=True)
    sure = np.full(world.n_comp, 0.99)
    sure[3] = 0.96  # every competency above the 0.95 bar; the fourth the least believed
    stopping.belief, going_on.belief = sure.copy(), sure.copy()
    assert stopping.next(T0) is None
    lesson = going_on.next(T0)
    assert lesson is not None and int(world.main[lesson]) == 3
    assert world.teaches[lesson]  # practice that teaches, not an assessment


def test_below_the_bar_both_work_on_the_same_competency() -> None:
    world = _world()
    stopping = Greedy(world, true_parameters(world), truth=True)
    going_on = Greedy(world, true_parameters(world), truth=True, goes_on=True)
    assert stopping.next(T0) == going_on.next(T0) is not None


def test_the_promise_is_checked_on_more_draws_of_the_worlds_that_declare_done() -> None:
    from benchmarks.recommender.family import PromiseCheck, Sizes, promise_checks, promise_table

    checks = promise_checks(12345, Sizes(60, lambda n: 6), 2)
    assert [(c.world, c.seed[1], c.learners) for c in checks] == [
        ("goal-5", 1000, 6),
        ("no-forgetting", 1000, 6),
        ("goal-5", 1001, 6),
        ("no-forgetting", 1001, 6),
    ]
    assert all(0.0 <= c.premature <= c.declared <= 100.0 for c in checks)
    over = PromiseCheck("goal-5", [1, 1000, 15], 0.0, 100, 80.0, 8.0)
    assert promise_table([*checks, over]).endswith(
        "Premature done above 5% in 1 of 5 draws: goal-5 [1, 1000, 15]."
    )
