"""Issue 14: a slow LRS or a slow LMS. The learner's page renders from the last known state
within the LRS refresh timeout (and says so); the instructor's page renders within the class
list's timeout without the list (and says so). The slowness is the fault proxy's, in front of
the real peers."""

from __future__ import annotations

import time
import uuid
from urllib.parse import urlsplit

from lti_tool.container import Container
from peers.browser import LaunchBrowser
from peers.fault_proxy import fault_proxy
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer
from tests.lti_tool.conftest import link
from tests.lti_tool.usecases.test_learner_evidence import connect
from tests.lti_tool.usecases.test_learner_path import api, import_example
from tests.peers.lrs_fixtures import LrsPeer, learning_locker  # noqa: F401


def test_a_slow_lrs_leaves_the_learner_page_on_its_last_state_in_time(
    tool: ToolServer,
    platform: PlatformPeer,
    client_id: str,
    browser: LaunchBrowser,
    learning_locker: LrsPeer,  # noqa: F811
) -> None:
    import_example(tool)
    parts = urlsplit(learning_locker.endpoint)
    with fault_proxy(f"{parts.scheme}://{parts.netloc}") as proxy:
        connect(tool, proxy.url + parts.path, learning_locker.username, learning_locker.password)
        sub = "learner-" + uuid.uuid4().hex[:8]
        first = browser.launch(link(platform, client_id, user=sub))
        assert api(browser, first).json()["evidence"]["status"] == "fresh"
        proxy.delay_seconds = 6.0  # every LRS answer now takes 6 s
        started = time.monotonic()
        page = browser.launch(link(platform, client_id, user=sub))
        took = time.monotonic() - started
        proxy.delay_seconds = 0.0
    assert page.status_code == 200
    assert took < 4.5, f"the page waited {took:.1f} s on the LRS"
    assert 'data-testid="evidence-stale"' in page.text
    body = api(browser, page).json()
    assert body["evidence"]["status"] == "stale" and body["next"] is not None


def test_a_slow_lms_leaves_the_instructor_page_without_the_class_list_in_time(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    import_example(tool)
    services: Container = tool.app.extensions["skillpath"]
    with fault_proxy() as proxy:
        services.http.proxies.update(proxy.proxies)
        services.http.trust_env = False
        proxy.faults.path_contains = "/memberships"
        proxy.faults.slow_next = 10
        proxy.faults.slow_seconds = 8.0
        launched = browser.launch(link(platform, client_id, user="teacher-1", roles="instructor"))
        assert launched.status_code == 200
        # The class list is on the instructor's "Grades and roster" tab.
        grades_tab = launched.url.replace("?t=", "/grades?t=", 1)
        started = time.monotonic()
        page = browser.session.get(grades_tab, timeout=30)
        took = time.monotonic() - started
    assert page.status_code == 200
    assert took < 5.5, f"the page waited {took:.1f} s on the LMS"
    assert 'data-testid="roster-error"' in page.text
