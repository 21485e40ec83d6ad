"""Fixtures for launch tests: the real platform peer, a registration of a running tool on
it, the browser, and the forge for crafted (bad) launches."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from lti_tool.lti.registrations import RegistrationInput
from lti_tool.usecases import admin
from peers.browser import LaunchBrowser
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer
from tests.lti_tool.launch_forge import LaunchForge
from tests.peers.platform_fixtures import launch_browser, platform_peer  # noqa: F401


@pytest.fixture
def platform(platform_peer: PlatformPeer) -> PlatformPeer:  # noqa: F811
    return platform_peer


def register_with(
    tool: ToolServer,
    platform: PlatformPeer,
    client_id: str,
    deployment_id: str,
    extra_deployments: tuple[str, ...] = (),
) -> None:
    """Register each side with the other, as an admin does."""
    admin.register_platform(
        tool.app.extensions["skillpath"],
        RegistrationInput(
            issuer=platform.issuer,
            client_id=client_id,
            auth_login_url=platform.auth_login_url,
            auth_token_url=platform.auth_token_url,
            keyset_url=platform.keyset_url,
            deployments=[deployment_id, *extra_deployments],
        ),
    )
    platform.register_tool(client_id, deployment_id, tool.login_url, tool.launch_url, tool.jwks_url)


def link(platform: PlatformPeer, client_id: str, **params: Any) -> str:
    """The URL of a learner's click on the course link, with the tests' usual people."""
    defaults: dict[str, Any] = {
        "client_id": client_id,
        "user": "learner-1",
        "roles": "learner",
        "name": "Ada Learner",
        "context_id": "course-1",
        "context_title": "Support 101",
        "resource_link_id": "link-1",
        "resource_link_title": "Week 1 path",
    }
    defaults.update(params)
    if defaults["name"] is None:
        del defaults["name"]
    return platform.launch_url(**defaults)


@pytest.fixture
def client_id(tool: ToolServer, platform: PlatformPeer) -> str:
    """A fresh registration of `tool` on the shared platform; its client id."""
    client_id = "client-" + uuid.uuid4().hex[:8]
    register_with(tool, platform, client_id, "deployment-1")
    return client_id


@pytest.fixture
def browser(launch_browser: LaunchBrowser) -> LaunchBrowser:  # noqa: F811
    return launch_browser


@pytest.fixture
def forge(tool: ToolServer, platform: PlatformPeer) -> Iterator[LaunchForge]:
    """Crafted launches signed with the platform's real key (its JWKS publishes it)."""
    client_id = "forge-" + uuid.uuid4().hex[:8]
    register_with(tool, platform, client_id, "dep-1", extra_deployments=("dep-2",))
    forge = LaunchForge(
        tool.base_url, platform.issuer, client_id, "dep-1", platform.key.private_key, platform.kid
    )
    yield forge
    forge.browser.close()
