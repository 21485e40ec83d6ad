"""The learner model: hand-checked updates, partial credit, weights, exposure, forgetting."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from recommender import (
    Catalog,
    CompetencyParams,
    ModelParams,
    Observation,
    mastery,
    mastery_of,
    new_learner,
    pre_assess,
    predict_success,
    recall,
    replay,
    update,
)

from .conftest import NOW

PARAMS = ModelParams(default=CompetencyParams(prior=0.2, learn=0.1, guess=0.2, slip=0.1))


def url(name: str) -> str:
    return f"https://l.example.org/{name}"


def obs(
    lesson: str,
    at: datetime = NOW,
    score: float | None = None,
    success: bool | None = None,
    voided: bool = False,
) -> Observation:
    return Observation("u1", url(lesson), at, score=score, success=success, voided=voided)


def test_one_success_matches_the_hand_computed_bkt_step(chain: Catalog) -> None:
    state = update(new_learner("u1"), obs("a1", score=1.0), chain, PARAMS)
    # posterior = .2*.9 / (.2*.9 + .8*.2) = .529411...; then learning: + (1-post)*.1
    post = 0.18 / 0.34
    assert state.competencies["a"].p == pytest.approx(post + (1 - post) * 0.1)


def test_one_failure_matches_the_hand_computed_bkt_step(chain: Catalog) -> None:
    state = update(new_learner("u1"), obs("a1", score=0.0, success=False), chain, PARAMS)
    post = 0.02 / (0.02 + 0.64)
    assert state.competencies["a"].p == pytest.approx(post + (1 - post) * 0.1)
    assert state.competencies["a"].failures == 1


def test_partial_credit_counts_partially(chain: Catalog) -> None:
    ps = [
        update(new_learner("u1"), obs("a1", score=s), chain, PARAMS).competencies["a"].p
        for s in (0.0, 0.5, 1.0)
    ]
    assert ps[0] < ps[1] < ps[2]


def test_exposure_is_not_evidence_but_counts_toward_learning(chain: Catalog) -> None:
    state = update(new_learner("u1"), obs("a1"), chain, PARAMS)
    # only half a learning transition: .2 + .8 * .1 * .5
    assert state.competencies["a"].p == pytest.approx(0.24)
    assert state.competencies["a"].attempts == 0
    exposed_check = update(new_learner("u1"), obs("d-check"), chain, PARAMS)
    assert exposed_check.competencies["d"].p == pytest.approx(0.2)  # assessments do not teach


def test_a_multi_competency_lesson_can_be_mastered_out_of(chain: Catalog) -> None:
    state = new_learner("u1")
    for i in range(15):
        state = update(state, obs("bc-mixed", NOW + timedelta(hours=i), score=1.0), chain, PARAMS)
    table = mastery(state, chain, PARAMS, NOW + timedelta(hours=15))
    assert table["b"].mastered and table["c"].mastered


def test_a_multi_competency_failure_is_shared_not_multiplied(chain: Catalog) -> None:
    single = update(new_learner("u1"), obs("b1", score=0.0), chain, PARAMS)
    mixed = update(new_learner("u1"), obs("bc-mixed", score=0.0), chain, PARAMS)
    assert mixed.competencies["b"].p > single.competencies["b"].p


def test_forgetting_lowers_mastery_over_time(chain: Catalog) -> None:
    state = new_learner("u1")
    for i in range(10):
        state = update(state, obs("a1", NOW + timedelta(minutes=i), score=1.0), chain, PARAMS)
    soon = mastery_of(state, "a", chain, PARAMS, NOW + timedelta(days=1)).probability
    later = mastery_of(state, "a", chain, PARAMS, NOW + timedelta(days=200)).probability
    assert later < soon
    assert recall(0, 10) == 1.0
    assert recall(10, 10) == pytest.approx(0.9)


def test_predict_success_follows_mastery(chain: Catalog) -> None:
    lesson = chain.lesson(url("a1"))
    fresh = predict_success(new_learner("u1"), lesson, PARAMS, NOW)
    assert fresh == pytest.approx(0.2 * 0.9 + 0.8 * 0.2)
    state = update(new_learner("u1"), obs("a1", score=1.0), chain, PARAMS)
    assert predict_success(state, lesson, PARAMS, NOW) > fresh


def test_voided_and_unknown_observations_change_nothing(chain: Catalog) -> None:
    state = new_learner("u1")
    assert update(state, obs("a1", score=1.0, voided=True), chain, PARAMS) is state
    other = Observation("u1", "https://elsewhere.example.org/x", NOW, score=1.0)
    assert update(state, other, chain, PARAMS) is state
    rebuilt = replay(
        state, [obs("a1", score=1.0), obs("a1", score=0.0, voided=True)], chain, PARAMS
    )
    assert rebuilt == update(state, obs("a1", score=1.0), chain, PARAMS)


def test_naive_datetimes_are_rejected(chain: Catalog) -> None:
    with pytest.raises(ValueError):
        mastery(new_learner("u1"), chain, PARAMS, datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        Observation("u1", url("a1"), datetime(2026, 1, 1), score=1.0)


def test_pre_assessment_sets_the_starting_point(chain: Catalog) -> None:
    state = pre_assess(new_learner("u1"), {"a": 1.0, "b": 0.0}, chain, PARAMS, NOW)
    table = mastery(state, chain, PARAMS, NOW)
    assert table["a"].probability > 0.8 and table["a"].mastered
    assert table["b"].probability < 0.2
    with pytest.raises(ValueError):
        pre_assess(state, {"a": 1.5}, chain, PARAMS, NOW)


def test_critical_competency_needs_a_passed_assessment(chain: Catalog) -> None:
    state = new_learner("u1")
    for i in range(30):
        state = update(state, obs("d1", NOW + timedelta(minutes=i), score=1.0), chain, PARAMS)
    est = mastery_of(state, "d", chain, PARAMS, NOW + timedelta(hours=1))
    assert est.probability > 0.8 and not est.mastered
    state = update(
        state, obs("d-check", NOW + timedelta(hours=1), score=1.0, success=True), chain, PARAMS
    )
    assert mastery_of(state, "d", chain, PARAMS, NOW + timedelta(hours=1)).mastered


def test_three_failures_flag_the_learner_for_a_coach(chain: Catalog) -> None:
    state = new_learner("u1")
    for i in range(3):
        assert "a" not in state.coach_flags
        state = update(state, obs("a1", NOW + timedelta(minutes=i), score=0.2), chain, PARAMS)
    assert state.coach_flags == ("a",)
    state = update(state, obs("a1", NOW + timedelta(hours=1), score=1.0), chain, PARAMS)
    assert state.coach_flags == ()


def test_ability_follows_the_prediction_residual(chain: Catalog) -> None:
    from dataclasses import replace

    params = replace(PARAMS, ability_rate=0.1, difficulty_effect=1.0)
    lesson = chain.lesson(url("a1"))
    before = predict_success(new_learner("u1"), lesson, params, NOW)
    state = update(new_learner("u1"), obs("a1", score=1.0), chain, params)
    assert state.ability == pytest.approx(0.1 * (1.0 - before))
    # an easy lesson (difficulty 0.3) is predicted above the plain BKT mixture
    assert before > 0.2 * 0.9 + 0.8 * 0.2
