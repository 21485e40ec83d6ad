"""The goal rests on the learner's own latest word on every goal competency, the final checks
go to the least sure one, and the joint confidence has a margin (issue 13, goal checks)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from recommender import (
    Catalog,
    CompetencyState,
    LearnerState,
    LessonRecord,
    Observation,
    load_catalog,
    new_learner,
    recommend,
    update,
)
from recommender.goal import DONE_CONFIDENCE, DecisionView

from .conftest import NOW, PARAMS, later, lesson_doc, url


def goal_catalog(lessons: list[dict[str, Any]], comps: list[str], goal: list[str]) -> Catalog:
    return load_catalog(
        {
            "format": "skillpath-catalog/1",
            "competencies": [{"id": c, "name": c.upper()} for c in comps],
            "lessons": lessons,
            "pathways": [
                {
                    "id": "p",
                    "title": "P",
                    "goal": [{"competency": c, "level": 0.8} for c in goal],
                }
            ],
        }
    )


def part(comp: str, teaches: float, measures: float) -> dict[str, Any]:
    return {"id": comp, "weight": max(teaches, measures), "teaches": teaches, "measures": measures}


# "g" is the goal. g1 and g2 are mainly about it; x-teaches-g is mainly about "x", teaches g
# as a minor part, and its score measures x only.
MINOR = goal_catalog(
    [
        lesson_doc("x1", [("x", 1)]),
        {
            "id": url("x-teaches-g"),
            "title": "x-teaches-g",
            "duration_minutes": 5,
            "competencies": [part("x", 1.0, 1.0), part("g", 0.5, 0.0)],
        },
        lesson_doc("g1", [("g", 1)], difficulty=0.2),
        lesson_doc("g2", [("g", 1)], difficulty=0.9),
    ],
    ["x", "g"],
    ["g"],
)


def did(
    state: LearnerState,
    lesson: str,
    minutes: float,
    score: float | None,
    success: bool | None = None,
) -> LearnerState:
    return update(
        state,
        Observation("u1", url(lesson), later(minutes), score=score, success=success),
        MINOR,
        PARAMS,
    )


def confirmed_g() -> LearnerState:
    state = new_learner("u1")
    for i in range(30):
        state = did(state, "g1", i, 1.0, True)
    assert recommend(MINOR, state, PARAMS, later(31), "p").goal_reached
    return state


def test_the_goal_is_declared_on_a_recent_direct_pass() -> None:
    state = confirmed_g()
    view = DecisionView(MINOR, state, PARAMS, MINOR.pathway("p"), later(31))
    assert view.confirmed("g") and view.joint_confidence() >= DONE_CONFIDENCE


def test_teaching_since_the_last_direct_pass_takes_the_confirmation_away() -> None:
    # A failed lesson mainly about x teaches g a little: the model's belief in g moves on
    # that credit, not on anything the learner showed about g. The goal waits for a check.
    state = did(confirmed_g(), "x-teaches-g", 32, 0.0, False)
    assert state.competencies["g"].checked is not None  # g itself was not failed
    rec = recommend(MINOR, state, PARAMS, later(33), "p")
    assert not rec.goal_reached
    assert rec.competency_id == "g" and rec.lesson_id in {url("g1"), url("g2")}
    assert rec.reasons[0].code == "check"
    state = did(state, rec.lesson_id.rsplit("/", 1)[1], 34, 1.0, True)
    assert recommend(MINOR, state, PARAMS, later(35), "p").goal_reached


def test_an_unscored_lesson_that_teaches_it_takes_the_confirmation_away() -> None:
    state = did(confirmed_g(), "x-teaches-g", 32, None)
    assert not recommend(MINOR, state, PARAMS, later(33), "p").goal_reached


def test_a_passed_lesson_that_also_teaches_it_keeps_the_confirmation() -> None:
    # Otherwise two competencies whose lessons teach each other would take turns losing
    # their confirmation, and the final checks would never end.
    state = did(confirmed_g(), "x-teaches-g", 32, 1.0, True)
    assert recommend(MINOR, state, PARAMS, later(33), "p").goal_reached


def test_final_checks_go_to_the_least_sure_competency_first() -> None:
    cat = goal_catalog(
        [lesson_doc(f"{c}1", [(c, 1)]) for c in ("g", "h")],
        ["g", "h"],
        ["g", "h"],
    )
    # Both at their level, neither with direct evidence (no check since): h is less sure,
    # although g has had fewer attempts (the order before this change).
    g = CompetencyState(0.999, NOW, 36500.0, 1, 0, 1.0, url("g1"))
    h = CompetencyState(0.95, NOW, 36500.0, 6, 0, 1.0, url("h1"))
    state = replace(new_learner("u1"), competencies={"g": g, "h": h})
    rec = recommend(cat, state, PARAMS, NOW, "p")
    assert rec.competency_id == "h" and rec.reasons[0].code == "check"


def test_the_joint_confidence_keeps_a_margin_above_the_promise() -> None:
    # Five goal competencies, each with a fresh direct pass: all five at once at 0.975 is not
    # enough (the promise is at most one early declaration in twenty; the margin covers the
    # model's own error), at 0.985 it is.
    comps = [f"k{i}" for i in range(5)]
    cat = goal_catalog([lesson_doc(f"{c}-practice", [(c, 1)]) for c in comps], comps, comps)

    def known(p: float) -> LearnerState:
        return replace(
            new_learner("u1"),
            competencies={
                c: CompetencyState(p, NOW, 36500.0, 4, 0, 1.0, url(f"{c}-practice"), checked=NOW)
                for c in comps
            },
            lessons={url(f"{c}-practice"): LessonRecord(4, NOW, 1.0, True) for c in comps},
        )

    assert DONE_CONFIDENCE == 0.98
    assert not recommend(cat, known(0.995), PARAMS, NOW, "p").goal_reached  # 0.975 at once
    assert recommend(cat, known(0.997), PARAMS, NOW, "p").goal_reached  # 0.985 at once
