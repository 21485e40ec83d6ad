"""The path policy: prerequisites, milestones, remediation, skip, review, preferences, overrides."""

from __future__ import annotations

from datetime import datetime, timedelta

from recommender import (
    Catalog,
    LearnerState,
    Observation,
    Override,
    Preferences,
    apply_override,
    new_learner,
    pre_assess,
    recommend,
    update,
    withdraw_override,
)
from recommender.policy import STUCK_CHANCE

from .conftest import NOW, PARAMS, url


def knows(chain: Catalog, *comps: str, at: datetime = NOW) -> LearnerState:
    return pre_assess(new_learner("u1"), dict.fromkeys(comps, 1.0), chain, PARAMS, at)


def did(
    state: LearnerState, chain: Catalog, lesson: str, score: float | None, at: datetime = NOW
) -> LearnerState:
    return update(state, Observation("u1", url(lesson), at, score=score), chain, PARAMS)


def codes(rec: object) -> list[str]:
    return [r.code for r in rec.reasons]  # type: ignore[attr-defined]


def test_a_new_learner_starts_where_nothing_is_required(chain: Catalog) -> None:
    rec = recommend(chain, new_learner("u1"), PARAMS, NOW, "p")
    assert rec.lesson_id == url("a1")
    assert codes(rec) == ["gap", "unlocks"]
    assert rec.reasons[0].competency_id == "a" and rec.reasons[1].competency_id == "b"
    assert rec.sentence == '"a1" closes your gap on A. It unlocks B.'


def test_requires_are_respected_and_milestones_come_in_order(chain: Catalog) -> None:
    rec = recommend(chain, knows(chain, "a"), PARAMS, NOW, "p")
    lesson = chain.lesson(rec.lesson_id or "")
    assert lesson.competencies[0].id == "b"  # milestone m1 (b) before c and d


def test_a_low_score_inserts_an_easier_or_alternative_lesson(chain: Catalog) -> None:
    state = did(knows(chain, "a"), chain, "b1", 0.3)
    rec = recommend(chain, state, PARAMS, NOW, "p")
    assert rec.lesson_id == url("b1-video")  # the alternative of b1 first
    assert codes(rec)[0] == "remediation"
    assert rec.reasons[0].detail["score"] == 0.3
    state = did(state, chain, "b1-video", 0.3, NOW + timedelta(minutes=5))
    later = recommend(chain, state, PARAMS, NOW + timedelta(minutes=6), "p")
    # b1 is the alternative of the failed b1-video, but was just failed: the easier one
    assert later.lesson_id == url("b-easy") and codes(later)[0] == "remediation"
    state = did(state, chain, "b-easy", 0.3, NOW + timedelta(minutes=10))
    last = recommend(chain, state, PARAMS, NOW + timedelta(minutes=11), "p")
    assert last.lesson_id not in {url("b-easy")}


def test_remediation_goes_back_to_prerequisites_when_nothing_easier_remains(chain: Catalog) -> None:
    state = knows(chain, "b")  # b is mastered, a (two hops back from c) is not
    state = did(state, chain, "c1", 0.1)
    rec = recommend(chain, state, PARAMS, NOW, "p")
    # Remediation on c: bc-mixed has no lower difficulty and c1 was the only c-only lesson,
    # so the policy goes back to c's prerequisite that is not mastered.
    assert codes(rec) == ["remediation", "prerequisite"]
    assert rec.reasons[0].competency_id == "c" and rec.reasons[1].competency_id == "a"
    assert rec.lesson_id == url("a1")


def test_remediation_does_not_reteach_prerequisites_the_learner_masters(chain: Catalog) -> None:
    state = did(knows(chain, "a", "b"), chain, "c1", 0.1)
    rec = recommend(chain, state, PARAMS, NOW, "p")
    # Nothing easier on c and both prerequisites mastered: the failure is c's, so the
    # policy keeps working on c rather than re-teaching a or b.
    assert codes(rec)[0] == "gap" and rec.competency_id == "c"


def test_a_pre_assessment_score_at_or_above_skip_threshold_skips(chain: Catalog) -> None:
    state = pre_assess(
        new_learner("u1"), {"a": 1.0, "b": 1.0, "c": 1.0, "d": 0.92}, chain, PARAMS, NOW
    )
    assert state.competencies["d"].p < 0.8  # the model alone would not call it mastered
    rec = recommend(chain, state, PARAMS, NOW, "p")
    assert rec.goal_reached and rec.lesson_id is None
    assert codes(rec) == ["goal_reached"]
    below = pre_assess(
        new_learner("u1"), {"a": 1.0, "b": 1.0, "c": 1.0, "d": 0.85}, chain, PARAMS, NOW
    )
    assert not recommend(chain, below, PARAMS, NOW, "p").goal_reached


def test_one_lucky_assessment_item_does_not_skip(chain: Catalog) -> None:
    state = did(knows(chain, "a", "b", "c"), chain, "d-check", 1.0)
    assert not recommend(chain, state, PARAMS, NOW, "p").goal_reached


