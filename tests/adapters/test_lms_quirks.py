"""The per-LMS quirks added for installation and launches: which roles open the console,
roles an LMS leaves out, custom parameters it leaves unsubstituted, Canvas Cloud's shared
issuer, the placements a registration asks for."""

from __future__ import annotations

import logging

import pytest

from adapters.lms import adapter_named

ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"


def is_admin(roles: object) -> bool:
    return ADMIN in roles  # type: ignore[operator]


@pytest.mark.parametrize(
    ("code", "grants"),
    [("moodle", True), ("canvas", True), ("BlackboardLearn", True), ("openedx", False), ("", True)],
)
def test_who_opens_the_console(code: str, grants: bool) -> None:
    assert adapter_named(code).grants_console([ADMIN], is_admin) is grants


def test_brightspace_anonymous_deployments_send_no_role() -> None:
    assert adapter_named("desire2learn").role_for([], "other") == "learner"
    assert adapter_named("moodle").role_for([], "other") == "other"
    assert adapter_named("desire2learn").role_for(["x"], "instructor") == "instructor"


def test_unsubstituted_custom_parameters_are_left_out(caplog: pytest.LogCaptureFixture) -> None:
    custom = {"pathway": "p.1", "sis": "$Canvas.user.sisIntegrationId", "price": "$5", "n": 3}
    with caplog.at_level(logging.INFO, logger="skillpath.adapters"):
        kept = adapter_named("canvas").custom_parameters(custom)
        adapter_named("canvas").custom_parameters(custom)
    assert kept == {"pathway": "p.1", "price": "$5", "n": 3}
    assert sum("not substituted" in r.getMessage() for r in caplog.records) == 1


def test_canvas_cloud_issuer() -> None:
    canvas = adapter_named("canvas")
    assert canvas.issuer_may_differ("https://canvas.instructure.com", "school.instructure.com")
    assert canvas.issuer_may_differ("https://canvas.instructure.com", "sso.canvaslms.com")
    assert not canvas.issuer_may_differ("https://canvas.instructure.com", "evil.example")
    assert not canvas.issuer_may_differ("https://lms.example.edu", "school.instructure.com")
    assert not adapter_named("moodle").issuer_may_differ(
        "https://canvas.instructure.com", "school.instructure.com"
    )


def test_registration_placements() -> None:
    canvas = adapter_named("canvas")
    assert canvas.admin_placements == ("https://canvas.instructure.com/lti/account_navigation",)
    assert adapter_named("moodle").admin_placements == ()
    assert adapter_named("moodle").content_selection_placements == ()
