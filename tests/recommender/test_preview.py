"""The path preview: steps to the goal, milestones, minutes and dates at the learner's pace."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from recommender import (
    Catalog,
    ModelParams,
    Override,
    apply_override,
    new_learner,
    pre_assess,
    preview_path,
    start_pathway,
)

from .conftest import NOW

PARAMS = ModelParams.defaults()


def test_preview_reaches_the_goal_with_milestones_in_order(chain: Catalog) -> None:
    state = start_pathway(new_learner("u1"), "p", NOW)
    preview = preview_path(chain, state, PARAMS, NOW, "p", minutes_per_day=60)
    assert preview.reaches_goal
    assert preview.total_minutes == sum(s.minutes for s in preview.steps)
    assert preview.steps[-1].cumulative_minutes == preview.total_minutes
    m1, m2 = preview.milestones
    assert m1.expected_minutes is not None and m2.expected_minutes is not None
    assert m1.expected_minutes < m2.expected_minutes
    assert m1.due_date == NOW + timedelta(days=7)
    # dates follow the pace: 60 minutes a day
    assert preview.expected_completion == NOW + timedelta(days=preview.total_minutes / 60)
    assert json.loads(json.dumps(preview.to_dict()))["reaches_goal"] is True
    # the last step passes the critical assessment
    assert chain.lesson(preview.steps[-1].lesson_id).kind == "assessment"


def test_a_slower_pace_moves_dates_and_adds_reviews(chain: Catalog) -> None:
    state = new_learner("u1")
    fast = preview_path(chain, state, PARAMS, NOW, "p", minutes_per_day=120)
    slow = preview_path(chain, replace(state, minutes_per_day=10), PARAMS, NOW, "p")
    # at 10 minutes a day, some of what was learned early fades and is reviewed on the way
    assert len(slow.steps) >= len(fast.steps)
    assert slow.expected_completion and fast.expected_completion
    assert slow.expected_completion > fast.expected_completion
    assert slow.milestones[0].on_track is False or slow.milestones[0].expected_date


def test_preview_is_recomputed_from_evidence(chain: Catalog) -> None:
    fresh = preview_path(chain, new_learner("u1"), PARAMS, NOW, "p")
    knowing = pre_assess(new_learner("u1"), {"a": 1.0, "b": 1.0}, chain, PARAMS, NOW)
    shorter = preview_path(chain, knowing, PARAMS, NOW, "p")
    assert shorter.total_minutes < fresh.total_minutes
    assert shorter.milestones[0].complete_now


def test_a_pin_appears_first_and_then_the_path_moves_on(chain: Catalog) -> None:
    state = apply_override(
        new_learner("u1"), Override("pin", NOW, "teacher", lesson_id="https://l.example.org/b-easy")
    )
    preview = preview_path(chain, state, PARAMS, NOW, "p")
    assert preview.steps[0].lesson_id == "https://l.example.org/b-easy"
    assert preview.steps[1].lesson_id != "https://l.example.org/b-easy"
    assert preview.reaches_goal
