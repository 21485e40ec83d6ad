"""Invariants under arbitrary evidence: probabilities stay in [0, 1], overrides always win,
state round-trips, requires are never violated."""

from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recommender import (
    LearnerState,
    ModelParams,
    Observation,
    Override,
    apply_override,
    load_catalog,
    mastery,
    new_learner,
    predict_success,
    recommend,
    update,
)

from .conftest import NOW, chain_document

CATALOG = load_catalog(chain_document())
LESSONS = sorted(CATALOG.lessons)
PARAMS = ModelParams.defaults()

events = st.lists(
    st.tuples(
        st.sampled_from(LESSONS),
        st.one_of(st.none(), st.floats(0.0, 1.0)),
        st.one_of(st.none(), st.booleans()),
        st.floats(0.0, 400.0),  # hours since the previous event
    ),
    max_size=25,
)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(history: list[tuple[str, float | None, bool | None, float]]) -> tuple[LearnerState, float]:
    state = new_learner("u1")
    hours = 0.0
    for lesson, score, success, gap in history:
        hours += gap
        state = update(
            state,
            Observation("u1", lesson, NOW + timedelta(hours=hours), score=score, success=success),
            CATALOG,
            PARAMS,
        )
    return state, hours


@SETTINGS
@given(events, st.floats(0.0, 5000.0))
def test_probabilities_stay_in_unit_interval(history: list, later: float) -> None:  # type: ignore[type-arg]
    state, hours = run(history)
    now = NOW + timedelta(hours=hours + later)
    for est in mastery(state, CATALOG, PARAMS, now).values():
        assert 0.0 <= est.probability <= 1.0
        assert 0.0 <= est.recall <= 1.0
    for lesson in CATALOG.lessons.values():
        assert 0.0 <= predict_success(state, lesson, PARAMS, now) <= 1.0


@SETTINGS
@given(events, st.sampled_from(LESSONS), st.sampled_from(["pin", "assign"]))
def test_an_override_always_wins(history: list, lesson: str, kind: str) -> None:  # type: ignore[type-arg]
    state, hours = run(history)
    now = NOW + timedelta(hours=hours)
    state = apply_override(state, Override(kind, now, "teacher", lesson_id=lesson))
    rec = recommend(CATALOG, state, PARAMS, now, "p")
    assert rec.lesson_id == lesson
    assert rec.reasons[0].code in ("pinned_by_instructor", "assigned_by_instructor")


@SETTINGS
@given(events, st.sampled_from(LESSONS))
def test_a_skipped_lesson_is_never_recommended(history: list, lesson: str) -> None:  # type: ignore[type-arg]
    state, hours = run(history)
    now = NOW + timedelta(hours=hours)
    state = apply_override(state, Override("skip", now, "teacher", lesson_id=lesson))
    assert recommend(CATALOG, state, PARAMS, now, "p").lesson_id != lesson


@SETTINGS
@given(events)
def test_recommendations_respect_requires_and_state_round_trips(history: list) -> None:  # type: ignore[type-arg]
    state, hours = run(history)
    now = NOW + timedelta(hours=hours)
    assert LearnerState.from_dict(json.loads(json.dumps(state.to_dict()))) == state
    rec = recommend(CATALOG, state, PARAMS, now, "p")
    if rec.lesson_id is not None and rec.reasons[0].code != "over_budget":
        table = mastery(state, CATALOG, PARAMS, now)
        lesson = CATALOG.lessons[rec.lesson_id]
        skip_at = CATALOG.pathway("p").thresholds.skip_at_or_above
        from recommender import mastery_of

        assert all(
            mastery_of(state, r, CATALOG, PARAMS, now, skip_at).mastered for r in lesson.requires
        ), (rec, table)
    assert rec.sentence
