"""The statement builders and `validate_statement`, without an LRS (the LRSs' verdict on the
same statements is in test_statements_peers.py)."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from xapi.errors import StatementInvalid
from xapi.identity import IdentityPolicy, LearnerIdentity, learner_actor, learner_key
from xapi.statements import (
    StatementContext,
    competency_result,
    flagged_for_coach,
    launched,
    milestone_reached,
    override_applied,
    recommended,
    registration_for,
    validate_statement,
)
from xapi.vocabulary import PROFILE_VERSION_ID, Extensions

ISSUER = "https://lms.skillpath-tests.org"
NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
INSTRUCTOR = {"objectType": "Agent", "account": {"homePage": ISSUER, "name": "teacher-1"}}


def context(sub: str = "learner-1") -> StatementContext:
    learner = LearnerIdentity(ISSUER, sub)
    return StatementContext(
        base_url="http://127.0.0.1:5000",
        issuer=ISSUER,
        learner=learner_actor(learner, IdentityPolicy(ISSUER)),
        learner_key=learner_key(ISSUER, sub),
        pathway_id="support-agent",
        context_id="course 42",
        resource_link_id="link/7",
        context_title="Support onboarding",
    )


BUILDERS: dict[str, Callable[[StatementContext], dict[str, Any]]] = {
    "recommended": lambda c: recommended(
        c, "escalation-basics", "Escalation basics", ["prerequisite of your goal"], now=NOW
    ),
    "launched": lambda c: launched(c, "escalation-basics", "Escalation basics", now=NOW),
    "milestone_reached": lambda c: milestone_reached(c, "week-1", "First week", now=NOW),
    "competency_result": lambda c: competency_result(
        c, "escalation", "Escalation", 0.82, mastered=True, now=NOW
    ),
    "override_applied": lambda c: override_applied(
        c, INSTRUCTOR, "escalation-basics", "Escalation basics", "skip", "knows it", now=NOW
    ),
    "flagged_for_coach": lambda c: flagged_for_coach(
        c, "escalation", "Escalation", ["three failed attempts"], now=NOW
    ),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_builders_make_valid_statements_with_the_shared_context(name: str) -> None:
    statement = BUILDERS[name](context())
    validate_statement(statement)
    assert uuid.UUID(statement["id"])
    assert statement["timestamp"] == "2026-03-01T09:30:00.000Z"
    assert "version" not in statement
    ctx = statement["context"]
    assert ctx["registration"] == str(
        registration_for(learner_key(ISSUER, "learner-1"), "support-agent")
    )
    assert [a["id"] for a in ctx["contextActivities"]["category"]] == [PROFILE_VERSION_ID]
    assert ctx["contextActivities"]["parent"][0]["id"].endswith("/link%2F7")
    assert ctx["contextActivities"]["grouping"][0]["id"].endswith("/course%2042")


def test_registration_is_stable_per_learner_and_pathway() -> None:
    a = registration_for("iss|1", "p")
    assert a == registration_for("iss|1", "p")
    assert a != registration_for("iss|1", "q") != registration_for("iss|2", "p")


def test_recommended_carries_the_reasons_and_competency_the_estimate() -> None:
    rec = BUILDERS["recommended"](context())
    assert rec["result"]["extensions"][Extensions.REASONS] == ["prerequisite of your goal"]
    result = BUILDERS["competency_result"](context())["result"]
    assert result == {"score": {"scaled": 0.82}, "success": True}
    override = BUILDERS["override_applied"](context())
    assert override["actor"] == INSTRUCTOR
    assert override["context"]["extensions"][Extensions.LEARNER] == context().learner


def test_mastery_outside_the_unit_interval_is_refused() -> None:
    with pytest.raises(StatementInvalid):
        competency_result(context(), "c", "C", 1.2, now=NOW)


def test_naive_time_is_refused() -> None:
    with pytest.raises(StatementInvalid):
        launched(context(), "l", "L", now=datetime(2026, 1, 1))


def broken(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    statement = copy.deepcopy(BUILDERS["competency_result"](context()))
    change(statement)
    return statement


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s["result"]["score"].update(scaled=1.5), "outside [-1, 1]"),
        (lambda s: s["result"]["score"].update(scaled=-1.01), "outside [-1, 1]"),
        (lambda s: s["result"].update(score={"raw": 11, "min": 0, "max": 10}), "above max"),
        (lambda s: s["result"].update(score={"raw": -1, "min": 0, "max": 10}), "below min"),
        (lambda s: s["result"].update(score={"raw": 5, "min": 5, "max": 5}), "below max"),
        (lambda s: s["verb"].update(id="scored"), "absolute IRI"),
        (lambda s: s["object"].update(id="lessons/1"), "absolute IRI"),
        (lambda s: s["object"]["definition"].update(type="http:///no-host"), "absolute IRI"),
        (lambda s: s["result"].update(extensions={"reasons": []}), "absolute IRI"),
        (lambda s: s.update(timestamp="2026-03-01 09:30"), "ISO 8601"),
        (lambda s: s.update(timestamp="2026-03-01T09:30:00"), "time zone"),
        (lambda s: s["actor"].update(mbox="mailto:a@skillpath-tests.org"), "exactly one"),
        (lambda s: s["actor"].pop("account"), "exactly one"),
        (lambda s: s.update(id="not-a-uuid"), "UUID"),
        (lambda s: s["context"].update(registration="42"), "UUID"),
        (lambda s: s["result"].update(duration="5 minutes"), "duration"),
    ],
)
def test_validate_statement_rejects(change: Callable[[dict[str, Any]], None], message: str) -> None:
    with pytest.raises(StatementInvalid, match=message.replace("[", r"\[")):
        validate_statement(broken(change))


def test_validate_statement_accepts_the_edges() -> None:
    validate_statement(
        broken(lambda s: s["result"].update(score={"scaled": -1, "raw": 0, "min": 0, "max": 10}))
    )
    validate_statement(broken(lambda s: s["result"].update(duration="PT1H2M3.5S")))