def test_critical_competency_is_only_reached_through_an_assessment(chain: Catalog) -> None:
    state = knows(chain, "a", "b", "c")
    for i in range(30):
        state = did(state, chain, "d1", 1.0, NOW + timedelta(minutes=i))
    rec = recommend(chain, state, PARAMS, NOW + timedelta(hours=1), "p")
    assert rec.lesson_id == url("d-check")
    assert codes(rec)[0] == "critical_assessment"


def test_review_is_due_when_predicted_recall_falls(chain: Catalog) -> None:
    state = knows(chain, "a")
    rec = recommend(chain, state, PARAMS, NOW + timedelta(days=200), "p")
    assert codes(rec)[0] == "review_due"
    assert rec.reasons[0].competency_id == "a"
    assert rec.reasons[0].detail["recall"] < PARAMS.review_recall


def test_format_preference_and_alternatives(chain: Catalog) -> None:
    state = knows(chain, "a")
    plain = recommend(chain, state, PARAMS, NOW, "p")
    assert plain.lesson_id == url("b1") and url("b1-video") in plain.alternatives
    video = recommend(chain, state, PARAMS, NOW, "p", Preferences(format="video"))
    assert video.lesson_id == url("b1-video")
    assert url("b1") in video.alternatives
    assert "format_preference" in codes(video)


def test_time_budget(chain: Catalog) -> None:
    state = knows(chain, "a")
    assert (
        recommend(chain, state, PARAMS, NOW, "p", Preferences(minutes=3)).reasons[0].code
        == "over_budget"
    )
    fits = recommend(chain, state, PARAMS, NOW, "p", Preferences(minutes=6))
    assert chain.lesson(fits.lesson_id or "").duration_minutes <= 6


def test_overrides_win_and_are_recorded(chain: Catalog) -> None:
    state = new_learner("u1")
    pinned = apply_override(
        state, Override("pin", NOW, "teacher", lesson_id=url("c1"), note="do this first")
    )
    rec = recommend(chain, pinned, PARAMS, NOW, "p")
    assert rec.lesson_id == url("c1") and codes(rec) == ["pinned_by_instructor"]
    assert pinned.overrides[-1].note == "do this first"
    unpinned = withdraw_override(pinned, "pin", url("c1"), "teacher", NOW)
    assert recommend(chain, unpinned, PARAMS, NOW, "p").lesson_id == url("a1")
    assert len(unpinned.overrides) == 1 and not unpinned.overrides[0].active

    assigned = apply_override(state, Override("assign", NOW, "teacher", lesson_id=url("b-easy")))
    assert recommend(chain, assigned, PARAMS, NOW, "p").lesson_id == url("b-easy")
    after = did(assigned, chain, "b-easy", 0.9, NOW + timedelta(minutes=5))
    assert recommend(chain, after, PARAMS, NOW, "p").lesson_id != url("b-easy")

    skipped = apply_override(state, Override("skip", NOW, "teacher", lesson_id=url("a1")))
    assert recommend(chain, skipped, PARAMS, NOW, "p").lesson_id != url("a1")

    marked = apply_override(
        state,
        Override(
            "mark_mastered", NOW, "teacher", competency_id="a", note="showed it in the workshop"
        ),
    )
    rec = recommend(chain, marked, PARAMS, NOW, "p")
    assert chain.lesson(rec.lesson_id or "").competencies[0].id == "b"


def test_failures_beyond_what_learning_explains_send_the_learner_back_to_prerequisites(
    chain: Catalog,
) -> None:
    state = knows(chain, "a")  # a at 0.82: mastered, not solidly
    for i, lesson in enumerate(["b1", "b1-video", "b-easy"]):
        state = did(state, chain, lesson, 0.1, NOW + timedelta(minutes=i))
    assert "b" in state.coach_flags  # flagged for a coach after three failures in a row
    # Three failures are what learning something new looks like (the model gave them a 36%
    # chance): the learner stays on b, with another lesson than the one just failed.
    assert state.competencies["b"].run_chance > STUCK_CHANCE
    rec = recommend(chain, state, PARAMS, NOW + timedelta(hours=1), "p")
    assert rec.competency_id == "b" and rec.lesson_id != url("b-easy")
    minutes = 3
    while state.competencies["b"].run_chance >= STUCK_CHANCE:
        rec = recommend(chain, state, PARAMS, NOW + timedelta(minutes=minutes), "p")
        assert rec.competency_id == "b" and rec.lesson_id is not None
        state = did(
            state, chain, rec.lesson_id.rsplit("/", 1)[1], 0.1, NOW + timedelta(minutes=minutes)
        )
        minutes += 1
    assert minutes > 5  # more than three failures
    # Now stuck: back to the prerequisite that is not solidly known.
    rec = recommend(chain, state, PARAMS, NOW + timedelta(hours=3), "p")
    assert rec.lesson_id == url("a1")
    assert codes(rec) == ["remediation", "prerequisite"]
    assert rec.reasons[0].competency_id == "b" and rec.reasons[0].detail == {"stuck": True}
    for i in range(4):
        state = did(state, chain, "a1", 1.0, NOW + timedelta(hours=3, minutes=i))
    # a solid now: b again, still flagged for the coach
    rec = recommend(chain, state, PARAMS, NOW + timedelta(hours=4), "p")
    assert rec.competency_id == "b" and "b" in state.coach_flags


