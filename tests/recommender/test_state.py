"""Learner state and parameters survive a JSON round trip exactly."""

from __future__ import annotations

import json
from datetime import timedelta, timezone

import pytest

from recommender import (
    Catalog,
    LearnerState,
    ModelParams,
    Observation,
    Override,
    StateError,
    apply_override,
    new_learner,
    start_pathway,
    update,
)

from .conftest import NOW


def test_state_round_trips_through_json(chain: Catalog) -> None:
    params = ModelParams.defaults()
    state = start_pathway(new_learner("u1"), "p", NOW)
    other_zone = NOW.astimezone(timezone(timedelta(hours=-5)))
    state = update(
        state, Observation("u1", "https://l.example.org/a1", other_zone, score=0.7), chain, params
    )
    state = update(state, Observation("u1", "https://l.example.org/b1", NOW), chain, params)
    state = apply_override(
        state, Override("mark_mastered", NOW, "coach", competency_id="c", note="shown in class")
    )
    text = json.dumps(state.to_dict())
    back = LearnerState.from_dict(json.loads(text))
    assert back == state
    assert back.to_dict() == state.to_dict()


def test_params_round_trip_through_json() -> None:
    params = ModelParams.defaults().with_competency("a", ModelParams.defaults().default)
    assert ModelParams.from_dict(json.loads(json.dumps(params.to_dict()))) == params


@pytest.mark.parametrize(
    "bad",
    [
        [],
        {"version": 99, "learner_id": "u"},
        {"learner_id": "u", "competencies": {"a": {"p": 2}}},
        {"learner_id": "u", "started": {"p": "2026-01-01T00:00:00"}},
        {"learner_id": "u", "overrides": [{"kind": "pin", "at": "2026-01-01T00:00:00+00:00"}]},
        {"competencies": {}},
    ],
)
def test_malformed_state_raises_state_error(bad: object) -> None:
    with pytest.raises(StateError):
        LearnerState.from_dict(bad)  # type: ignore[arg-type]


def test_bad_params_raise_state_error() -> None:
    with pytest.raises(StateError):
        ModelParams.from_dict({"default": {"guess": 3}})


def test_a_changed_catalog_keeps_learner_history(chain: Catalog) -> None:
    from recommender import load_catalog, mastery_of

    from .conftest import chain_document

    params = ModelParams.defaults()
    state = new_learner("u1")
    for i in range(5):
        state = update(
            state,
            Observation("u1", "https://l.example.org/a1", NOW + timedelta(minutes=i), score=1.0),
            chain,
            params,
        )
    before = mastery_of(state, "a", chain, params, NOW + timedelta(hours=1))
    doc = chain_document()
    doc["lessons"][0]["title"] = "A1, rewritten"
    doc["lessons"].append(
        {
            "id": "https://l.example.org/a2",
            "title": "a2",
            "duration_minutes": 4,
            "competencies": [{"id": "a", "weight": 1}],
        }
    )
    changed = load_catalog(doc)
    restored = LearnerState.from_dict(json.loads(json.dumps(state.to_dict())))
    after = mastery_of(restored, "a", changed, params, NOW + timedelta(hours=1))
    assert after == before
    assert changed.lesson("https://l.example.org/a1").title == "A1, rewritten"


def test_recommendation_round_trips(chain: Catalog) -> None:
    from recommender import Recommendation, recommend

    rec = recommend(chain, new_learner("u1"), ModelParams.defaults(), NOW, "p")
    assert Recommendation.from_dict(json.loads(json.dumps(rec.to_dict()))) == rec
