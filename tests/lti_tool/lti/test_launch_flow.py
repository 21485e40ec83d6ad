"""Full launches from a real LTI 1.3 platform (lti1p3platform) over HTTP on 127.0.0.1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from config import Settings
from lti_tool.storage.models import LaunchRow
from peers.browser import LaunchBrowser
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer, free_port, start_tool
from tests.lti_tool.conftest import link, register_with
from tests.lti_tool.db import db


def test_learner_launch_lands_on_the_learner_page(
    tool: ToolServer,
    platform: PlatformPeer,
    client_id: str,
    browser: LaunchBrowser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    page = browser.launch(link(platform, client_id))
    assert page.status_code == 200
    assert page.url.startswith(tool.base_url + "/launch/")
    assert 'data-testid="who">Ada Learner<' in page.text
    assert 'data-testid="course">Support 101<' in page.text
    assert 'data-testid="link">Week 1 path<' in page.text
    assert 'data-view="learner"' in page.text
    with db(tool.app.extensions["skillpath"]) as session:
        launch = session.scalars(select(LaunchRow)).one()
    assert (launch.issuer, launch.client_id, launch.deployment_id) == (
        platform.issuer,
        client_id,
        "deployment-1",
    )
    assert launch.subject == "learner-1" and launch.role == "learner"
    # the session token in the page URL never reaches a log line
    token = page.url.split("t=")[1]
    assert "GET /launch/" in caplog.text and token not in caplog.text


def test_instructor_launch_lands_on_the_class_view(
    platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    page = browser.launch(
        link(platform, client_id, user="teacher-1", roles="instructor", name="Sam Lee")
    )
    assert page.status_code == 200
    assert 'data-view="instructor"' in page.text and "Class view" in page.text


def test_without_a_name_the_page_shows_the_role(
    platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    page = browser.launch(link(platform, client_id, name=None))
    assert page.status_code == 200
    assert 'data-testid="who">Learner<' in page.text


def test_reloading_the_page_does_not_replay_the_launch(
    platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    page = browser.launch(link(platform, client_id))
    again = browser.session.get(page.url, timeout=10)
    assert again.status_code == 200 and again.text == page.text


def test_a_hundred_launches_with_one_cookie_jar(
    platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    for _ in range(100):
        page = browser.launch(link(platform, client_id))
        assert page.status_code == 200
    assert [c.name for c in browser.session.cookies] == ["skillpath_session"]


def test_a_session_opens_only_its_own_launch(
    tool: ToolServer, platform: PlatformPeer, client_id: str
) -> None:
    alice, bob = LaunchBrowser(), LaunchBrowser()
    try:
        alice_page = alice.launch(link(platform, client_id, user="alice"))
        bob_page = bob.launch(link(platform, client_id, user="bob"))
        bob_launch = bob_page.url.split("?")[0]
        alice_token = alice_page.url.split("t=")[1]
        stolen = alice.session.get(f"{bob_launch}?t={alice_token}", timeout=10)
        assert stolen.status_code == 401
        no_session = LaunchBrowser()
        assert no_session.session.get(bob_launch, timeout=10).status_code == 401
        no_session.close()
    finally:
        alice.close()
        bob.close()


def test_tenants_are_told_apart_by_client_id(
    tool: ToolServer, platform: PlatformPeer, browser: LaunchBrowser
) -> None:
    """One issuer, two client ids (as all of Canvas cloud): each launch lands in its own."""
    register_with(tool, platform, "tenant-a", "deployment-a")
    register_with(tool, platform, "tenant-b", "deployment-b")
    for client_id in ("tenant-a", "tenant-b"):
        assert browser.launch(link(platform, client_id)).status_code == 200
    with db(tool.app.extensions["skillpath"]) as session:
        rows = session.execute(select(LaunchRow.client_id, LaunchRow.deployment_id)).all()
    assert sorted(map(tuple, rows)) == [("tenant-a", "deployment-a"), ("tenant-b", "deployment-b")]


def test_platform_key_rotation_is_picked_up(
    platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    assert browser.launch(link(platform, client_id)).status_code == 200
    platform.rotate_key()  # our cached key set does not know the new kid
    assert browser.launch(link(platform, client_id)).status_code == 200


def test_login_on_one_instance_launch_on_another(
    settings: Settings, platform: PlatformPeer, tmp_path: Path
) -> None:
    """Two app instances behind one public URL, sharing the database (and Redis when
    SKILLPATH_TEST_REDIS_URL is set): the login and the launch reach different ones."""
    public_port = free_port()
    public = f"http://127.0.0.1:{public_port}"
    first = start_tool(settings, port=public_port)
    second = start_tool(settings, base_url=public, initialise=False)
    browser = LaunchBrowser()
    try:
        register_with(first, platform, "shared-client", "deployment-1")
        form = browser.authorize(browser.login(browser.start(link(platform, "shared-client"))))
        assert form.action == public + "/lti/launch"
        landed = browser.post_form(form, action=second.launch_url)
        assert landed.status_code == 200
        assert 'data-testid="who">Ada Learner<' in landed.text
        # and the replayed form is refused by the first instance
        assert browser.post_form(form).status_code == 400
    finally:
        browser.close()
        second.stop()
        first.stop()


@pytest.mark.skipif(
    not os.environ.get("SKILLPATH_TEST_REDIS_URL"), reason="needs SKILLPATH_TEST_REDIS_URL"
)
def test_redis_holds_the_login_state(settings: Settings, platform: PlatformPeer) -> None:
    from lti_tool.storage.shared_store import RedisStore

    tool = start_tool(settings)
    try:
        assert isinstance(tool.app.extensions["skillpath"].store, RedisStore)
        register_with(tool, platform, "redis-client", "deployment-1")
        browser = LaunchBrowser()
        assert browser.launch(link(platform, "redis-client")).status_code == 200
        browser.close()
    finally:
        tool.stop()