# ---- learning before confirming; checks are practice; the whole goal at once ------------


def _goal_catalog(n: int, lessons: list[dict[str, object]] | None = None) -> Catalog:
    from recommender import load_catalog

    from .conftest import lesson_doc

    comps = [f"k{i:03d}" if n > 100 else f"k{i:02d}" for i in range(n)]
    docs = lessons or [
        doc
        for c in comps
        for doc in (
            lesson_doc(f"{c}-practice", [(c, 1)], kind="practice"),
            lesson_doc(f"{c}-check", [(c, 1)], kind="assessment"),
        )
    ]
    return load_catalog(
        {
            "format": "skillpath-catalog/1",
            "competencies": [{"id": c, "name": c.upper()} for c in comps],
            "lessons": docs,
            "pathways": [
                {"id": "p", "title": "P", "goal": [{"competency": c, "level": 0.95} for c in comps]}
            ],
        }
    )


def _known(cat: Catalog, p: dict[str, float], at: datetime = NOW) -> LearnerState:
    from dataclasses import replace

    from recommender import CompetencyState, LessonRecord

    comps = {
        c: CompetencyState(q, at, 36500.0, 4, 0, 1.0, url(f"{c}-practice"), checked=at)
        for c, q in p.items()
    }
    lessons = {url(f"{c}-practice"): LessonRecord(4, at, 1.0, True) for c in p}
    return replace(new_learner("u1"), competencies=comps, lessons=lessons)


def test_learning_comes_before_confirming_what_is_probably_known() -> None:
    # The first five are probably known (0.9, checked two days ago); the rest is new.
    cat = _goal_catalog(8)
    state = _known(cat, {f"k{i:02d}": 0.9 for i in range(5)}, NOW - timedelta(days=2))
    rec = recommend(cat, state, PARAMS, NOW, "p")
    assert rec.competency_id in {"k05", "k06", "k07"} and codes(rec)[0] == "gap"


def test_goal_checks_are_practice_on_the_competency_least_sure() -> None:
    cat = _goal_catalog(3)
    state = _known(cat, {"k00": 0.975, "k01": 0.97, "k02": 0.999})
    rec = recommend(cat, state, PARAMS, NOW, "p")
    assert not rec.goal_reached  # each at its level 0.95, all three at once 0.945
    assert codes(rec)[0] == "check" and rec.competency_id == "k01"
    assert rec.lesson_id == url("k01-practice")  # a lesson that teaches, not the test


def test_the_goal_needs_every_goal_competency_at_once() -> None:
    # 150 goal competencies at 0.9995 each, each with a fresh direct pass: each one alone is
    # almost certain (and would survive two more failures), all of them at once only 0.93.
    cat = _goal_catalog(150)
    state = _known(cat, {f"k{i:03d}": 0.9995 for i in range(150)})
    rec = recommend(cat, state, PARAMS, NOW, "p")
    assert not rec.goal_reached and codes(rec)[0] == "check"
    sure = _known(cat, {f"k{i:03d}": 0.9999 for i in range(150)})
    assert recommend(cat, sure, PARAMS, NOW, "p").goal_reached  # 0.9999 ** 150 = 0.985


def test_a_probably_known_prerequisite_does_not_hold_the_next_competency_back() -> None:
    from dataclasses import replace

    from recommender import CompetencyState, load_catalog

    from .conftest import lesson_doc

    cat = load_catalog(
        {
            "format": "skillpath-catalog/1",
            "competencies": [
                {"id": "a", "name": "A"},
                {"id": "b", "name": "B", "prerequisites": ["a"]},
            ],
            "lessons": [lesson_doc("a1", [("a", 1)]), lesson_doc("b1", [("b", 1)])],
            "pathways": [{"id": "p", "title": "P", "goal": [{"competency": "b", "level": 0.9}]}],
        }
    )
    # a at 0.7: below its mastery threshold (0.8), but more likely known than not, and b has
    # more to gain from a lesson.
    state = replace(new_learner("u1"), competencies={"a": CompetencyState(0.7, NOW, 36500.0)})
    rec = recommend(cat, state, PARAMS, NOW, "p")
    assert rec.competency_id == "b" and rec.lesson_id == url("b1")
    shaky = replace(state, competencies={"a": CompetencyState(0.3, NOW, 36500.0)})
    assert recommend(cat, shaky, PARAMS, NOW, "p").competency_id == "a"
