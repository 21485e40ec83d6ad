"""The instructor's class view (page and `GET /api/v1/course/learners`), from real launches
and a real LRS: who is stuck (flagged for a coach), who is at risk of missing a milestone and
why, each learner's progress; only the instructor's own course."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import requests
from sqlalchemy import select

from lti_tool.storage.models import LearnerPageRow, LearnerRow
from peers.browser import LaunchBrowser
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer
from tests.lti_tool.conftest import link
from tests.lti_tool.db import db
from tests.lti_tool.usecases.test_learner_evidence import BASICS, example_with_lrs, passed
from tests.lti_tool.usecases.test_learner_path import import_example
from tests.lti_tool.usecases.test_overrides import Instructor, teacher
from tests.peers.lrs_fixtures import LrsPeer, learning_locker  # noqa: F401


def class_list(grace: Instructor) -> Any:
    response = requests.get(
        grace.base.rstrip("/"), headers={"Authorization": f"Bearer {grace.token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()["learners"]


def test_stuck_and_at_risk_learners_come_first_with_the_reason(
    tool: ToolServer,
    platform: PlatformPeer,
    client_id: str,
    browser: LaunchBrowser,
    learning_locker: LrsPeer,  # noqa: F811
) -> None:
    example_with_lrs(tool, learning_locker)
    fine, stuck, late = ("learner-" + uuid.uuid4().hex[:8] for _ in range(3))
    client = learning_locker.client()
    for statement in [passed(platform.issuer, stuck, BASICS, 0.05) for _ in range(3)]:
        client.put_statement(statement, statement_id=statement["id"])
    for sub in (fine, stuck, late):
        browser.launch(link(platform, client_id, user=sub))
    # `late` started the pathway three weeks ago: milestone m1 (due after 14 days) is overdue.
    services = tool.app.extensions["skillpath"]
    with db(services) as session:
        row = session.scalars(select(LearnerRow).where(LearnerRow.subject == late)).one()
        weeks_ago = row.first_launch_at - timedelta(days=21)
        row.first_launch_at = weeks_ago
        row.state = {**row.state, "started": {row.pathway_id: weeks_ago.isoformat()}}
        # The class view reads stored summaries: an old one is recomputed from the state.
        page = session.get(LearnerPageRow, row.id)
        page.computed_at = page.computed_at - timedelta(days=2)

    grace = teacher(browser, platform, client_id)
    rows = class_list(grace)
    assert [r["subject"] for r in rows][:2] == [stuck, late]
    assert rows[0]["stuck_on"] == ["Customer communication basics"]
    overdue = rows[1]["risks"][0]
    assert rows[1]["at_risk"] and overdue["milestone_id"] == "m1"
    assert overdue["probability_of_missing"] == 1.0 and overdue["main_reason"] == "overdue"
    assert rows[2]["subject"] == fine and not rows[2]["stuck_on"] and not rows[2]["at_risk"]

    page = browser.launch(link(platform, client_id, user="teacher-1", roles="instructor"))
    assert 'data-testid="class-progress"' in page.text
    assert "stuck on Customer communication basics" in page.text
    assert "at risk of missing “Writes clear escalations”" in page.text
    assert "overdue" in page.text


def test_the_class_view_is_the_instructors_own_course_only(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    import_example(tool)
    sub = "learner-" + uuid.uuid4().hex[:8]
    learner_page = browser.launch(link(platform, client_id, user=sub))
    assert class_list(teacher(browser, platform, client_id))[0]["subject"] == sub
    other = teacher(browser, platform, client_id, context_id="course-other")
    assert class_list(other) == []
    page = browser.launch(
        link(platform, client_id, user="t2", roles="instructor", context_id="course-other")
    )
    assert 'data-testid="no-learners"' in page.text
    as_learner = Instructor(learner_page)
    response = requests.get(
        as_learner.base.rstrip("/"),
        headers={"Authorization": f"Bearer {as_learner.token}"},
        timeout=10,
    )
    assert response.status_code == 403


def test_an_instructor_previews_a_learners_path_as_the_learner_sees_it(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    from tests.lti_tool.usecases.test_learner_path import api

    import_example(tool)
    sub = "learner-" + uuid.uuid4().hex[:8]
    own = api(browser, browser.launch(link(platform, client_id, user=sub))).json()
    grace = teacher(browser, platform, client_id)

    def preview(who: Instructor, subject: str) -> requests.Response:
        return requests.get(
            f"{who.base}{subject}/path",
            headers={"Authorization": f"Bearer {who.token}"},
            timeout=10,
        )

    seen = preview(grace, sub)
    assert seen.status_code == 200, seen.text
    [pathway] = seen.json()["pathways"]
    assert pathway["view"]["recommendation"]["lesson_id"] == own["next"]["lesson_id"]
    assert pathway["view"]["milestones"] and pathway["view"]["mastery"]
    assert preview(grace, "nobody-here").status_code == 404
    other = teacher(browser, platform, client_id, context_id="course-other")
    assert preview(other, sub).status_code == 404
