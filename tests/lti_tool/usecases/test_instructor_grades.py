"""The instructor page shows grade sync for its course: whether grades go back and why not,
how many scores waited, went through or failed, each failure with the platform's answer,
and nothing of another tenant's."""

from __future__ import annotations

import re
import uuid

from lti_tool.outbox.worker import worker_once
from peers.browser import LaunchBrowser
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer
from tests.lti_tool.conftest import link, register_with
from tests.lti_tool.usecases.test_learner_path import import_example


def grades_tab(browser: LaunchBrowser, url: str) -> str:
    """The instructor's "Grades and roster" tab, opened from the class view of a launch."""
    page = browser.launch(url)
    base, query = page.url.split("?", 1)
    response = browser.session.get(f"{base}/grades?{query}", timeout=10)
    assert response.status_code == 200, response.text[:500]
    return response.text


def count(page: str, name: str) -> int:
    match = re.search(rf'data-testid="{name}">(\d+)<', page)
    assert match, page[:2000]
    return int(match.group(1))


def test_instructor_sees_grade_sync_and_failures(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    import_example(tool)
    course = "course-" + uuid.uuid4().hex[:8]
    good, refused = "learner-" + uuid.uuid4().hex[:8], "guest-" + uuid.uuid4().hex[:8]
    platform.gradebook.ungradable_users.add(refused)
    for user in (good, refused):
        browser.launch(link(platform, client_id, user=user, context_id=course, ags=True))
    # another tenant's learner in a course of the same id
    register_with(tool, platform, "other-tenant", "deployment-x")
    browser.launch(link(platform, "other-tenant", user="x-1", context_id=course, ags=True))
    worker_once(tool.app.extensions["skillpath"])

    page = grades_tab(
        browser,
        link(platform, client_id, user="teacher", roles="instructor", context_id=course, ags=True),
    )
    assert "progress, and each milestone they reach, go to the LMS gradebook" in page
    assert (count(page, "delivered"), count(page, "failed")) == (1, 1)
    assert 'data-testid="failures"' in page and "User Ada Learner cannot be graded" in page
    assert refused not in page.split('data-testid="failures"')[1].split("</table>")[0]


def test_without_ags_the_instructor_is_told_why(
    platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    page = grades_tab(browser, link(platform, client_id, user="t", roles="instructor", ags=False))
    assert "No grades go back from this link" in page


def test_instructor_sees_the_class_list_before_learners_launch(
    platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    course = "course-" + uuid.uuid4().hex[:8]
    platform.roster.set_members(
        course,
        [
            {"user_id": "s1", "roles": "learner", "name": "Noor Haddad"},
            {"user_id": "s2", "roles": "learner", "name": "Ken Ito"},
        ],
    )
    page = grades_tab(
        browser,
        link(platform, client_id, user="teacher", roles="instructor", context_id=course, nrps=True),
    )
    assert 'data-testid="roster"' in page
    roster = page.split('data-testid="roster"')[1].split("</table>")[0]
    assert "Noor Haddad" in roster and "Ken Ito" in roster, roster


def test_without_nrps_the_class_list_says_why(
    platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    page = grades_tab(browser, link(platform, client_id, user="t", roles="instructor", nrps=False))
    assert 'data-testid="roster-error"' in page
