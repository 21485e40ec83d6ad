"""Parameter fitting: EM recovers known parameters; thin data stays near the priors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from recommender import Observation, fit_params, load_catalog

DOC = {
    "format": "skillpath-catalog/1",
    "competencies": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}, {"id": "z", "name": "Z"}],
    "lessons": [
        {
            "id": f"https://x.example.org/{c}",
            "title": c,
            "duration_minutes": 5,
            "competencies": [{"id": c, "weight": 1}],
        }
        for c in ("a", "b", "z")
    ],
}
TRUE = {"a": (0.3, 0.2, 0.25, 0.1), "b": (0.1, 0.1, 0.15, 0.2)}


def simulate(learners: int, seed: int, steps: tuple[int, int] = (3, 25)) -> list[Observation]:
    rng = np.random.default_rng(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for u in range(learners):
        for comp, (prior, learn, guess, slip) in TRUE.items():
            known = rng.random() < prior
            for k in range(int(rng.integers(*steps))):
                correct = rng.random() < ((1 - slip) if known else guess)
                out.append(
                    Observation(
                        f"u{u}",
                        f"https://x.example.org/{comp}",
                        start + timedelta(minutes=k),
                        score=float(correct),
                    )
                )
                known = known or rng.random() < learn
    return out


def test_em_recovers_known_parameters() -> None:
    catalog = load_catalog(DOC)
    params, report = fit_params(simulate(1500, seed=7), catalog)
    for comp, truth in TRUE.items():
        got = params.for_competency(comp)
        assert (got.prior, got.learn, got.guess, got.slip) == pytest.approx(truth, abs=0.04)
    assert report.observations["z"] == 0
    assert params.for_competency("z") == params.default  # no data: the prior stands
    assert report.iterations >= 1


def test_learning_is_not_underestimated_on_short_sequences() -> None:
    # Three responses per learner: two observed transitions. Counting the last step as a
    # learning opportunity (nothing follows it) would put `learn` near two thirds of the truth.
    catalog = load_catalog(DOC)
    params, _ = fit_params(simulate(6000, seed=11, steps=(3, 4)), catalog)
    for comp, (_, learn, _, _) in TRUE.items():
        assert params.for_competency(comp).learn == pytest.approx(learn, abs=0.03)


def test_thin_data_stays_near_the_priors() -> None:
    catalog = load_catalog(DOC)
    params, _ = fit_params(simulate(2, seed=3), catalog)
    default = params.default
    for comp in TRUE:
        got = params.for_competency(comp)
        assert abs(got.guess - default.guess) < 0.15 and abs(got.slip - default.slip) < 0.15


def test_empty_history_returns_the_base() -> None:
    catalog = load_catalog(DOC)
    params, report = fit_params([], catalog)
    assert report.iterations == 0 and params.competencies == {}
