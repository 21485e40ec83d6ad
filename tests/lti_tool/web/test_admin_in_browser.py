"""The admin console in headless Chromium, as an admin does it: register Skillpath from the
platform's "register a tool by URL" page (Dynamic Registration; the tool closes the platform's
dialog), approve the pending registration, upload a bad catalog and read its JSON paths, fix
it, connect the Learning Locker peer after testing the connection, retry a failed grade, and
see it all in the audit log. axe-core finds no WCAG 2.1 AA violation on any admin page (nor
on the install, registration and picker pages) at 1280 and 375 px; each is screenshotted."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from lti_tool.lti.registrations import RegistrationInput
from lti_tool.storage import Tenant
from lti_tool.usecases import admin, admin_accounts
from peers.chromium import axe_check, describe, screenshot
from peers.lrs import LrsPeer
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer
from tests.lti_tool.conftest import link
from tests.lti_tool.db import container_of
from tests.lti_tool.web.console_client import PASSWORD
from tests.lti_tool.web.frames import tool_frame
from tests.peers.chromium_fixtures import WIDTHS, chromium, new_page  # noqa: F401
from tests.peers.lrs_fixtures import learning_locker  # noqa: F401

EXAMPLE = Path(__file__).parents[2] / "fixtures" / "catalog-example.json"


def check(page: Any, name: str, frame: Any = None) -> None:
    """axe at both widths, a screenshot at each; the page is left at 1280 px."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(50)
        violations = axe_check(frame or page)
        assert violations == [], f"{name} at {width}px: {describe(violations)}"
        screenshot(page, f"{name}-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})


def fail_a_grade(tool: ToolServer, tenant: Tenant) -> int:
    ports = container_of(tool)
    with ports.storage.transaction() as tx:
        item = tx.outbox.enqueue(
            "ags_score",
            {
                "issuer": tenant.issuer,
                "client_id": tenant.client_id,
                "score": {"userId": "learner-1", "scoreGiven": 40, "scoreMaximum": 100},
            },
            now=ports.now(),
        )
        lease = tx.outbox.claim(now=ports.now(), limit=1, lease=timedelta(minutes=1))
        tx.outbox.finish(
            item,
            lease.token,
            "failed",
            now=ports.now(),
            error="the platform refused the score",
            request_summary="POST lineitems/1/scores",
            response_status=422,
            response_body='{"error": "learner-1 is not enrolled"}',
        )
    return item


def test_an_admin_does_it_all_from_the_console(
    tool: ToolServer,
    platform: PlatformPeer,
    learning_locker: LrsPeer,  # noqa: F811
    new_page: Callable[..., Any],  # noqa: F811
) -> None:
    admin_accounts.create_admin(container_of(tool), "alice", PASSWORD)
    page = new_page(width=1280, height=900)

    # 1. The LMS admin registers Skillpath by URL; Skillpath's page closes the dialog.
    page.goto(f"{platform.issuer}/register-tool?url={tool.base_url}/lti/register")
    frame = page.frame(name="registration")
    assert frame is not None
    frame.wait_for_selector('[data-registration="done"]')
    assert "Waiting for approval" in frame.inner_text("body")
    check(page, "registration-result", frame)
    frame.click("#close-registration")
    page.wait_for_selector(f'body[data-closed="{tool.base_url}"]')
    client_id = platform.dynamic_registrations.answered[-1]["client_id"]
    tenant = Tenant(platform.issuer, client_id)

    # 2. Sign in, approve.
    page.goto(f"{tool.base_url}/admin/")
    page.wait_for_url("**/admin/login**")
    check(page, "admin-login")
    page.fill("#username", "alice")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector('[data-testid="pending"]')
    check(page, "admin-overview")
    page.click("[data-testid^=approve-]")
    page.wait_for_selector('[data-testid="flash-ok"]')
    assert "is now active" in page.inner_text('[data-testid="flash-ok"]')
    page.wait_for_selector('[data-testid="catalog"]')  # on the registration's page
    check(page, "admin-registration")

    # 3. A bad catalog: the report names the JSON paths; the fixed one shows its changes.
    good = json.loads(EXAMPLE.read_text())
    bad = copy.deepcopy(good)
    bad["lessons"][0]["competencies"][0]["id"] = "comm.basix"
    registration_url = page.url
    page.set_input_files(
        "#catalog-file",
        {
            "name": "catalog.json",
            "mimeType": "application/json",
            "buffer": json.dumps(bad).encode(),
        },
    )
    page.click("button:has-text('Check the file')")
    page.wait_for_selector('[data-testid="validation-report"]')
    assert "lessons[0].competencies[0].id" in page.inner_text('[data-testid="validation-report"]')
    check(page, "admin-catalog-report")
    page.goto(registration_url)
    page.set_input_files(
        "#catalog-file",
        {
            "name": "catalog.json",
            "mimeType": "application/json",
            "buffer": json.dumps(good).encode(),
        },
    )
    page.click("button:has-text('Check the file')")
    page.wait_for_selector('[data-testid="catalog-diff"]')
    check(page, "admin-catalog-diff")
    page.click('[data-testid="confirm-import"]')
    page.wait_for_selector('[data-testid="flash-ok"]')
    assert "Imported the catalog: 2 competencies, 3 lessons, 1 pathways" in page.inner_text("main")

    # 4. The LRS: tested, then saved; the password is never shown back.
    page.fill("#endpoint", learning_locker.endpoint)
    page.fill("#username", learning_locker.username)
    page.fill("#password", learning_locker.password)
    page.click('[data-testid="lrs-test"]')
    page.wait_for_selector('[data-testid="lrs-probe"]')
    assert "Connected" in page.inner_text('[data-testid="lrs-probe"]')
    assert page.input_value("#password") == ""
    page.fill("#password", learning_locker.password)
    page.click('[data-testid="lrs-save"]')
    page.wait_for_selector('[data-testid="flash-ok"]')
    assert learning_locker.password not in page.content()

    # 5. A failed grade, with the platform's answer, retried.
    item = fail_a_grade(tool, tenant)
    page.goto(f"{tool.base_url}/admin/outbox?status=failed")
    row = page.locator(f'[data-item="{item}"]')
    assert "HTTP 422" in row.inner_text() and "not enrolled" in row.inner_text()
    check(page, "admin-outbox")
    page.click(f'[data-testid="retry-{item}"]')
    page.wait_for_selector('[data-testid="flash-ok"]')
    assert "Queued 1 failed item(s) again." in page.inner_text('[data-testid="flash-ok"]')

    # The registration now launches with no further step.
    with LaunchPage(new_page) as learner:
        learner.goto(link(platform, client_id, user="learner-" + uuid.uuid4().hex[:6]))
        learner.wait_for_url(f"{tool.base_url}/launch/**")
        assert learner.locator('[data-view="learner"]').count() == 1

    # 6. The rest of the console, and the audit log of all of the above.
    for path, name in (
        ("/admin/keys", "admin-keys"),
        ("/admin/registrations/default", "admin-defaults"),
        ("/admin/registrations/new", "admin-new-registration"),
    ):
        page.goto(tool.base_url + path)
        check(page, name)
    page.goto(f"{tool.base_url}/admin/audit")
    audit = page.inner_text('[data-testid="audit"]')
    for action in (
        "platform.register.dynamic",
        "platform.approve",
        "catalog.import",
        "lrs.test",
        "lrs.set",
        "outbox.retry",
    ):
        assert action in audit, action
    check(page, "admin-audit")


class LaunchPage:
    """A second page in its own browser context (its own cookies), closed afterwards."""

    def __init__(self, make: Callable[..., Any]) -> None:
        self._page = make(width=1280, height=900)

    def __enter__(self) -> Any:
        return self._page

    def __exit__(self, *exc: object) -> None:
        self._page.close()


def test_the_other_new_pages_are_accessible(
    tool: ToolServer,
    platform: PlatformPeer,
    new_page: Callable[..., Any],  # noqa: F811
) -> None:
    page = new_page(width=1280, height=900)
    page.goto(f"{tool.base_url}/install")
    check(page, "install")

    client_id = "picker-" + uuid.uuid4().hex[:8]
    admin.register_platform(
        container_of(tool),
        RegistrationInput(
            issuer=platform.issuer,
            client_id=client_id,
            auth_login_url=platform.auth_login_url,
            auth_token_url=platform.auth_token_url,
            keyset_url=platform.keyset_url,
            deployments=["dep-1"],
        ),
    )
    platform.register_tool(
        client_id,
        "dep-1",
        tool.login_url,
        tool.launch_url,
        tool.jwks_url,
        deep_link_url=tool.launch_url,
    )
    picker = platform.launch_url(client_id=client_id, roles="instructor", user="t", deep_link=True)
    page.goto(picker)
    page.wait_for_selector('[data-testid="no-catalog"]')
    check(page, "picker-no-catalog")
    admin.import_catalog(container_of(tool), json.loads(EXAMPLE.read_text()))
    page.goto(picker)
    page.wait_for_selector('[data-testid="picker"]')
    check(page, "picker")

    # The admin link launched inside the LMS frame: the way into the console.
    page.goto(
        f"{platform.issuer}/course?client_id={client_id}&roles=administrator&user=a&storage=none"
        f"&target_link_uri={tool.base_url}/admin"
    )
    frame = tool_frame(page, f"{tool.base_url}/admin/from-lms/")
    frame.wait_for_selector('[data-testid="handoff"]')
    check(page, "admin-handoff", frame)
