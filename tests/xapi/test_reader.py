"""`EvidenceReader` on statement values: scores, exposure, lesson mapping, dedupe, voiding,
malformed statements. Pure data: the same behaviour against real LRSs is in test_sync_peers.py.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.xapi.support import ISSUER, matcher, statement, voiding
from xapi.identity import learner_key
from xapi.reader import EvidenceReader

LESSON = "https://content.skillpath-tests.org/lessons/escalation"
OTHER = "https://content.skillpath-tests.org/lessons/other"


def read(*statements: Any, lessons: set[str] | None = None) -> EvidenceReader:
    reader = EvidenceReader(lessons or {LESSON}, matcher())
    reader.add_page(statements)
    return reader


@pytest.mark.parametrize(
    ("result", "score", "success"),
    [
        ({"score": {"scaled": 0.8}}, 0.8, None),
        ({"score": {"scaled": -0.4}}, 0.0, None),
        ({"score": {"raw": 15, "min": 10, "max": 20}, "success": True}, 0.5, True),
        ({"score": {"raw": 15}, "success": False}, 0.0, False),
        ({"success": True}, 1.0, True),
        ({"completion": True}, None, None),
    ],
)
def test_score_follows_the_catalog_format(
    result: dict[str, Any], score: float | None, success: bool | None
) -> None:
    [observation] = read(statement("u1", LESSON, result=result)).observations()
    assert (observation.score, observation.success) == (score, success)
    assert observation.learner_id == learner_key(ISSUER, "u1")


def test_exposure_has_no_score() -> None:
    [observation] = read(
        statement(
            "u1",
            LESSON,
            verb="http://adlnet.gov/expapi/verbs/experienced",
            result={"duration": "PT2M30S"},
        )
    ).observations()
    assert observation.is_exposure
    assert observation.duration_seconds == 150


def test_lessons_are_found_through_parent_and_grouping() -> None:
    body = statement(
        "u1",
        "https://content.skillpath-tests.org/questions/q1",
        success=True,
        context={"contextActivities": {"parent": [{"id": LESSON}], "grouping": {"id": OTHER}}},
    )
    found = read(body, lessons={LESSON, OTHER}).observations()
    assert sorted(o.lesson_id for o in found) == sorted([LESSON, OTHER])


def test_unknown_lessons_and_learners_are_unmatched_not_malformed() -> None:
    reader = read(
        statement("u1", OTHER),
        {
            **statement("u1", LESSON),
            "actor": {"account": {"homePage": "https://elsewhere.org", "name": "x"}},
        },
    )
    assert reader.observations() == []
    assert reader.counts.unmatched == 2 and reader.counts.skipped_malformed == 0


def test_duplicates_count_once() -> None:
    body = statement("u1", LESSON, success=True)
    reader = read(body, dict(body))
    assert len(reader.observations()) == 1
    assert reader.counts.duplicate == 1


def test_voiding_before_or_after_the_target() -> None:
    first, second = statement("u1", LESSON, success=True), statement("u1", LESSON, success=False)
    reader = read(voiding(first["id"], "u1"), first, second, voiding(second["id"], "u1"))
    assert reader.observations() == []
    assert reader.counts.voided == 2 and reader.counts.voiding == 2
    assert reader.voided_ids == {first["id"], second["id"]}


def test_malformed_statements_are_skipped_counted_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = statement("u1", LESSON, success=True)
    bad: list[Any] = [
        "not a statement",
        {**statement("u1", LESSON), "id": "nope"},
        statement("u1", LESSON, result={"score": {"scaled": 2}}),
        statement("u1", LESSON, result={"score": {"raw": 1, "min": 3, "max": 2}}),
        statement("u1", LESSON, result={"success": "yes"}),
        {**statement("u1", LESSON), "timestamp": "yesterday"},
        {**statement("u1", LESSON), "verb": {"id": "completed"}},
        {
            **statement("u1", LESSON),
            "actor": {"mbox": "mailto:a@b.org", "account": {"homePage": ISSUER, "name": "u1"}},
        },
    ]
    with caplog.at_level(logging.WARNING, logger="xapi.reader"):
        reader = read(bad[0], good, *bad[1:])
    assert [o.statement_id for o in reader.observations()] == [good["id"]]
    assert reader.counts.skipped_malformed == len(bad)
    assert reader.counts.read == len(bad) + 1
    assert bad[2]["id"] in caplog.text
