"""The learner page and /api/v1/me/path: catalog in, engine run at launch, path out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from peers.browser import LaunchBrowser
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer
from tests.lti_tool.conftest import link

EXAMPLE = Path(__file__).parents[2] / "fixtures" / "catalog-example.json"


def import_example(tool: ToolServer) -> None:
    from lti_tool.usecases import admin

    admin.import_catalog(tool.app.extensions["skillpath"], json.loads(EXAMPLE.read_text()))


def api(browser: LaunchBrowser, page: requests.Response) -> Any:
    token = page.url.split("t=")[1]
    base = page.url.split("/launch/")[0]
    return requests.get(
        base + "/api/v1/me/path", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def test_without_a_catalog_the_page_says_so(
    platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    page = browser.launch(link(platform, client_id))
    assert page.status_code == 200
    assert 'data-testid="no-catalog"' in page.text
    assert api(browser, page).status_code == 404


def test_learner_sees_next_lesson_reasons_path_and_mastery(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    import_example(tool)
    page = browser.launch(link(platform, client_id))
    assert page.status_code == 200, page.text[:500]
    assert "Support associate, first two weeks" in page.text
    assert 'data-testid="next"' in page.text and "Tone and clarity" in page.text
    assert 'data-testid="mastery"' in page.text and "Escalation writing" in page.text
    assert 'data-testid="path"' in page.text

    body = api(browser, page).json()
    assert body["pathway"]["id"] == "support.onboarding"
    assert body["next"]["lesson_id"] == "https://lessons.example.org/comm/basics-video"
    assert body["recommendation"]["reasons"]
    assert body["recommendation"]["sentence"]
    assert {m["competency_id"] for m in body["mastery"]} == {"comm.basics", "comm.escalation"}
    assert body["milestones"] and any(m["steps"] for m in body["milestones"])
    assert body["evidence"]["status"] == "no_lrs"
    # A new learner has no evidence: every competency is "not started", not a prior.
    assert {m["status"] for m in body["mastery"]} == {"not_started"}
    assert 'data-status="not_started"' in page.text and "Not started" in page.text
    # The reason names competencies, never ids.
    assert "comm.basics" not in page.text.split('data-testid="why"')[1].split("</p>")[0]


def test_instructors_have_no_learner_path(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    import_example(tool)
    page = browser.launch(link(platform, client_id, roles="instructor", user="t1"))
    assert api(browser, page).status_code == 404


def test_the_api_needs_the_launch_session(tool: ToolServer) -> None:
    response = requests.get(tool.base_url + "/api/v1/me/path", timeout=10)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_custom_pathway_parameter_chooses_the_pathway(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    import_example(tool)
    page = browser.launch(link(platform, client_id, custom={"pathway": "no.such.pathway"}))
    assert 'data-testid="no-catalog"' in page.text and "no.such.pathway" in page.text
    spec = link(platform, client_id, custom={"pathway": "support.onboarding"})
    assert api(browser, browser.launch(spec)).json()["pathway"]["id"] == ("support.onboarding")


def test_the_path_is_grouped_by_milestone_each_lesson_once() -> None:
    from datetime import UTC, datetime

    from lti_tool.usecases.learner_view import path_map
    from recommender import ModelParams, load_catalog, new_learner, preview_path

    catalog = load_catalog(json.loads(EXAMPLE.read_text()))
    pathway = catalog.pathway()
    now = datetime(2026, 12, 1, tzinfo=UTC)
    preview = preview_path(catalog, new_learner("x"), ModelParams.defaults(), now, pathway.id)
    groups = path_map(catalog, pathway, preview, [])
    assert [g["milestone_id"] for g in groups][: len(pathway.milestones)] == [
        m.id for m in pathway.milestones
    ]
    for group in groups:
        ids = [s["lesson_id"] for s in group["steps"]]
        assert len(ids) == len(set(ids))  # each lesson once, attempts folded in
    steps = [s for g in groups for s in g["steps"]]
    assert sum(s["times"] for s in steps) == len(preview.steps)
    assert steps[0]["status"] == "next" and groups[0]["status"] == "current"


def test_pathway_progress_reaches_the_gradebook_once_per_change(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    import uuid

    from lti_tool.outbox.worker import worker_once

    import_example(tool)
    context = "course-" + uuid.uuid4().hex[:8]
    sub = "learner-" + uuid.uuid4().hex[:8]
    for _ in range(2):  # the second launch has the same progress: nothing new is sent
        browser.launch(link(platform, client_id, user=sub, context_id=context, ags=True))
    assert worker_once(tool.app.extensions["skillpath"]).delivered == 1
    items = platform.gradebook.line_items(context)
    assert len(items) == 1
    item_id = items[0]["id"]
    scores = platform.gradebook.scores(item_id, sub)
    assert len(scores) == 1
    assert (scores[0]["scoreGiven"], scores[0]["scoreMaximum"]) == (0.0, 100.0)
    assert scores[0]["activityProgress"] == "InProgress"
