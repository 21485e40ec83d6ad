import logging
import re

import pytest

from config import RedactingFilter, Settings, SettingsError
from config.logging import redact


def test_defaults_follow_the_architecture_page() -> None:
    settings = Settings.from_env({})
    assert settings.base_url == "http://127.0.0.1:5000"
    assert settings.jwt_leeway_seconds == 5
    assert settings.redis_url == ""
    assert not settings.is_https
    # Dynamic registrations wait for an admin unless told otherwise.
    assert settings.registrations_need_approval
    assert not Settings.from_env(
        {"SKILLPATH_REGISTRATION_APPROVAL": "automatic"}
    ).registrations_need_approval


def test_variables_are_read_once_into_settings() -> None:
    settings = Settings.from_env(
        {
            "SKILLPATH_BASE_URL": "https://skillpath.example.org/",
            "SKILLPATH_JWT_LEEWAY_SECONDS": "30",
            "SKILLPATH_REDIS_URL": "redis://127.0.0.1:6379/0",
            "SKILLPATH_LRS_PASSWORD": "hunter2",
        }
    )
    assert settings.base_url == "https://skillpath.example.org"
    assert settings.is_https
    assert settings.jwt_leeway_seconds == 30
    assert settings.url_for_path("/lti/launch") == "https://skillpath.example.org/lti/launch"
    assert "hunter2" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("SKILLPATH_BASE_URL", "skillpath.example.org", "absolute http(s) URL"),
        ("SKILLPATH_JWT_LEEWAY_SECONDS", "soon", "must be an integer"),
        ("SKILLPATH_JWT_LEEWAY_SECONDS", "-1", "at least 0"),
        ("SKILLPATH_EMBEDDED_WORKER", "maybe", "true or false"),
        ("SKILLPATH_RATE_LIMIT_API", "lots", "a rate such as '600 per minute' or 'off'"),
        ("SKILLPATH_FRAME_ANCESTORS", "lms.example.edu", "origins such as"),
        ("SKILLPATH_FRAME_ANCESTORS", "https://lms.example.edu/path", "origins such as"),
        ("SKILLPATH_CATALOG_MAX_ITEMS", "0", "at least 1"),
        ("SKILLPATH_TRUSTED_PROXIES", "-1", "at least 0"),
        ("SKILLPATH_REGISTRATION_APPROVAL", "sometimes", "one of admin, automatic"),
    ],
)
def test_bad_values_are_named(name: str, value: str, says: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(says)) as info:
        Settings.from_env({name: value})
    assert name in str(info.value)


def test_secrets_never_reach_the_log(caplog: pytest.LogCaptureFixture) -> None:
    jwt_like = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2lnbmF0dXJl"
    assert "[jwt redacted]" in redact(f"posted id_token {jwt_like}")
    assert "hunter2" not in redact("lrs password=hunter2 for user")
    assert "hunter2" not in redact('{"client_secret": "hunter2"}')
    assert "abc.def" not in redact('"GET /launch/launch-1?t=abc.def HTTP/1.1" 200')
    assert "tk-123" not in redact('"GET /admin/enter?ticket=tk-123 HTTP/1.1" 303')
    pem = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----"
    assert "MIIE" not in redact(f"key {pem}")

    record = logging.LogRecord(
        "skillpath", logging.INFO, __file__, 1, "token=%s", (jwt_like,), None
    )
    RedactingFilter().filter(record)
    assert jwt_like not in record.getMessage()


@pytest.mark.parametrize(
    "hostile",
    [
        "GET /lti/login?login_hint=" + "h" * 100_000,
        "eyJ" * 40_000,
        "-----BEGIN PRIVATE KEY-----" * 4_000,
        "x" * 50_000 + "password",
    ],
)
def test_redacting_a_huge_line_takes_linear_time(hostile: str) -> None:
    import time

    started = time.perf_counter()
    cleaned = redact(hostile)
    assert time.perf_counter() - started < 0.5
    assert len(cleaned) < 8300 and "characters cut" in cleaned


def test_a_secret_inside_a_word_is_still_redacted() -> None:
    assert "hunter2" not in redact("X-Api-Token: hunter2")
    assert "hunter2" not in redact("db_password=hunter2")


def test_limits_and_origins_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "SKILLPATH_RATE_LIMIT_LOGIN": "off",
            "SKILLPATH_RATE_LIMIT_API": "10/second",
            "SKILLPATH_FRAME_ANCESTORS": "https://*.instructure.com, https://lms.example.edu",
            "SKILLPATH_CATALOG_MAX_BYTES": "1000",
            "SKILLPATH_TRUSTED_PROXIES": "1",
        }
    )
    assert settings.rate_limit_login == "off" and settings.rate_limit_api == "10/second"
    assert settings.frame_ancestors == ("https://*.instructure.com", "https://lms.example.edu")
    assert settings.catalog_max_bytes == 1000 and settings.trusted_proxies == 1
