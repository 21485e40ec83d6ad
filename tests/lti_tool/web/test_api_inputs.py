"""The API refuses what it cannot keep, naming the field: NUL and lone surrogates in a body's
strings or in the path (a learner's `sub`), a `sub` longer than its column, a body nested
too deeply to read. Before, NUL in the path answered 500 on PostgreSQL, and a lone
surrogate in a note was stored and broke the pages that showed it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from lti_tool.storage import LaunchRecord

LESSON = "https://lessons.example.org/comm/basics-video"


def instructor(app: Flask) -> dict[str, str]:
    container = app.extensions["skillpath"]
    launch = LaunchRecord(
        id="launch-" + uuid.uuid4().hex,
        issuer="https://lms.example.edu",
        client_id="c-1",
        deployment_id="d-1",
        message_type="LtiResourceLinkRequest",
        subject="teacher-1",
        role="instructor",
        user_name="Grace Teacher",
        context_id="course-1",
        context_title="Support 101",
        resource_link_id="link-1",
        resource_link_title="Week 1",
        claims={},
        created_at=datetime.now(UTC),
    )
    with container.storage.transaction() as tx:
        tx.launches.add(launch)
    return {"Authorization": "Bearer " + container.sessions.issue(launch.id)}


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ('{"kind": "pin", "lesson_id": "https://l.example/\\u0000"}', "lesson_id", "NUL"),
        (
            '{"kind": "pin", "lesson_id": "https://l.example/x", "note": "\\ud800"}',
            "note",
            "lone surrogate",
        ),
        ('{"kind": "mark_mastered", "competency_id": "c\\udfff"}', "competency_id", "surrogate"),
        ('{"kind": "pin\\u0000"}', "kind", "NUL"),
    ],
)
def test_body_strings_that_cannot_be_kept_are_refused_naming_the_field(
    app: Flask, client: Any, body: str, field: str, says: str
) -> None:
    response = client.post(
        "/api/v1/course/learners/learner-1/overrides",
        data=body,
        headers={**instructor(app), "Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    answer = response.get_json()
    assert answer["code"] == "invalid_body"
    assert field in answer["errors"] and says in str(answer["errors"][field])


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/api/v1/course/learners/learner%00one/overrides", "subject holds a NUL character"),
        ("/api/v1/course/learners/" + "s" * 501 + "/path", "subject is longer than 500"),
    ],
)
def test_a_path_that_cannot_be_kept_is_refused_naming_it(
    app: Flask, client: Any, path: str, says: str
) -> None:
    for method in ("get", "post"):
        response = getattr(client, method)(path, headers=instructor(app), json={"kind": "pin"})
        if response.status_code == 405:
            continue
        assert response.status_code == 400, response.text
        assert response.get_json()["code"] == "invalid_input"
        assert response.get_json()["message"] == says or says in response.get_json()["message"]


def test_a_body_nested_too_deeply_is_refused(app: Flask, client: Any) -> None:
    response = client.post(
        "/api/v1/course/learners/learner-1/overrides",
        data="[" * 20_000 + "]" * 20_000,
        headers={**instructor(app), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_body"
