"""An LMS administrator reaches the console through an LTI launch of the admin link (the
platform peer): a page in the LMS frame opens the console in a window of its own with a
single-use ticket; the console is then limited to that registration. Anyone else is refused."""

from __future__ import annotations

import re

import requests

from peers.browser import LaunchBrowser
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer
from tests.lti_tool.conftest import link
from tests.lti_tool.db import container_of


def open_console(
    browser: LaunchBrowser, page: requests.Response, tool: ToolServer
) -> requests.Response:
    found = re.search(r'href="(/admin/enter\?ticket=[^"]+)"', page.text)
    assert found is not None, page.text[:500]
    return browser.session.get(tool.base_url + found.group(1).replace("&amp;", "&"), timeout=10)


def test_an_lms_administrator_opens_the_console(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    page = browser.launch(
        link(
            platform,
            client_id,
            roles="administrator",
            user="admin-1",
            name=None,
            target_link_uri=f"{tool.base_url}/admin",
        )
    )
    assert page.status_code == 200, page.text[:500]
    assert page.url.startswith(f"{tool.base_url}/admin/from-lms/")
    assert 'data-testid="handoff"' in page.text and "X-Frame-Options" not in page.headers
    console = open_console(browser, page, tool)
    assert console.status_code == 200
    assert console.url.startswith(f"{tool.base_url}/admin/registrations/")
    assert "An administrator (administrator of 127.0.0.1" in console.text
    assert "admin-1" not in console.text  # roles and names, never raw ids
    assert browser.session.get(f"{tool.base_url}/admin/keys", timeout=10).status_code == 403
    # The ticket served once.
    again = open_console(browser, page, tool)
    assert again.status_code == 401 and "already used or has expired" in again.text
    with container_of(tool).storage.transaction() as tx:
        who = {a.actor for a in tx.audit.recent(None, 10)}
    assert any(w.startswith("An administrator (administrator of") for w in who)


def test_an_instructor_is_refused(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    page = browser.launch(
        link(platform, client_id, roles="instructor", target_link_uri=f"{tool.base_url}/admin")
    )
    assert page.status_code == 403
    assert "Only an administrator of this LMS opens Skillpath" in page.text
    assert "/admin/enter" not in page.text


def test_open_edx_staff_are_not_taken_for_administrators(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    page = browser.launch(
        link(
            platform,
            client_id,
            roles="administrator",
            product_family_code="openedx",
            target_link_uri=f"{tool.base_url}/admin",
        )
    )
    assert page.status_code == 403
    assert "Open edX gives its administrator role to every course" in page.text
