"""pytest fixtures for the LTI 1.3 platform peer; load with
`pytest_plugins = ["tests.peers.platform_fixtures"]` or import the fixtures in a conftest."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from peers.browser import LaunchBrowser
from peers.lti_platform import PlatformPeer


@pytest.fixture(scope="session")
def platform_peer() -> Iterator[PlatformPeer]:
    """One platform for the whole session (its RSA key is generated once). Tests register
    their own tools; call `platform_peer.reset()` for an empty gradebook and roster."""
    peer = PlatformPeer().start()
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture
def launch_browser() -> Iterator[LaunchBrowser]:
    """A fresh browser (cookie jar) per test."""
    with LaunchBrowser() as browser:
        yield browser
