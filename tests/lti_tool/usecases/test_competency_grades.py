"""One gradebook column per competency, when the link asks for it (custom
`competency_grades=yes`): line items tagged with the competency and the pathway as resourceId,
created on the platform peer, each learner's mastery in whole percent, sent when it changes."""

from __future__ import annotations

import uuid

from lti_tool.outbox.worker import worker_once
from peers.browser import LaunchBrowser
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer
from tests.lti_tool.conftest import link
from tests.lti_tool.usecases.test_learner_evidence import BASICS, example_with_lrs, passed
from tests.lti_tool.usecases.test_learner_path import import_example
from tests.peers.lrs_fixtures import LrsPeer, learning_locker  # noqa: F401

COLUMNS = {"custom": {"competency_grades": "yes"}}


def test_competency_columns_show_each_learners_mastery(
    tool: ToolServer,
    platform: PlatformPeer,
    client_id: str,
    browser: LaunchBrowser,
    learning_locker: LrsPeer,  # noqa: F811
) -> None:
    example_with_lrs(tool, learning_locker)
    context = "course-" + uuid.uuid4().hex[:8]
    ada, bob = ("learner-" + uuid.uuid4().hex[:8] for _ in range(2))
    for statement in [passed(platform.issuer, ada, BASICS, 1.0) for _ in range(4)]:
        learning_locker.client().put_statement(statement, statement_id=statement["id"])
    for sub in (ada, bob, ada):  # ada's second launch changes nothing: nothing more is sent
        browser.launch(link(platform, client_id, user=sub, context_id=context, ags=True, **COLUMNS))
    services = tool.app.extensions["skillpath"]
    report = worker_once(services)
    assert report.failed == 0 and report.delivered == report.claimed

    items = platform.gradebook.line_items(context)
    by_tag = {item.get("tag"): item for item in items}
    assert set(by_tag) == {"skillpath-progress", "comm.basics", "comm.escalation"}
    basics = by_tag["comm.basics"]
    assert basics["resourceId"] == "support.onboarding"
    assert basics["scoreMaximum"] == 100
    assert basics["label"] == "Mastery: Customer communication basics"
    ada_scores = platform.gradebook.scores(basics["id"], ada)
    bob_scores = platform.gradebook.scores(basics["id"], bob)
    assert len(ada_scores) == 1 and len(bob_scores) == 1
    assert ada_scores[0]["scoreGiven"] > 80 > bob_scores[0]["scoreGiven"]
    assert ada_scores[0]["activityProgress"] == "Completed"
    assert bob_scores[0]["activityProgress"] == "InProgress"


def test_without_the_custom_parameter_only_progress_goes_to_the_gradebook(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    import_example(tool)
    context = "course-" + uuid.uuid4().hex[:8]
    browser.launch(link(platform, client_id, context_id=context, ags=True))
    worker_once(tool.app.extensions["skillpath"])
    assert [item.get("tag") for item in platform.gradebook.line_items(context)] == [
        "skillpath-progress"
    ]
