"""The learner model: hand-checked updates, partial credit, weights, exposure, forgetting."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from recommender import (
    Catalog,
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

from .conftest import NOW, PARAMS, url


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


# ---- success and score, what a lesson measures and teaches --------------------------------


def test_a_pass_is_a_pass_whatever_its_score(chain: Catalog) -> None:
    plain = update(new_learner("u1"), obs("a1", score=1.0), chain, PARAMS).competencies["a"]
    for score in (0.62, 0.8, 0.95):
        passed = update(new_learner("u1"), obs("a1", score=score, success=True), chain, PARAMS)
        assert passed.competencies["a"].p == pytest.approx(plain.p)
        assert passed.competencies["a"].failures == 0
    failed = update(new_learner("u1"), obs("a1", score=0.7, success=False), chain, PARAMS)
    zero = update(new_learner("u1"), obs("a1", score=0.0), chain, PARAMS)
    assert failed.competencies["a"].p == pytest.approx(zero.competencies["a"].p)
    assert failed.competencies["a"].failures == 1
    assert failed.lessons[url("a1")].last_success is False
    assert failed.lessons[url("a1")].last_score == 0.7


def test_a_score_without_a_flag_counts_through_the_fitted_score_model(chain: Catalog) -> None:
    # Before any fit the score is read as the chance of a pass; with a fitted score model a
    # 0.75 from this organisation's content is nearly certainly a pass and a 0.3 a fail.
    table = (0.0, 0.0, 0.01, 0.02, 0.1, 0.4, 0.9, 0.99, 1.0, 1.0)
    fitted = replace(PARAMS, score_evidence=table)
    for score, value in ((0.75, 0.99), (0.3, 0.02)):
        state = update(new_learner("u1"), obs("a1", score=score), chain, fitted)
        # post = .2 like_m / (.2 like_m + .8 like_n), then learning
        like_m = value * 0.9 + (1 - value) * 0.1
        like_n = value * 0.2 + (1 - value) * 0.8
        post = 0.2 * like_m / (0.2 * like_m + 0.8 * like_n)
        assert state.competencies["a"].p == pytest.approx(post + (1 - post) * 0.1)
    low = update(new_learner("u1"), obs("a1", score=0.55), chain, fitted)
    assert low.competencies["a"].failures == 1  # 0.55 is likelier after a fail here
    assert (
        update(new_learner("u1"), obs("a1", score=0.55), chain, PARAMS).competencies["a"].failures
        == 1
    )  # and below 0.6 before any fit


MEASURED = {
    "format": "skillpath-catalog/1",
    "competencies": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}],
    "lessons": [
        {
            "id": url("ab"),
            "title": "ab",
            "duration_minutes": 5,
            "competencies": [{"id": "a", "teaches": 1, "measures": 1}, {"id": "b", "teaches": 0.5}],
        },
        {
            "id": url("probe"),
            "title": "probe",
            "duration_minutes": 5,
            "competencies": [{"id": "a", "measures": 1}, {"id": "b", "teaches": 1}],
        },
    ],
}


def test_evidence_goes_where_the_score_measures_and_learning_where_the_lesson_teaches() -> None:
    from recommender import load_catalog

    catalog = load_catalog(MEASURED)
    failed = update(new_learner("u1"), obs("ab", score=0.0, success=False), catalog, PARAMS)
    # b is not measured: a failure says nothing about it; it only learns, at half weight.
    assert failed.competencies["b"].p == pytest.approx(0.2 + 0.8 * 0.1 * 0.5)
    assert failed.competencies["b"].attempts == 0 and failed.competencies["b"].failures == 0
    post = 0.02 / 0.66
    assert failed.competencies["a"].p == pytest.approx(post + (1 - post) * 0.1)
    probe = update(new_learner("u1"), obs("probe", score=1.0, success=True), catalog, PARAMS)
    post = 0.18 / 0.34  # a: evidence, no learning (the probe does not teach it)
    assert probe.competencies["a"].p == pytest.approx(post)
    assert probe.competencies["b"].p == pytest.approx(0.2 + 0.8 * 0.1)
    # Success on "ab" depends on a only.
    knows_b = pre_assess(new_learner("u1"), {"b": 1.0}, catalog, PARAMS, NOW)
    lesson = catalog.lesson(url("ab"))
    assert predict_success(knows_b, lesson, PARAMS, NOW) == pytest.approx(
        predict_success(new_learner("u1"), lesson, PARAMS, NOW)
    )


def test_the_score_model_and_the_success_flag_round_trip() -> None:
    import json

    from recommender import LearnerState

    params = replace(PARAMS, score_evidence=tuple(i / 9 for i in range(10)))
    assert ModelParams.from_dict(json.loads(json.dumps(params.to_dict()))) == params
    with pytest.raises(ValueError):
        replace(PARAMS, score_evidence=(0.5, 0.5))
    from recommender import load_catalog

    catalog = load_catalog(MEASURED)
    state = update(new_learner("u1"), obs("ab", score=0.9, success=False), catalog, params)
    assert LearnerState.from_dict(json.loads(json.dumps(state.to_dict()))) == state


def test_forgetting_per_lesson_taken_lowers_what_is_not_practised(chain: Catalog) -> None:
    params = replace(PARAMS, forget_per_lesson=0.01, memory_growth=0.0)
    state = update(new_learner("u1"), obs("a1", score=1.0, success=True), chain, params)
    after_a = state.competencies["a"].p
    # one lesson taken since a's update (the one on a itself): forgetting after it
    assert mastery_of(state, "a", chain, params, NOW).probability == pytest.approx(after_a * 0.99)
    for _ in range(10):  # ten lessons on something else, in the same minute
        state = update(state, obs("c1", NOW, score=None), chain, params)
    assert state.taken == 11
    assert mastery_of(state, "a", chain, params, NOW).probability == pytest.approx(
        after_a * 0.99**11
    )
    # without forgetting per lesson the same history keeps a as it was
    plain = replace(params, forget_per_lesson=0.0)
    assert mastery_of(state, "a", chain, plain, NOW).probability == pytest.approx(after_a)


def test_memory_stability_grows_only_when_the_fit_says_so(chain: Catalog) -> None:
    grows = update(new_learner("u1"), obs("a1", score=1.0, success=True), chain, PARAMS)
    fixed = update(
        new_learner("u1"),
        obs("a1", score=1.0, success=True),
        chain,
        replace(PARAMS, memory_growth=0.0),
    )
    assert grows.competencies["a"].stability_days > PARAMS.default.stability_days
    assert fixed.competencies["a"].stability_days == PARAMS.default.stability_days


def test_states_saved_before_the_lesson_count_still_load(chain: Catalog) -> None:
    import json

    from recommender import LearnerState

    state = update(new_learner("u1"), obs("a1", score=1.0, success=True), chain, PARAMS)
    data = json.loads(json.dumps(state.to_dict()))
    assert LearnerState.from_dict(data) == state
    del data["taken"]
    for comp in data["competencies"].values():
        del comp["taken_at"], comp["run_chance"]
    old = LearnerState.from_dict(data)
    assert old.taken == 0 and old.competencies["a"].taken_at == 0
