"""Skillpath's own statements after launches, delivered through the outbox to a real LRS
(Learning Locker's statement service): recommended, launched, competency result, milestone
reached, flagged for a coach; each once per change. And the identity each registration uses."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import select

from lti_tool.outbox.worker import worker_once
from lti_tool.storage import Tenant
from lti_tool.storage.models import LearnerRow, OutboxRow
from lti_tool.usecases import admin
from lti_tool.usecases.reporting import Reported
from peers.browser import LaunchBrowser
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer
from tests.lti_tool.conftest import link
from tests.lti_tool.db import db
from tests.lti_tool.usecases.test_learner_evidence import (
    BASICS,
    connect_lrs,
    example_with_lrs,
    passed,
)
from tests.lti_tool.usecases.test_learner_path import api
from tests.peers.lrs_fixtures import LrsPeer, learning_locker  # noqa: F401

SCENARIO = "https://lessons.example.org/comm/escalation-scenario"
CHECK = "https://lessons.example.org/comm/escalation-check"
VERB = "https://w3id.org/xapi/skillpath/verbs/"


def queued(tool: ToolServer) -> list[dict[str, Any]]:
    """Every statement in the outbox, oldest first."""
    with db(tool.app.extensions["skillpath"]) as session:
        items = session.scalars(
            select(OutboxRow).where(OutboxRow.kind == "xapi_statement").order_by(OutboxRow.id)
        ).all()
        return [item.payload["statement"] for item in items]


def verbs(statements: list[dict[str, Any]]) -> list[str]:
    return [s["verb"]["display"]["en-US"] for s in statements]


def record(lrs: LrsPeer, statements: list[dict[str, Any]]) -> None:
    client = lrs.client()
    for statement in statements:
        client.put_statement(statement, statement_id=statement["id"])


def test_mastery_and_milestones_are_reported_once_each_and_the_lrs_stores_them(
    tool: ToolServer,
    platform: PlatformPeer,
    client_id: str,
    browser: LaunchBrowser,
    learning_locker: LrsPeer,  # noqa: F811
) -> None:
    example_with_lrs(tool, learning_locker)
    sub = "learner-" + uuid.uuid4().hex[:8]
    browser.launch(link(platform, client_id, user=sub))
    assert verbs(queued(tool)) == ["recommended"]

    # The learner masters both competencies, the assessment included: milestone m1 is reached.
    record(
        learning_locker,
        [passed(platform.issuer, sub, lesson, 1.0) for lesson in (BASICS, SCENARIO, CHECK) * 4],
    )
    body = api(browser, browser.launch(link(platform, client_id, user=sub))).json()
    assert all(m["mastered"] for m in body["mastery"]), body["mastery"]
    statements = queued(tool)
    new = statements[1:]
    assert sorted(verbs(new)) == ["satisfied", "scored", "scored"], verbs(new)
    scored = [s for s in new if s["verb"]["display"]["en-US"] == "scored"]
    assert {s["object"]["id"].rsplit("/", 1)[1] for s in scored} == {
        "comm.basics",
        "comm.escalation",
    }
    for statement in scored:
        assert 0.0 <= statement["result"]["score"]["scaled"] <= 1.0
        assert statement["result"]["success"] is True
    milestone = next(s for s in new if s["verb"]["display"]["en-US"] == "satisfied")
    assert milestone["object"]["id"].endswith("/milestone/m1")
    assert milestone["context"]["registration"] == scored[0]["context"]["registration"]

    browser.launch(link(platform, client_id, user=sub))  # nothing changed: nothing new
    assert len(queued(tool)) == len(statements)

    services = tool.app.extensions["skillpath"]
    report = worker_once(services)
    assert report.failed == 0 and report.delivered == report.claimed
    client = learning_locker.client()
    for statement in statements:
        stored = client.get_statement(statement["id"])
        assert stored["verb"]["id"] == statement["verb"]["id"]


def test_three_failures_flag_the_learner_for_a_coach_once(
    tool: ToolServer,
    platform: PlatformPeer,
    client_id: str,
    browser: LaunchBrowser,
    learning_locker: LrsPeer,  # noqa: F811
) -> None:
    example_with_lrs(tool, learning_locker)
    sub = "learner-" + uuid.uuid4().hex[:8]
    record(learning_locker, [passed(platform.issuer, sub, BASICS, 0.05) for _ in range(3)])
    browser.launch(link(platform, client_id, user=sub))
    browser.launch(link(platform, client_id, user=sub))
    flagged = [s for s in queued(tool) if s["verb"]["display"]["en-US"] == "flagged for a coach"]
    assert len(flagged) == 1
    assert flagged[0]["object"]["id"].endswith("/competency/comm.basics")
    assert worker_once(tool.app.extensions["skillpath"]).failed == 0
    stored = learning_locker.client().get_statement(flagged[0]["id"])
    assert stored["object"]["id"] == flagged[0]["object"]["id"]


def test_opening_the_next_lesson_sends_launched_and_goes_to_the_lesson(
    tool: ToolServer,
    platform: PlatformPeer,
    client_id: str,
    browser: LaunchBrowser,
    learning_locker: LrsPeer,  # noqa: F811
) -> None:
    from tests.lti_tool.usecases.test_learner_path import EXAMPLE

    document = json.loads(EXAMPLE.read_text())
    document["lessons"][0]["url"] = "https://content.example.org/basics?from=skillpath"
    admin.import_catalog(tool.app.extensions["skillpath"], document)
    connect_lrs(tool, learning_locker)
    sub = "learner-" + uuid.uuid4().hex[:8]
    page = browser.launch(link(platform, client_id, user=sub))
    href = page.text.split('data-testid="open-lesson"')[0].rsplit('href="', 1)[1].split('"')[0]
    target = tool.base_url + href.replace("&amp;", "&")
    opened = requests.get(target, allow_redirects=False, timeout=10)
    assert opened.status_code == 303
    assert opened.headers["Location"] == "https://content.example.org/basics?from=skillpath"
    assert opened.headers["Referrer-Policy"] == "no-referrer"
    launched = [s for s in queued(tool) if s["verb"]["display"]["en-US"] == "launched"]
    assert len(launched) == 1 and launched[0]["object"]["id"] == BASICS

    unknown = requests.get(
        target.replace("lesson=", "lesson=https%3A%2F%2Felsewhere.example%2F"),
        allow_redirects=False,
        timeout=10,
    )
    assert unknown.status_code == 404
    assert "not in your course" in unknown.text
    other = requests.get(target.split("&t=")[0].split("?t=")[0], allow_redirects=False, timeout=10)
    assert other.status_code in (401, 403)  # no session: no redirect, no statement


def test_a_registration_that_names_learners_by_mbox_reads_and_writes_mbox(
    tool: ToolServer,
    platform: PlatformPeer,
    client_id: str,
    browser: LaunchBrowser,
    learning_locker: LrsPeer,  # noqa: F811
    cli: Callable[..., Any],
) -> None:
    example_with_lrs(tool, learning_locker)
    result = cli(
        "lrs", "identity", "--issuer", platform.issuer, "--client-id", client_id, "--mode", "mbox"
    )
    assert result.exit_code == 0, result.output
    sub = "learner-" + uuid.uuid4().hex[:8]
    email = f"{sub}@example.org"
    by_mail = []
    for _ in range(3):
        statement = passed(platform.issuer, sub, BASICS, 1.0)
        statement["actor"] = {"objectType": "Agent", "mbox": f"mailto:{email}"}
        by_mail.append(statement)
    record(learning_locker, by_mail)

    body = api(browser, browser.launch(link(platform, client_id, user=sub, email=email))).json()
    basics = next(m for m in body["mastery"] if m["competency_id"] == "comm.basics")
    assert basics["probability"] > 0.8  # the content's mailbox statements counted
    written = queued(tool)
    assert written and all(
        s["actor"] == {"objectType": "Agent", "mbox": f"mailto:{email}"} for s in written
    )

    # The background sync files later mailbox statements under the same learner.
    later = passed(platform.issuer, sub, SCENARIO, 0.9)
    later["actor"] = {"objectType": "Agent", "mbox": f"mailto:{email.upper()}"}
    record(learning_locker, [later])
    synced = cli("sync", "--once")
    assert "filed 1" in synced.output, synced.output

    with db(tool.app.extensions["skillpath"]) as session:
        kept = session.scalars(select(LearnerRow.email).where(LearnerRow.subject == sub))
        assert set(kept) == {email}
    # Back to the default identity: the emails kept for mailbox naming are dropped.
    back = cli(
        "lrs",
        "identity",
        "--issuer",
        platform.issuer,
        "--client-id",
        client_id,
        "--mode",
        "account",
    )
    assert back.exit_code == 0, back.output
    with db(tool.app.extensions["skillpath"]) as session:
        rows = session.scalars(select(LearnerRow).where(LearnerRow.subject == sub)).all()
        assert rows and all(row.email is None for row in rows)


def test_a_mapped_account_reads_the_other_systems_names(
    tool: ToolServer,
    platform: PlatformPeer,
    client_id: str,
    browser: LaunchBrowser,
    learning_locker: LrsPeer,  # noqa: F811
    cli: Callable[..., Any],
    tmp_path: Path,
) -> None:
    example_with_lrs(tool, learning_locker)
    sub = "learner-" + uuid.uuid4().hex[:8]
    mapping = tmp_path / "people.csv"
    mapping.write_text(f"sub,account_name\n{sub},emp-4711\nsomeone,emp-1\n", encoding="utf-8")
    hr = "https://hr.example.org"
    result = cli(
        "lrs", "identity", "--issuer", platform.issuer, "--client-id", client_id,
        "--mode", "mapped_account", "--home-page", hr, "--mapping", str(mapping),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 mapped" in result.output
    theirs = []
    for _ in range(3):
        statement = passed(platform.issuer, sub, BASICS, 1.0)
        statement["actor"] = {
            "objectType": "Agent",
            "account": {"homePage": hr, "name": "emp-4711"},
        }
        theirs.append(statement)
    record(learning_locker, theirs)
    body = api(browser, browser.launch(link(platform, client_id, user=sub))).json()
    assert next(m for m in body["mastery"] if m["competency_id"] == "comm.basics")["mastered"]
    assert all(s["actor"]["account"] == {"homePage": hr, "name": "emp-4711"} for s in queued(tool))


def test_mbox_mode_without_an_email_falls_back_to_the_account(
    tool: ToolServer,
    platform: PlatformPeer,
    client_id: str,
    browser: LaunchBrowser,
    learning_locker: LrsPeer,  # noqa: F811
) -> None:
    example_with_lrs(tool, learning_locker)
    services = tool.app.extensions["skillpath"]
    admin.set_identity(services, Tenant(platform.issuer, client_id), "mbox")
    sub = "learner-" + uuid.uuid4().hex[:8]
    browser.launch(link(platform, client_id, user=sub))  # the platform shares no email
    written = queued(tool)
    assert written[0]["actor"]["account"] == {"homePage": platform.issuer, "name": sub}
    with db(services) as session:
        row = session.scalars(select(LearnerRow).where(LearnerRow.subject == sub)).one()
        assert row.email is None


def test_identity_command_rejects_bad_input_and_changes_nothing(
    tool: ToolServer,
    platform: PlatformPeer,
    client_id: str,
    cli: Callable[..., Any],
    tmp_path: Path,
) -> None:
    base = ["lrs", "identity", "--issuer", platform.issuer, "--client-id", client_id]
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("sub,account_name\nabc,\n", encoding="utf-8")
    no_header = tmp_path / "plain.csv"
    no_header.write_text("abc,def\n", encoding="utf-8")
    cases = {
        "no platform is registered": ["lrs", "identity", "--issuer", "https://nobody.example",
                                      "--client-id", "x", "--mode", "mbox"],
        "needs --home-page": [*base, "--mode", "mapped_account"],
        "only go with mapped_account": [*base, "--mode", "mbox", "--home-page", "https://a.b"],
        "line 2: both sub and account_name": [*base, "--mode", "mapped_account", "--home-page",
                                             "https://a.b", "--mapping", str(bad_csv)],
        "must name the columns": [*base, "--mode", "mapped_account", "--home-page",
                                  "https://a.b", "--mapping", str(no_header)],
        "cannot read": [*base, "--mode", "mapped_account", "--home-page", "https://a.b",
                        "--mapping", str(tmp_path / "missing.csv")],
    }  # fmt: skip
    for expected, args in cases.items():
        result = cli(*args)
        assert result.exit_code != 0, (expected, result.output)
        assert expected in result.output, (expected, result.output)
    services = tool.app.extensions["skillpath"]
    from lti_tool.storage.models import RegistrationRow

    with db(services) as session:
        stored = session.scalars(
            select(RegistrationRow.xapi_identity).where(RegistrationRow.client_id == client_id)
        ).one()
    assert stored is None


def test_reported_round_trips() -> None:
    reported = Reported(frozenset({"m1"}), frozenset({"a", "b"}), frozenset())
    assert Reported.from_json(reported.to_json()) == reported
    assert Reported.from_json(None) == Reported()
