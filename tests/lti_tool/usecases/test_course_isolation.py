"""A learner's record belongs to one course: the same person in two courses of one platform
has two, so an override pinned in one course never shows in the other, and one course's
class view never sees progress made in the other. Removing a platform ends its sessions."""

from __future__ import annotations

import uuid
from typing import Any

import requests

from lti_tool.storage import Course, Tenant
from lti_tool.usecases import admin
from peers.browser import LaunchBrowser
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer
from tests.lti_tool.conftest import link
from tests.lti_tool.usecases.test_learner_path import api, import_example
from tests.lti_tool.usecases.test_overrides import teacher
from tests.lti_tool.usecases.test_reporting import CHECK


def learner_in(
    browser: LaunchBrowser, platform: PlatformPeer, client_id: str, sub: str, course: str
) -> Any:
    return api(browser, browser.launch(link(platform, client_id, user=sub, context_id=course)))


def test_an_override_in_one_course_stays_in_that_course(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    import_example(tool)
    sub = "learner-" + uuid.uuid4().hex[:8]
    learner_in(browser, platform, client_id, sub, "course-1")
    learner_in(browser, platform, client_id, sub, "course-2")
    first = teacher(browser, platform, client_id, context_id="course-1")
    pinned = first.post(sub, {"kind": "pin", "lesson_id": CHECK, "note": "for course 1"})
    assert pinned.status_code == 201, pinned.text

    in_one = learner_in(browser, platform, client_id, sub, "course-1").json()
    in_two = learner_in(browser, platform, client_id, sub, "course-2").json()
    assert in_one["recommendation"]["lesson_id"] == CHECK
    assert [r["code"] for r in in_one["recommendation"]["reasons"]][0] == "pinned_by_instructor"
    assert "pinned_by_instructor" not in [r["code"] for r in in_two["recommendation"]["reasons"]]

    second = teacher(browser, platform, client_id, context_id="course-2")
    assert second.get(sub).json()["overrides"] == []
    assert [o["note"] for o in first.get(sub).json()["overrides"]] == ["for course 1"]


def test_a_class_view_counts_only_its_own_course(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    import_example(tool)
    sub = "learner-" + uuid.uuid4().hex[:8]
    learner_in(browser, platform, client_id, sub, "course-a")
    learner_in(browser, platform, client_id, sub, "course-b")
    for course in ("course-a", "course-b"):
        grace = teacher(browser, platform, client_id, context_id=course)
        rows = requests.get(
            grace.base.rstrip("/"),
            headers={"Authorization": f"Bearer {grace.token}"},
            timeout=10,
        ).json()["learners"]
        assert [r["subject"] for r in rows] == [sub]
        marked = grace.post(sub, {"kind": "mark_mastered", "competency_id": "comm.basics"})
        assert marked.status_code == 201
    # Two records, one per course, each with its own override.
    container = tool.app.extensions["skillpath"]
    with container.storage.transaction() as tx:
        courses = {
            record.course.context_id
            for course in ("course-a", "course-b")
            for record in tx.learners.in_course(
                Course(Tenant(platform.issuer, client_id), "deployment-1", course)
            )
            if len(record.state["overrides"]) == 1
        }
    assert courses == {"course-a", "course-b"}


def test_removing_a_platform_ends_its_sessions_at_once(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    import_example(tool)
    sub = "learner-" + uuid.uuid4().hex[:8]
    page = browser.launch(link(platform, client_id, user=sub))
    assert api(browser, page).status_code == 200
    grace = teacher(browser, platform, client_id)
    assert grace.get(sub).status_code == 200

    admin.remove_platform(tool.app.extensions["skillpath"], Tenant(platform.issuer, client_id))

    assert api(browser, page).status_code == 404  # the session names a launch that is gone
    assert grace.get(sub).status_code == 404
    written = grace.post(sub, {"kind": "skip", "lesson_id": CHECK})
    assert written.status_code == 404
    assert "open the link in your course again" in written.json()["message"]


def test_an_instructor_preview_shows_only_its_own_course(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    import_example(tool)
    sub = "learner-" + uuid.uuid4().hex[:8]
    learner_in(browser, platform, client_id, sub, "course-1")
    learner_in(browser, platform, client_id, sub, "course-2")
    first = teacher(browser, platform, client_id, context_id="course-1")
    assert first.post(sub, {"kind": "pin", "lesson_id": CHECK}).status_code == 201
    second = teacher(browser, platform, client_id, context_id="course-2")
    preview = requests.get(
        f"{second.base}{sub}/path", headers={"Authorization": f"Bearer {second.token}"}, timeout=10
    )
    assert preview.status_code == 200, preview.text
    assert "pinned_by_instructor" not in preview.text
    # a learner only in course 2 is no learner of course 1
    only_two = "learner-" + uuid.uuid4().hex[:8]
    learner_in(browser, platform, client_id, only_two, "course-2")
    missing = requests.get(
        f"{first.base}{only_two}/path",
        headers={"Authorization": f"Bearer {first.token}"},
        timeout=10,
    )
    assert missing.status_code == 404


def test_removing_a_platform_ends_its_pages_too(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    import_example(tool)
    page = browser.launch(link(platform, client_id, user="learner-" + uuid.uuid4().hex[:8]))
    assert page.status_code == 200
    admin.remove_platform(tool.app.extensions["skillpath"], Tenant(platform.issuer, client_id))
    again = requests.get(page.url, timeout=10)
    assert again.status_code == 404
    assert "open the link in your course again" in again.text
