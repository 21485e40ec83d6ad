"""At-risk forecasts, cohort analytics and the equity audit on small hand-checked cohorts."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from recommender import (
    Catalog,
    ModelParams,
    Observation,
    Reason,
    Recommendation,
    at_risk,
    cohort_analytics,
    equity_audit,
    new_learner,
    pre_assess,
    start_pathway,
    update,
)

from .conftest import NOW

PARAMS = ModelParams.defaults()


def url(name: str) -> str:
    return f"https://l.example.org/{name}"


def test_a_learner_with_time_left_is_at_low_risk(chain: Catalog) -> None:
    state = start_pathway(new_learner("u1"), "p", NOW)
    risks = at_risk(chain, state, PARAMS, NOW, "p", minutes_per_day=60)
    assert [r.milestone_id for r in risks] == ["m1", "m2"]
    assert all(r.probability_of_missing < 0.2 for r in risks)
    assert risks[0].main_reason == "on_track"
    assert json.loads(json.dumps(risks[0].to_dict()))["milestone_id"] == "m1"


def test_an_inactive_learner_falls_behind_and_then_overdue(chain: Catalog) -> None:
    state = start_pathway(new_learner("u1"), "p", NOW)
    state = update(state, Observation("u1", url("a1"), NOW, score=1.0), chain, PARAMS)
    later = NOW + timedelta(days=5)  # 5 minutes in 5 days: 1 minute a day
    risks = at_risk(chain, state, PARAMS, later, "p")
    assert risks[0].pace_minutes_per_day == pytest.approx(1.0)
    assert risks[0].probability_of_missing > 0.9 and risks[0].main_reason == "behind_pace"
    overdue = at_risk(chain, state, PARAMS, NOW + timedelta(days=8), "p")
    assert overdue[0].probability_of_missing == 1.0 and overdue[0].main_reason == "overdue"


def test_a_complete_milestone_carries_no_risk(chain: Catalog) -> None:
    state = start_pathway(new_learner("u1"), "p", NOW)
    state = pre_assess(state, {"a": 1.0, "b": 1.0}, chain, PARAMS, NOW)
    risks = at_risk(chain, state, PARAMS, NOW, "p")
    assert risks[0].main_reason == "complete" and risks[0].probability_of_missing == 0.0


def cohort(chain: Catalog) -> list[Observation]:
    out = []
    for u in range(25):
        t = NOW + timedelta(days=u)
        out += [
            Observation(f"u{u}", url("a1"), t, score=0.0),
            Observation(f"u{u}", url("a1"), t + timedelta(minutes=10), score=1.0),
            Observation(f"u{u}", url("a1"), t + timedelta(minutes=20), score=1.0),
            Observation(f"u{u}", url("a1"), t + timedelta(minutes=30), score=1.0),
            # b-easy: everyone fails, before and after
            Observation(f"u{u}", url("b-easy"), t + timedelta(minutes=40), score=0.0),
            Observation(f"u{u}", url("b-easy"), t + timedelta(minutes=50), score=0.1),
        ]
    return out


def test_cohort_analytics_flags_the_lesson_that_does_not_work(chain: Catalog) -> None:
    report = cohort_analytics(chain, cohort(chain), PARAMS)
    a1, easy = report.lessons[url("a1")], report.lessons[url("b-easy")]
    assert a1.attempts == 100 and a1.learners == 25
    assert a1.struggle_rate == pytest.approx(0.25)
    assert a1.learning_gain is not None and a1.learning_gain > 0.1
    assert easy.struggle_rate == 1.0 and easy.learning_gain is not None
    assert easy.learning_gain < 0.01
    assert report.flagged_lessons == [url("b-easy")]
    assert set(easy.flag_reasons) == {"high_struggle", "no_learning_gain"}
    comp_a = report.competencies["a"]
    assert comp_a.learners == 25 and comp_a.proficient == 25
    assert comp_a.median_minutes_to_proficiency == pytest.approx(15.0)  # 3 x 5 minutes
    assert report.competencies["c"].median_minutes_to_proficiency is None
    json.dumps(report.to_dict())


def test_equity_audit_reports_disparity(chain: Catalog) -> None:
    hard = replace(chain.lesson(url("b1")), difficulty=0.8)
    chain.lessons[hard.id] = hard
    adv = Recommendation(url("b1"), (Reason("gap", "b", url("b1")),), "x")
    rem = Recommendation(url("b-easy"), (Reason("remediation", "b", url("b-easy")),), "y")
    records = [
        ("g1a", adv),
        ("g1a", adv),
        ("g1b", adv),
        ("g1b", rem),
        ("g2a", adv),
        ("g2a", rem),
        ("g2b", rem),
        ("g2b", rem),
    ]
    groups = {"g1a": "one", "g1b": "one", "g2a": "two", "g2b": "two"}
    reached = {"g1a": {"m1": True}, "g1b": {"m1": True}, "g2a": {"m1": True}, "g2b": {"m1": False}}
    report = equity_audit(chain, records, groups, reached)
    assert report.groups["one"].advanced_rate == 0.75
    assert report.groups["two"].advanced_rate == 0.25
    assert report.groups["two"].remedial_rate == 0.75
    assert report.disparity["advanced_rate"] == {"one": 1.0, "two": pytest.approx(1 / 3)}
    assert report.disparity["milestone_rate"]["two"] == 0.5
    assert set(report.flags) == {"advanced_rate", "remedial_rate", "milestone_rate"}
    json.dumps(report.to_dict())


def test_equity_audit_without_groups_has_nothing_to_compare(chain: Catalog) -> None:
    rec = Recommendation(url("a1"), (Reason("gap", "a", url("a1")),), "x")
    report = equity_audit(chain, [("u1", rec)])
    assert list(report.groups) == ["(unknown)"] and report.flags == ()


def test_with_history_the_learners_own_rate_drives_the_forecast(chain: Catalog) -> None:
    fast = start_pathway(new_learner("u1"), "p", NOW)
    for i in range(8):  # 40 minutes of steady success on a
        fast = update(
            fast, Observation("u1", url("a1"), NOW + timedelta(hours=i), score=1.0), chain, PARAMS
        )
    slow = start_pathway(new_learner("u2"), "p", NOW)
    for i in range(8):  # 40 minutes of failing
        slow = update(
            slow, Observation("u2", url("a1"), NOW + timedelta(hours=i), score=0.0), chain, PARAMS
        )
    later = NOW + timedelta(days=3)
    fast_risk = at_risk(chain, fast, PARAMS, later, "p")[0]
    slow_risk = at_risk(chain, slow, PARAMS, later, "p")[0]
    assert fast_risk.pace_minutes_per_day == slow_risk.pace_minutes_per_day
    assert slow_risk.probability_of_missing > fast_risk.probability_of_missing
    assert 0.0 <= fast_risk.probability_of_missing <= 1.0
