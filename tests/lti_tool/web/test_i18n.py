"""Dates and numbers in the learner's locale and time zone (from the launch)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, g
from flask_babel import refresh

from lti_tool.lti.vocabulary import CUSTOM_CLAIM, LAUNCH_PRESENTATION_CLAIM
from lti_tool.storage import LaunchRecord
from lti_tool.web.i18n import day, number, percent


def _launch(claims: dict[str, object]) -> LaunchRecord:
    return LaunchRecord("l1", "iss", "cid", "dep", "LtiResourceLinkRequest", "sub", "learner",
                        None, "ctx", None, "link", None, claims, datetime.now(UTC))  # fmt: skip


def _fresh() -> None:
    """pytest-flask keeps one app context for the test: forget the request's caches."""
    for name in [n for n in vars(g) if n.startswith("skillpath_")]:
        g.pop(name)
    refresh()


def test_days_follow_the_links_time_zone_and_the_learners_locale(app: Flask) -> None:
    evening = "2026-12-01T20:00:00+00:00"
    with app.test_request_context("/"):
        _fresh()
        assert day(evening) == "Dec 1, 2026" and percent(0.826) == "83%"
    with app.test_request_context("/"):
        _fresh()
        g.skillpath_launch = _launch({CUSTOM_CLAIM: {"timezone": "Pacific/Auckland"}})
        assert day(evening) == "Dec 2, 2026"
    with app.test_request_context("/"):
        _fresh()
        g.skillpath_launch = _launch(
            {LAUNCH_PRESENTATION_CLAIM: {"locale": "fr-FR"}, CUSTOM_CLAIM: {"timezone": "No/Zone"}}
        )
        assert day(evening) == "1 déc. 2026"
        assert percent(0.5).replace("\u202f", " ").replace("\xa0", " ") == "50 %"
        assert number(1234.5, 1).replace("\u202f", " ").replace("\xa0", " ") == "1 234,5"


def test_each_request_formats_in_its_own_launchs_language(app: Flask) -> None:
    """The formats a request finds once (locale, time zone) are its own: requests that
    follow each other on one thread do not inherit the one before."""
    evening = "2026-12-01T20:00:00+00:00"
    presented = {
        "fr": {LAUNCH_PRESENTATION_CLAIM: {"locale": "fr-FR"}},
        "nz": {CUSTOM_CLAIM: {"timezone": "Pacific/Auckland"}},
        "en": {},
    }

    @app.route("/test-formats/<which>")
    def formats(which: str) -> str:
        g.skillpath_launch = _launch(presented[which])
        return f"{day(evening)} | {day(evening)}"  # the second call reads the kept formats

    client = app.test_client()
    for which, expected in [
        ("fr", "1 déc. 2026"),
        ("en", "Dec 1, 2026"),
        ("nz", "Dec 2, 2026"),
        ("fr", "1 déc. 2026"),
    ]:
        refresh()
        answer = client.get(f"/test-formats/{which}")
        assert answer.get_data(as_text=True) == f"{expected} | {expected}"
