"""Parameter fitting: EM recovers known parameters; thin data stays near the priors."""

from __future__ import annotations

import json
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


def simulate(
    learners: int, seed: int, steps: tuple[int, int] = (3, 25), evidence: str = "score"
) -> list[Observation]:
    """BKT learners. `evidence`: "score" (1/0 as a score without a flag), "flagged" (success
    plus a noisy score: about 0.8 after a pass, 0.3 after a fail) or "noisy" (that noisy
    score alone: partial credit without a success flag)."""
    rng = np.random.default_rng(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for u in range(learners):
        for comp, (prior, learn, guess, slip) in TRUE.items():
            known = rng.random() < prior
            for k in range(int(rng.integers(*steps))):
                correct = bool(rng.random() < ((1 - slip) if known else guess))
                noisy = rng.normal(0.8, 0.1) if correct else rng.normal(0.3, 0.12)
                score = float(correct) if evidence == "score" else float(np.clip(noisy, 0, 1))
                out.append(
                    Observation(
                        f"u{u}",
                        f"https://x.example.org/{comp}",
                        start + timedelta(minutes=k),
                        score=score,
                        success=correct if evidence == "flagged" else None,
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


@pytest.mark.parametrize("evidence", ["flagged", "noisy"])
def test_noisy_scores_are_read_for_what_they_say_about_pass_and_fail(evidence: str) -> None:
    # The same learners as above, their results reported as a success flag with a noisy
    # score, or as the noisy score alone. Read as a probability of success, a pass at 0.8 and
    # a fail at 0.3 look alike and the fit ends at the guess/slip cap (0.4).
    catalog = load_catalog(DOC)
    params, _ = fit_params(simulate(1500, seed=7, evidence=evidence), catalog)
    for comp, truth in TRUE.items():
        got = params.for_competency(comp)
        assert (got.prior, got.learn, got.guess, got.slip) == pytest.approx(truth, abs=0.05)
    table = params.score_evidence
    if evidence == "noisy":  # learned from the data: low scores say fail, high ones pass
        assert table[2] < 0.05 and table[7] > 0.95
    else:  # the flagged statements show how each outcome scores
        assert table == ()


def test_a_minor_part_the_score_does_not_measure_does_not_bend_the_fit() -> None:
    doc = {
        "format": "skillpath-catalog/1",
        "competencies": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}],
        "lessons": [
            {
                "id": "https://x.example.org/a",
                "title": "a",
                "duration_minutes": 5,
                "competencies": [
                    {"id": "a", "teaches": 1, "measures": 1},
                    {"id": "z", "teaches": 0.5},
                ],
            },
            {
                "id": "https://x.example.org/b",
                "title": "b",
                "duration_minutes": 5,
                "competencies": [{"id": "b", "weight": 1}],
            },
        ],
    }
    doc["competencies"].append({"id": "z", "name": "Z"})
    catalog = load_catalog(doc)
    params, report = fit_params(simulate(1500, seed=7), catalog)
    got = params.for_competency("a")
    assert (got.prior, got.learn, got.guess, got.slip) == pytest.approx(TRUE["a"], abs=0.04)
    assert report.observations["z"] == 0 and "z" in report.at_priors


def test_the_report_says_what_was_used_and_what_stayed_at_the_priors() -> None:
    catalog = load_catalog(DOC)
    history = simulate(400, seed=5)
    params, report = fit_params(history, catalog, min_observations=50, holdout=0.2)
    assert report.at_priors == ("z",)
    assert report.min_observations == 50 and report.seconds > 0.0
    assert report.heldout is not None
    held = report.heldout
    assert 0 < held.learners < 400 and held.observations > 0
    assert report.observations_used + held.observations == len(history)
    assert held.auc > held.base_auc and held.calibration < held.base_calibration
    assert json.loads(json.dumps(report.to_dict()))["heldout"]["learners"] == held.learners
    few, thin = fit_params(history, catalog, min_observations=10**6)
    assert few.competencies == {} and set(thin.at_priors) == {"a", "b", "z"}


def simulate_forgetting(learners: int, seed: int, forget: float) -> list[Observation]:
    """One competency learned and practised among lessons on another; mastery is lost with
    probability `forget` after every lesson taken, whatever the time between lessons."""
    rng = np.random.default_rng(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    prior, learn, guess, slip = TRUE["a"]
    out = []
    for u in range(learners):
        known = rng.random() < prior
        moment = start
        for _ in range(40):
            comp = "a" if rng.random() < 0.5 else "z"
            if comp == "a":
                correct = bool(rng.random() < ((1 - slip) if known else guess))
                out.append(
                    Observation(
                        f"u{u}",
                        "https://x.example.org/a",
                        moment,
                        score=float(correct),
                        success=correct,
                    )
                )
                known = known or rng.random() < learn
            else:
                out.append(Observation(f"u{u}", "https://x.example.org/z", moment))
            known = known and rng.random() >= forget
            # sessions: minutes apart, with breaks of up to a week now and then
            gap = rng.exponential(3.0) if rng.random() < 0.2 else 0.01
            moment += timedelta(days=float(gap))
    return out


def test_forgetting_per_lesson_is_learned_from_the_data() -> None:
    catalog = load_catalog(DOC)
    params, _ = fit_params(simulate_forgetting(3000, seed=4, forget=0.02), catalog)
    assert 0.016 <= params.forget_per_lesson <= 0.032  # the grid points around 0.02
    still, _ = fit_params(simulate_forgetting(3000, seed=4, forget=0.0), catalog)
    assert still.forget_per_lesson < 0.0005  # the bound, below the grid's first step
    assert still.for_competency("a").stability_days >= 365.0
    got = params.for_competency("a")
    assert (got.prior, got.learn, got.guess, got.slip) == pytest.approx(TRUE["a"], abs=0.05)


def test_a_short_history_keeps_the_forgetting_it_cannot_rule_out() -> None:
    # Learners who forget nothing: 100 of them cannot show that they do not forget a little,
    # so the model keeps the most forgetting their history allows (a pass long ago is not
    # trusted as if nothing could have been lost since); 3,000 of them bring it near zero.
    catalog = load_catalog(DOC)
    short, _ = fit_params(simulate_forgetting(100, seed=4, forget=0.0), catalog)
    long, _ = fit_params(simulate_forgetting(3000, seed=4, forget=0.0), catalog)
    assert short.forget_per_lesson >= 0.002
    assert long.forget_per_lesson < 0.0005
    # With forgetting in the data, the bound is at or above the grid point nearest the truth.
    forgetful, _ = fit_params(simulate_forgetting(1000, seed=4, forget=0.005), catalog)
    assert 0.004 <= forgetful.forget_per_lesson <= 0.008


def test_forgetting_shows_when_a_catalog_credits_the_score_to_a_minor_part() -> None:
    # Version-1 weights: the lesson on a lists b at 0.5 and the lesson on b lists a at 0.5, so
    # the engine reads each score as half about the other competency, though it depends on
    # the main one only. Those apparent slips must not hide that both are forgotten.
    doc = {
        "format": "skillpath-catalog/1",
        "competencies": [{"id": c, "name": c.upper()} for c in ("a", "b")],
        "lessons": [
            {
                "id": f"https://x.example.org/{c}",
                "title": c,
                "duration_minutes": 5,
                "competencies": [{"id": c, "weight": 1}, {"id": o, "weight": 0.5}],
            }
            for c, o in (("a", "b"), ("b", "a"))
        ],
    }
    rng = np.random.default_rng(6)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    history = []
    for u in range(3000):
        known = {c: rng.random() < TRUE[c][0] for c in ("a", "b")}
        moment = start
        for _ in range(40):
            c = "a" if rng.random() < 0.5 else "b"
            _, learn, guess, slip = TRUE[c]
            correct = bool(rng.random() < ((1 - slip) if known[c] else guess))
            history.append(
                Observation(
                    f"u{u}",
                    f"https://x.example.org/{c}",
                    moment,
                    score=float(correct),
                    success=correct,
                )
            )
            known[c] = known[c] or rng.random() < learn
            known = {k: v and rng.random() >= 0.02 for k, v in known.items()}
            moment += timedelta(days=float(rng.exponential(3.0) if rng.random() < 0.2 else 0.01))
    params, _ = fit_params(history, load_catalog(doc))
    assert params.forget_per_lesson >= 0.008


GATED = {
    "format": "skillpath-catalog/1",
    "competencies": [
        {"id": "a", "name": "A"},
        {"id": "b", "name": "B", "prerequisites": ["a"]},
    ],
    "lessons": DOC["lessons"][:2],
}


def simulate_unready(learners: int, seed: int) -> list[Observation]:
    """b is learned at 0.3 per lesson once a is mastered and a quarter of that before; the
    history's learners mostly practise b before a (as a course followed loosely does)."""
    rng = np.random.default_rng(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    known = {"a": False, "b": False}
    out = []
    for u in range(learners):
        known = {"a": rng.random() < 0.1, "b": rng.random() < 0.05}
        steps = ["b"] * int(rng.integers(3, 8)) + ["a"] * 6 + ["b"] * int(rng.integers(2, 6))
        for k, comp in enumerate(steps):
            correct = bool(rng.random() < (0.9 if known[comp] else 0.15))
            out.append(
                Observation(
                    f"u{u}",
                    f"https://x.example.org/{comp}",
                    start + timedelta(minutes=k),
                    score=float(correct),
                )
            )
            rate = 0.3 if comp == "a" or known["a"] else 0.075
            known[comp] = known[comp] or rng.random() < rate
    return out


def test_learning_is_fitted_for_when_the_prerequisites_are_known() -> None:
    """Averaged over every step, b's rate comes out far below 0.3 (most of its steps came
    before a was known); weighted by how likely a was known at each step, it comes closer
    (about halfway on this history: the readiness read from the fit's own posteriors is
    itself uncertain), and the share taught before a is known is fitted below 1."""
    catalog = load_catalog(GATED)
    history = simulate_unready(3000, seed=11)
    gated, _ = fit_params(history, catalog)
    plain, _ = fit_params(history, load_catalog({**GATED, "competencies": DOC["competencies"][:2]}))
    assert plain.unready_learning is None  # no prerequisites: the rate over every step
    assert plain.for_competency("b").learn < 0.15
    assert 0.15 < gated.for_competency("b").learn < 0.4
    assert gated.unready_learning is not None and gated.unready_learning < 0.8
    assert gated.for_competency("a").learn == pytest.approx(0.3, abs=0.05)  # a: no prerequisite


def test_parameters_without_the_unready_share_keep_their_form() -> None:
    """Parameters fitted before the share existed (or without prerequisites) read and write
    as before, so their version does not change and nobody's state is replayed."""
    from recommender import ModelParams

    old = ModelParams().to_dict()
    assert "unready_learning" not in old
    assert ModelParams.from_dict(old).unready_learning is None
    gated = ModelParams(unready_learning=0.4)
    assert ModelParams.from_dict(gated.to_dict()).unready_learning == 0.4
