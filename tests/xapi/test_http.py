"""Sessions read the environment once when no proxy is configured, and keep honouring it
per request when one is."""

from __future__ import annotations

import pytest
import requests

from xapi.http import quiet_session

PROXY_VARIABLES = (
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
)


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARIABLES + ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_without_a_proxy_the_environment_is_read_once(no_proxy_env: pytest.MonkeyPatch) -> None:
    no_proxy_env.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/company.pem")
    session = quiet_session(requests.Session())
    assert session.trust_env is False
    assert session.verify == "/etc/ssl/certs/company.pem"


def test_with_a_proxy_the_session_keeps_reading_it(no_proxy_env: pytest.MonkeyPatch) -> None:
    no_proxy_env.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    session = quiet_session(requests.Session())
    assert session.trust_env is True
    assert session.verify is True
