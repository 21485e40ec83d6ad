"""Issue 14: Redis stopped mid-run. Launches then fail with a clear page (503, what happened
and what to do; /readyz says why) instead of a 500, and work again as soon as Redis is back.
Redis is taken away through a TCP proxy of ours (`peers.tcp_proxy`), never stopped."""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from config import Settings
from peers.browser import LaunchBrowser
from peers.lti_platform import PlatformPeer
from peers.tcp_proxy import TcpProxy, tcp_proxy
from tests.lti_tool.conftest import link

REDIS = os.environ.get("SKILLPATH_TEST_REDIS_URL", "")

pytestmark = pytest.mark.skipif(not REDIS, reason="needs SKILLPATH_TEST_REDIS_URL (real Redis)")


@pytest.fixture
def redis_proxy() -> Iterator[TcpProxy]:
    parts = urlsplit(REDIS)
    with tcp_proxy(parts.hostname or "127.0.0.1", parts.port or 6379) as proxy:
        yield proxy


@pytest.fixture
def settings(settings: Settings, redis_proxy: TcpProxy) -> Settings:
    """The test settings, with Redis reached through the proxy."""
    parts = urlsplit(REDIS)
    through = urlunsplit((parts.scheme, redis_proxy.address, parts.path, parts.query, ""))
    return settings.replace(redis_url=through)


def test_launches_fail_clearly_while_redis_is_away_and_recover(
    tool: object,
    platform: PlatformPeer,
    client_id: str,
    browser: LaunchBrowser,
    redis_proxy: TcpProxy,
) -> None:
    base_url = tool.base_url  # type: ignore[attr-defined]
    assert browser.launch(link(platform, client_id, user="before")).status_code == 200

    # Between a login and its launch: the state is in Redis, and Redis goes away.
    login_url = browser.start(link(platform, client_id, user="during"))
    form = browser.authorize(browser.login(login_url))
    redis_proxy.cut()
    answer = browser.post_form(form)
    assert answer.status_code == 503
    assert "session store" in answer.text and "open the link again" in answer.text
    assert "Traceback" not in answer.text
    # A new login says the same, quickly; readiness names the store.
    again = requests.get(login_url, timeout=10, allow_redirects=False)
    assert again.status_code == 503 and again.elapsed.total_seconds() < 5
    ready = requests.get(base_url + "/readyz", timeout=10)
    assert ready.status_code == 503 and ready.json()["problems"] == ["store: StoreUnavailable"]

    redis_proxy.restore()
    assert browser.launch(link(platform, client_id, user="after")).status_code == 200
    assert requests.get(base_url + "/readyz", timeout=10).status_code == 200
