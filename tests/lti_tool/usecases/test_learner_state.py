"""Incremental learner state (issue 13 item 5): a new statement is applied to the stored state
with `recommender.update`; only a void, evidence older than the state holds or a new
parameter version replays; reading the path reads the stored view, never the evidence or
the LRS. Against the real Learning Locker peer and real launches."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from lti_tool.storage.learners import EvidenceRepository
from lti_tool.usecases import learner_path, learner_state
from lti_tool.usecases.evidence_sync import sync_all
from lti_tool.usecases.learner_refresh import catch_up
from peers.browser import LaunchBrowser
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer
from tests.lti_tool.conftest import link
from tests.lti_tool.db import db
from tests.lti_tool.usecases.test_learner_evidence import BASICS, basics, example_with_lrs, passed
from tests.lti_tool.usecases.test_learner_path import api
from tests.peers.lrs_fixtures import LrsPeer, learning_locker  # noqa: F401


def no_replay(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("replayed although only new statements arrived")


def page_row(tool: ToolServer, sub: str) -> Any:
    from sqlalchemy import select

    from lti_tool.storage.models import LearnerPageRow, LearnerRow

    with db(tool) as session:
        return session.execute(
            select(LearnerPageRow).join(LearnerRow, LearnerRow.id == LearnerPageRow.learner_id)
            .where(LearnerRow.subject == sub)
        ).scalar_one()  # fmt: skip


def test_new_statements_are_applied_one_by_one_without_a_replay(
    tool: ToolServer,
    platform: PlatformPeer,
    client_id: str,
    browser: LaunchBrowser,
    learning_locker: LrsPeer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    example_with_lrs(tool, learning_locker)
    sub = "learner-" + uuid.uuid4().hex[:8]
    client = learning_locker.client()
    first = passed(platform.issuer, sub, BASICS, 0.9)
    client.put_statement(first, statement_id=first["id"])
    before = api(browser, browser.launch(link(platform, client_id, user=sub))).json()
    cursor = page_row(tool, sub).evidence_cursor
    assert cursor > 0 and basics(before) > 0.2

    monkeypatch.setattr(learner_state, "replay_learner", no_replay)
    second = passed(platform.issuer, sub, BASICS, 0.95)
    client.put_statement(second, statement_id=second["id"])
    after = api(browser, browser.launch(link(platform, client_id, user=sub))).json()
    assert basics(after) > basics(before)
    assert page_row(tool, sub).evidence_cursor > cursor
    change = next(m for m in after["mastery"] if m["competency_id"] == "comm.basics")
    assert change["last_change"]["lesson_id"] == BASICS and change["last_change"]["delta"] > 0
    client.close()


def test_a_launch_with_nothing_new_keeps_the_stored_view(
    tool: ToolServer,
    platform: PlatformPeer,
    client_id: str,
    browser: LaunchBrowser,
    learning_locker: LrsPeer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    example_with_lrs(tool, learning_locker)
    sub = "learner-" + uuid.uuid4().hex[:8]
    client = learning_locker.client()
    first = passed(platform.issuer, sub, BASICS, 0.9)
    client.put_statement(first, statement_id=first["id"])
    before = api(browser, browser.launch(link(platform, client_id, user=sub))).json()
    computed = page_row(tool, sub).computed_at

    # The LRS is read again at the next launch, but nothing new came: no view is computed.
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the view was computed again although nothing changed")

    monkeypatch.setattr(learner_path, "recompute", forbidden)
    again = api(browser, browser.launch(link(platform, client_id, user=sub))).json()
    assert page_row(tool, sub).computed_at == computed
    assert again["next"] == before["next"] and again["mastery"] == before["mastery"]
    assert again["evidence"]["status"] == "fresh"
    assert again["evidence"]["refreshed_at"] >= before["evidence"]["refreshed_at"]

    # A new statement: the next launch applies it and computes the view.
    monkeypatch.undo()
    second = passed(platform.issuer, sub, BASICS, 0.95)
    client.put_statement(second, statement_id=second["id"])
    after = api(browser, browser.launch(link(platform, client_id, user=sub))).json()
    assert page_row(tool, sub).computed_at > computed
    assert basics(after) > basics(before)
    client.close()


def test_reading_the_path_reads_neither_the_evidence_nor_the_lrs(
    tool: ToolServer,
    platform: PlatformPeer,
    client_id: str,
    browser: LaunchBrowser,
    learning_locker: LrsPeer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    example_with_lrs(tool, learning_locker)
    page = browser.launch(link(platform, client_id, user="learner-" + uuid.uuid4().hex[:8]))
    expected = api(browser, page).json()

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a read touched the evidence or the LRS")

    for name in ("since", "for_learner", "history", "for_subjects", "latest_id"):
        monkeypatch.setattr(EvidenceRepository, name, forbidden)
    monkeypatch.setattr(tool.app.extensions["skillpath"].lrs, "evidence_source", forbidden)
    for _ in range(3):
        assert api(browser, page).json() == expected
    again = browser.session.get(page.url, timeout=10)
    assert again.status_code == 200 and 'data-testid="next"' in again.text


def test_a_void_found_by_the_background_sync_replays_in_the_catch_up(
    tool: ToolServer,
    platform: PlatformPeer,
    client_id: str,
    browser: LaunchBrowser,
    learning_locker: LrsPeer,  # noqa: F811
) -> None:
    example_with_lrs(tool, learning_locker)
    sub = "learner-" + uuid.uuid4().hex[:8]
    client = learning_locker.client()
    statement = passed(platform.issuer, sub, BASICS, 0.95)
    client.put_statement(statement, statement_id=statement["id"])
    page = browser.launch(link(platform, client_id, user=sub))
    assert basics(api(browser, page).json()) > 0.5
    services = tool.app.extensions["skillpath"]
    sync_all(services)  # the cursor moves past what is there
    void = {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "mbox": "mailto:admin@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": statement["id"]},
    }
    client.put_statement(void, statement_id=void["id"])
    sync_all(services)
    assert page_row(tool, sub).replay_needed
    assert catch_up(services) >= 1
    assert not page_row(tool, sub).replay_needed
    assert basics(api(browser, page).json()) == pytest.approx(0.2)  # the stored view moved
    client.close()


def test_a_new_parameter_version_replays(
    tool: ToolServer,
    platform: PlatformPeer,
    client_id: str,
    browser: LaunchBrowser,
    learning_locker: LrsPeer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lti_tool.usecases import learner_refresh
    from recommender import CompetencyParams, ModelParams

    example_with_lrs(tool, learning_locker)
    sub = "learner-" + uuid.uuid4().hex[:8]
    browser.launch(link(platform, client_id, user=sub))
    version = page_row(tool, sub).params_version
    replays: list[int] = []
    real = learner_state.replay_learner

    def counted(*args: Any, **kwargs: Any) -> Any:
        replays.append(1)
        return real(*args, **kwargs)

    fitted = ModelParams.defaults().with_competency("comm.basics", CompetencyParams(prior=0.5))
    monkeypatch.setattr(learner_refresh, "params_for", lambda tx, tenant: fitted)
    monkeypatch.setattr(learner_path, "params_for", lambda tx, tenant: fitted)
    monkeypatch.setattr(learner_state, "replay_learner", counted)
    body = api(browser, browser.launch(link(platform, client_id, user=sub))).json()
    assert replays == [1]
    assert page_row(tool, sub).params_version != version
    assert basics(body) == pytest.approx(0.5)


def test_a_learners_writes_take_the_header_and_the_learner_role(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    from tests.lti_tool.usecases.test_learner_path import import_example

    import_example(tool)
    page = browser.launch(link(platform, client_id, user="learner-" + uuid.uuid4().hex[:8]))
    token, base = page.url.split("t=")[1], page.url.split("/launch/")[0]
    url = base + "/api/v1/me/preferences"
    assert requests.post(url, json={"minutes": 10}, cookies={"skillpath_session": token},
                         timeout=10).status_code == 401  # fmt: skip
    bearer = {"Authorization": f"Bearer {token}"}
    bad = requests.post(url, json={"minutes": 7}, headers=bearer, timeout=10)
    assert bad.status_code == 400 and "minutes" in bad.json()["message"]
    unknown = requests.post(url, json={"colour": "blue"}, headers=bearer, timeout=10)
    assert unknown.status_code == 400
    fine = requests.post(url, json={"minutes": 10, "minutes_per_day": 60}, headers=bearer,
                         timeout=10)  # fmt: skip
    assert fine.status_code == 200
    assert fine.json()["preferences"]["minutes"] == 10
    assert fine.json()["preferences"]["minutes_per_day"] == 60
    teacher = browser.launch(link(platform, client_id, user="t-1", roles="instructor"))
    as_teacher = {"Authorization": f"Bearer {teacher.url.split('t=')[1]}"}
    assert requests.post(url, json={"minutes": 10}, headers=as_teacher,
                         timeout=10).status_code == 403  # fmt: skip
