"""Sessions read the environment once when no proxy is configured, and keep honouring it
per request when one is. The environment is read by `config.Settings`, once; the session
factory is told what it said."""

from __future__ import annotations

from config import Settings
from xapi.http import new_session


def _session(environ: dict[str, str]) -> object:
    settings = Settings.from_env(environ)
    return new_session(trust_env=settings.http_trust_env, ca_bundle=settings.ca_bundle)


def test_without_a_proxy_the_environment_is_read_once() -> None:
    session = _session({"REQUESTS_CA_BUNDLE": "/etc/ssl/certs/company.pem"})
    assert session.trust_env is False  # type: ignore[attr-defined]
    assert session.verify == "/etc/ssl/certs/company.pem"  # type: ignore[attr-defined]


def test_with_a_proxy_the_session_keeps_reading_it() -> None:
    session = _session({"HTTPS_PROXY": "http://proxy.example:3128"})
    assert session.trust_env is True  # type: ignore[attr-defined]
    assert session.verify is True  # type: ignore[attr-defined]


def test_every_call_has_a_timeout_and_posts_are_never_retried() -> None:
    from xapi.http import safe_retries

    session = new_session(retries=safe_retries())
    assert session.timeout == (5.0, 20.0)
    retry = session.get_adapter("https://lms.example/").max_retries
    assert retry.is_retry("GET", 503) and not retry.is_retry("POST", 503)
