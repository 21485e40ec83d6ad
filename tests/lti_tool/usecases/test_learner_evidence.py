"""The chain at launch: statements in a real LRS (Learning Locker's statement service) move
the learner's mastery and path; voided statements stop counting; an LRS that does not
answer leaves the last known state, said to be old."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from lti_tool.storage.models import EvidenceRow, OutboxRow
from lti_tool.usecases import admin
from peers.browser import LaunchBrowser
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer, free_port
from tests.lti_tool.conftest import link
from tests.lti_tool.db import db
from tests.lti_tool.usecases.test_learner_path import api, import_example
from tests.peers.lrs_fixtures import LrsPeer, learning_locker  # noqa: F401

BASICS = "https://lessons.example.org/comm/basics-video"


def connect(tool: ToolServer, endpoint: str, username: str, password: str) -> None:
    admin.set_lrs(tool.app.extensions["skillpath"], endpoint, username, password)


def connect_lrs(tool: ToolServer, lrs: LrsPeer) -> None:
    """Connect Skillpath's default LRS to a peer LRS."""
    connect(tool, lrs.endpoint, lrs.username, lrs.password)


def example_with_lrs(tool: ToolServer, lrs: LrsPeer) -> None:
    """The example catalog imported and the default LRS connected to a peer LRS."""
    import_example(tool)
    connect_lrs(tool, lrs)


def passed(issuer: str, sub: str, lesson: str, scaled: float) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "account": {"homePage": issuer, "name": sub}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/passed", "display": {"en-US": "passed"}},
        "object": {"objectType": "Activity", "id": lesson},
        "result": {"score": {"scaled": scaled}, "success": scaled >= 0.6},
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


def basics(body: dict[str, Any]) -> float:
    return next(m["probability"] for m in body["mastery"] if m["competency_id"] == "comm.basics")


def test_lrs_statements_move_mastery_and_voids_undo_them(
    tool: ToolServer,
    platform: PlatformPeer,
    client_id: str,
    browser: LaunchBrowser,
    learning_locker: LrsPeer,  # noqa: F811
) -> None:
    example_with_lrs(tool, learning_locker)
    sub = "learner-" + uuid.uuid4().hex[:8]
    before = api(browser, browser.launch(link(platform, client_id, user=sub))).json()
    assert before["evidence"]["status"] == "fresh"

    lrs = learning_locker.client()
    statements = [passed(platform.issuer, sub, BASICS, 1.0) for _ in range(3)]
    for statement in statements:
        lrs.put_statement(statement, statement_id=statement["id"])
    after = api(browser, browser.launch(link(platform, client_id, user=sub))).json()
    assert basics(after) > basics(before) + 0.3

    voids = [
        {
            "id": str(uuid.uuid4()),
            "actor": statement["actor"],
            "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
            "object": {"objectType": "StatementRef", "id": statement["id"]},
        }
        for statement in statements
    ]
    for void in voids:
        lrs.put_statement(void, statement_id=void["id"])
    undone = api(browser, browser.launch(link(platform, client_id, user=sub))).json()
    assert basics(undone) == pytest.approx(basics(before))


def test_an_lrs_that_does_not_answer_leaves_the_last_state(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    import_example(tool)
    connect(tool, f"http://127.0.0.1:{free_port()}/xapi/", "user", "secret")
    page = browser.launch(link(platform, client_id))
    assert page.status_code == 200
    assert 'data-testid="evidence-stale"' in page.text
    body = api(browser, page).json()
    assert body["evidence"]["status"] == "stale"
    assert body["next"] is not None  # the page still works from what is known


def test_profile_is_served(tool: ToolServer) -> None:
    response = requests.get(tool.base_url + "/xapi/profile", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/ld+json")
    assert response.json()["type"] == "Profile"


def test_background_sync_files_evidence_incrementally(
    tool: ToolServer,
    platform: PlatformPeer,
    client_id: str,
    browser: LaunchBrowser,
    learning_locker: LrsPeer,  # noqa: F811
    cli: Any,
) -> None:
    example_with_lrs(tool, learning_locker)
    sub = "learner-" + uuid.uuid4().hex[:8]
    browser.launch(link(platform, client_id, user=sub))  # the learner is known from now on
    lrs = learning_locker.client()
    for _ in range(2):
        statement = passed(platform.issuer, sub, BASICS, 0.9)
        lrs.put_statement(statement, statement_id=statement["id"])
    stranger = passed(platform.issuer, "never-launched", BASICS, 0.9)
    lrs.put_statement(stranger, statement_id=stranger["id"])

    first = cli("sync", "--once")
    assert first.exit_code == 0, first.output
    assert "filed 2" in first.output
    services = tool.app.extensions["skillpath"]
    with db(services) as session:
        rows = session.scalar(
            select(func.count()).select_from(EvidenceRow).where(EvidenceRow.subject == sub)
        )
        strangers = session.scalar(
            select(func.count())
            .select_from(EvidenceRow)
            .where(EvidenceRow.subject == "never-launched")
        )
    assert (rows, strangers) == (2, 0)
    again = cli("sync", "--once")
    assert "filed 0" in again.output


def test_sync_without_an_lrs_says_so(cli: Any) -> None:
    cli("init")
    result = cli("sync", "--once")
    assert result.exit_code == 0 and "no LRS is connected" in result.output


def test_recommendations_reach_the_lrs_through_the_outbox(
    tool: ToolServer,
    platform: PlatformPeer,
    client_id: str,
    browser: LaunchBrowser,
    learning_locker: LrsPeer,  # noqa: F811
) -> None:
    from lti_tool.outbox.worker import worker_once

    example_with_lrs(tool, learning_locker)
    sub = "learner-" + uuid.uuid4().hex[:8]
    browser.launch(link(platform, client_id, user=sub))
    browser.launch(link(platform, client_id, user=sub))  # same recommendation: no new statement
    services = tool.app.extensions["skillpath"]
    with db(services) as session:
        items = session.scalars(select(OutboxRow).where(OutboxRow.kind == "xapi_statement")).all()
        statements = [item.payload["statement"] for item in items]
    assert len(statements) == 1
    assert statements[0]["actor"]["account"] == {"homePage": platform.issuer, "name": sub}
    report = worker_once(services)  # the statement, and the progress score for the gradebook
    assert report.delivered == report.claimed and report.failed == 0
    stored = learning_locker.client().get_statement(statements[0]["id"])
    assert stored["verb"]["id"] == statements[0]["verb"]["id"]
    assert stored["object"]["id"] == BASICS
