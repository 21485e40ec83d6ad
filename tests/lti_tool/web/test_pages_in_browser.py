"""The pages after a launch, in a real browser: Chromium follows the platform peer's launch
(login, authorize, the auto-posted id_token), lands on the page, and axe-core finds no WCAG
2.1 AA violation at a laptop's and a phone's width. Each page's screenshot is saved under
test-artifacts/screenshots/."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from peers.chromium import axe_check, describe, screenshot
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer
from tests.lti_tool.conftest import link
from tests.lti_tool.usecases.test_learner_path import import_example
from tests.peers.chromium_fixtures import WIDTHS, chromium, new_page  # noqa: F401


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role", ["learner", "instructor"])
def test_a_launched_page_is_accessible(
    tool: ToolServer,
    platform: PlatformPeer,
    client_id: str,
    new_page: Callable[..., Any],  # noqa: F811
    role: str,
    width: int,
) -> None:
    import_example(tool)
    user = f"{role}-" + uuid.uuid4().hex[:6]
    page = new_page(width=width)
    page.goto(link(platform, client_id, user=user, roles=role))
    page.wait_for_url(f"{tool.base_url}/launch/**")
    assert page.locator(f'[data-view="{role}"]').count() == 1
    screenshot(page, f"{role}-{width}")
    violations = axe_check(page)
    assert violations == [], describe(violations)
